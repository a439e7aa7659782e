"""The checkpoints the pages show: loaded once, shared read-only by every session, and picked by what they can do.

A *role* is the part a checkpoint plays on a page (the Draw tab's "VAE" column, the Generate tab's GAN). A page
shows the checkpoint "<dataset>-<role>" there, if it can do what the role needs: its abilities, read from its
config.json without loading its weights (``models.abilities_of``). The name is only a preference (a model
retrained under it replaces the shipped one); what a checkpoint can do is never read from its name.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import NamedTuple

from .. import checkpoints
from ..models import GenerativeModel, abilities_of
from .inputs import ExploreError

# Every role a page gives a checkpoint, and what a checkpoint needs to be able to do to play it.
ROLES: dict[str, tuple[str, ...]] = {
    # the autoencoders (Draw, Noise, Interpolate, Upload, the zoo, the 2-D map): a code and back
    **{role: ("encodes", "decodes") for role in ("ae", "dae", "ae2d", "pca", "ae-dense", "ae-over", "ae-sparse")},
    # the VAEs: the same, with a bound on -log p(x) (the Draw tab's nats; inpainting by code optimisation)
    "vae": ("encodes", "decodes", "bound_likelihood"),
    "vae2d": ("encodes", "decodes", "bound_likelihood"),
    "cvae": ("encodes", "decodes", "bound_likelihood", "conditional"),
    "gan": ("decodes", "samples"),
    "cgan": ("decodes", "samples", "conditional"),
    "pixelcnn": ("exact_likelihood", "samples", "fills_holes"),
    "classifier": ("reads",),
    "context": ("fills_holes",), "context-l2": ("fills_holes",),
    "pix2pix": ("translates",), "pix2pix-l1": ("translates",),
    # the walkers from noise (the Diffusion tab, inpainting on Upload and Complete): they sample by denoising
    "diffusion": ("samples", "denoises", "fills_holes"), "flow": ("samples", "denoises", "fills_holes"),
}
LISTING_TTL_S = 2.0


class Listed(NamedTuple):
    """What a checkpoint's config.json says, read without loading its weights."""
    dataset: str
    kind: str
    abilities: frozenset[str]


