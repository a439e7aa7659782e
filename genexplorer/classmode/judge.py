"""The real ``Judge``: the shipped checkpoints read a class's drawings.

``<dataset>-classifier`` reads the drawing, ``<dataset>-vae`` rebuilds it (its posterior mean, as the Draw tab
shows it) and ``<dataset>-vae2d`` places it on the 2-D latent map, the map the Latent map tab draws of the test
set (``explore.MapStore``: the 2-D code itself, or the stored PCA / UMAP coordinates of ``latent_map.safetensors``
for a wider code). Nothing loads until the first drawing arrives. The board's "each model's reconstruction" uses
the roles it is given (the page passes the Draw tab's autoencoders).
"""
from __future__ import annotations

import os

import numpy as np

from .. import explore
from ..checkpoints import CheckpointError
from ..explore import MapStore, ModelCache, as_batch

Roles = tuple[tuple[str, str], ...]   # (role, title): e.g. (("vae", "VAE"),)


class CheckpointJudge:
    """The Judge of one dataset, over a model cache shared with the page (or its own)."""

    def __init__(self, dataset: str, cache: ModelCache, maps: MapStore, rebuild_roles: Roles = ()):
        self.dataset, self.cache, self.maps, self.rebuild_roles = dataset, cache, maps, rebuild_roles

    def _name(self, role: str) -> str:
        name = self.cache.default(self.dataset, role)
        if name is None:
            raise CheckpointError(f"the class mode needs a {self.dataset}-{role} checkpoint in checkpoints/")
        return name

    def read(self, picture: np.ndarray) -> tuple[str, list[float]]:
        model = self.cache.get(self._name("classifier"))
        every = dict(explore.classify_many(model, as_batch(picture), top=len(model.class_names))[0])
        return max(every, key=every.get), [every[name] for name in model.class_names]

    def rebuild_error(self, picture: np.ndarray) -> float:
        return explore.reconstruct(self.cache.get(self._name("vae")), as_batch(picture)).mse

    def rebuilds(self, picture: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """-> (title, uint8 (28, 28)) for each rebuild role that has a checkpoint (a conditional model is told
        its most likely class), in the roles' order."""
        answers = []
        for role, title in self.rebuild_roles:
            name = self.cache.default(self.dataset, role)
            if name is not None:
                answers.append((title, explore.reconstruct_images(self.cache.get(name), as_batch(picture), [None])[0]))
        return answers

    def map_source(self) -> tuple[str, str]:
        """-> (checkpoint name, map method) of the map the drawings are placed on (the page draws the same)."""
        name = self._name("vae2d")
        return name, self.maps.methods(name)[0]

    def map_position(self, picture: np.ndarray) -> tuple[float, float]:
        name, method = self.map_source()
        x, y = self.maps.place(name, as_batch(picture), method)
        return float(x), float(y)

    def nearest_distance(self, x: float, y: float) -> float:
        name, method = self.map_source()
        coords = self.maps.get(name, method).coords
        return float(np.sqrt(((coords - np.array([x, y], dtype=coords.dtype)) ** 2).sum(1)).min())


class CheckpointJudges:
    """dataset -> its CheckpointJudge. Give the page's ``ModelCache`` and ``MapStore`` to share their models, and
    ``rebuild_roles`` ((role, title), ...) for the board's reconstructions."""

    def __init__(self, cache: ModelCache | None = None, maps: MapStore | None = None, *, rebuild_roles: Roles = ()):
        self.cache = cache or ModelCache(os.environ.get("GENEXPLORER_CHECKPOINTS") or None)
        self.maps = maps or MapStore(self.cache)
        self.rebuild_roles = tuple(rebuild_roles)

    def __call__(self, dataset: str) -> CheckpointJudge:
        return CheckpointJudge(dataset, self.cache, self.maps, self.rebuild_roles)