class ModelCache:
    """Loaded checkpoints, shared read-only by every session. A checkpoint retrained on
    disk (its config.json changed) is reloaded on next use."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else None
        self._models: dict[str, tuple[float, GenerativeModel]] = {}
        # name -> (config.json's mtime, what it says): the pickers and every draw ask for names,
        # and parsing 16 JSON files each time was a third of a draw's time.
        self._headers: dict[str, tuple[int, Listed]] = {}
        # The whole listing, while the checkpoints folder's own mtime is unchanged (saving, replacing or
        # deleting a checkpoint renames a folder in it) and for at most LISTING_TTL_S: every live answer
        # asks for it, and statting 35 checkpoints each time was ~0.7 ms of a ~9 ms answer.
        self._listing: tuple[int, float, dict[str, Listed]] | None = None
        self._lock = threading.Lock()

    def folder(self, name: str) -> Path:
        return checkpoints.resolve(name, self.root, allow_paths=False)

    def get(self, name: str) -> GenerativeModel:
        folder = self.folder(name)
        stamp = (folder / checkpoints.CONFIG_FILE).stat().st_mtime
        with self._lock:
            cached = self._models.get(name)
            if cached is not None and cached[0] == stamp:
                return cached[1]
        model = checkpoints.load(folder)
        with self._lock:
            self._models[name] = (stamp, model)
        return model

    def names(self, dataset: str | None = None, *, able: str = "decodes") -> list[str]:
        """Names of the checkpoints (of ``dataset``) whose models can do ``able`` (one of models.ABILITIES). By
        default those that decode a code into a picture: the sliders' (a picker never offers the classifier)."""
        return [name for name, listed in self.listing(dataset).items() if able in listed.abilities]

    def listing(self, dataset: str | None = None) -> dict[str, Listed]:
        """{name: Listed} of every readable checkpoint (of ``dataset``), from one look at the folder: a
        handler that needs several roles' models lists once (a listing stats every checkpoint)."""
        return {name: listed for name, listed in self._all_headers().items()
                if dataset is None or listed.dataset == dataset}

    def _all_headers(self) -> dict[str, Listed]:
        root = self.root or checkpoints.checkpoints_dir()
        try:
            stamp = root.stat().st_mtime_ns
        except OSError:
            return {}
        now = time.monotonic()
        cached = self._listing
        if cached is not None and cached[0] == stamp and now - cached[1] < LISTING_TTL_S:
            return cached[2]
        headers = {}
        for name in checkpoints.list_checkpoints(self.root):
            header = self._header(name)
            if header is not None:     # a broken folder is reported when someone picks it, not listed
                headers[name] = header
        self._listing = (stamp, now, headers)
        return headers

    def _header(self, name: str) -> Listed | None:
        """What a listed checkpoint's config.json says, re-read only when it changed."""
        folder = (self.root or checkpoints.checkpoints_dir()) / name
        try:
            stamp = (folder / checkpoints.CONFIG_FILE).stat().st_mtime_ns
        except OSError:
            return None
        cached = self._headers.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            config = checkpoints.read_config(folder)
        except checkpoints.CheckpointError:
            return None
        try:
            abilities = abilities_of(config["kind"], config.get("model_config"))
        except ValueError:      # a family this version does not know: listed, but able to do nothing here
            abilities = frozenset()
        header = Listed(config["dataset"], config["kind"], abilities)
        self._headers[name] = (stamp, header)
        return header

    # ----- roles
    def default(self, dataset: str, role: str, *, listing: dict[str, Listed] | None = None) -> str | None:
        """The checkpoint that plays ``role`` (a key of ROLES) for ``dataset``: "<dataset>-<role>" when it is
        there and can do what the role needs, else None. ``listing``: this dataset's listing() if already read."""
        return self._casting(dataset, role, listing)[0]

    def _casting(self, dataset: str, role: str, listing: dict[str, Listed] | None) -> tuple[str | None, str]:
        """-> (the checkpoint playing ``role``, or None and why not)."""
        if role not in ROLES:
            raise ExploreError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        name = f"{dataset}-{role}"
        listed = (self.listing(dataset) if listing is None else listing).get(name)
        if listed is None:
            return None, f"no {role} checkpoint for {dataset}"
        lacking = [ability for ability in ROLES[role] if ability not in listed.abilities]
        if lacking:
            return None, f"{name} (a {listed.kind}) cannot play this part: it lacks {', '.join(lacking)}"
        return name, ""

    def players(self, dataset: str, role: str) -> list[str]:
        """Names of the checkpoints of ``dataset`` able to play ``role``: a picker's choices (the role's own
        checkpoint is the default, any other with the abilities may stand in)."""
        if role not in ROLES:
            raise ExploreError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        return [name for name, listed in self.listing(dataset).items() if set(ROLES[role]) <= listed.abilities]

    def load_role(self, dataset: str, role: str, *, listing: dict[str, Listed] | None = None):
        """(name, model) of the checkpoint playing ``role``, or (None, None) when none does.
        A broken checkpoint raises CheckpointError naming its folder."""
        name = self.default(dataset, role, listing=listing)
        return (name, self.get(name)) if name else (None, None)

    def load_roles(self, dataset: str, roles) -> tuple[dict[str, tuple[str, GenerativeModel]], list[str]]:
        """{title: (name, model)} for each (role, title) whose checkpoint loads, and a note for each that does not:
        one broken checkpoint must not take the other models' results down with it."""
        models, notes = {}, []
        listing = self.listing(dataset)
        for role, title in roles:
            name, why = self._casting(dataset, role, listing)
            if name is None:
                notes.append(f"{title}: {why}")
                continue
            try:
                models[title] = (name, self.get(name))
            except checkpoints.CheckpointError as exc:
                notes.append(f"{title}: {exc}")
        return models, notes
