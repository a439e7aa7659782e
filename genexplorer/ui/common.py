"""What every tab shares: the model cache, error translation and picture helpers."""
from __future__ import annotations

import base64
import functools
import hashlib
import os
import tempfile
import time
import uuid
from pathlib import Path

import gradio as gr
import numpy as np

from ..canvas_payload import CanvasError
from ..checkpoints import CheckpointError
from ..ganlab import ToyBoard
from ..pixels import JobBoard
from ..data import DatasetError, dataset_info
from ..explore import ExploreError, MapStore, ModelCache, as_batch, preprocess_picture  # noqa: F401 - the tabs' one way in
from ..images import PIXEL_SCALE, png_bytes, upscale
from ..models import UnsupportedOperation
from ..preprocess import BlankImageError

DATASETS = [("Digits (MNIST)", "mnist"), ("Clothes (Fashion-MNIST)", "fashion")]
# Problems a user can cause: shown as a message, never a crash.
USER_ERRORS = (ExploreError, BlankImageError, CheckpointError, CanvasError, DatasetError,
               UnsupportedOperation, ValueError, TypeError, OSError)
EXPORT_DIR = Path(tempfile.gettempdir()) / "genexplorer-exports"
EXPORT_MAX_AGE_S = 3600  # an export is downloaded at once; older ones are deleted

cache = ModelCache(os.environ.get("GENEXPLORER_CHECKPOINTS") or None)
maps = MapStore(cache)
pixel_jobs = JobBoard()      # PixelCNN drawings in progress, every user's (ids are unguessable)
lab_toys = ToyBoard()        # the GAN lab's toys, one per page


def picture(image28: np.ndarray | None, scale: int = PIXEL_SCALE) -> np.ndarray | None:
    """uint8 (28, 28) -> uint8 upscaled copy (nearest neighbour), or None."""
    if image28 is None:
        return None
    return upscale(np.asarray(image28, dtype=np.uint8), scale)


def data_url(picture: np.ndarray | None) -> str | None:
    """A uint8 picture -> a PNG data URL for the page (None stays None): the live channel's answers, tables."""
    return None if picture is None else "data:image/png;base64," + base64.b64encode(png_bytes(picture)).decode("ascii")


def user_errors(function):
    """Turn the errors a user can cause into a clear message in the page (and through the API)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except gr.Error:
            raise
        except USER_ERRORS as exc:
            raise gr.Error(str(exc) or exc.__class__.__name__, print_exception=False) from None
    return wrapper


def shown_on_page(function, count: int, message: int, *, cleared: bool = False):
    """The page's face of a ``user_errors`` handler with ``count`` outputs: an error the user caused becomes the
    text of output ``message`` (one message, beside the control that caused it) instead of Gradio's red "Error"
    badge over every output and a toast; the other outputs are emptied (``cleared``: they came from the input that
    failed) or left as they are."""
    @functools.wraps(function)
    def page(*args):
        try:
            return function(*args)
        except gr.Error as exc:
            answer = [None if cleared else gr.skip()] * count
            answer[message] = f"**{exc.message}**"
            return answer
    return page


MISSING_PICTURE = {"drawing": "Nothing is drawn yet: draw on the Draw tab first (or pick an example there)",
                   "upload": "Nothing is uploaded yet: upload a picture on the Upload tab first"}


def available_source(source: str, drawing, uploaded=None, *, fallback: str) -> tuple[str, str]:
    """A picker's source, or ``fallback`` when it asks for the user's drawing or upload and there is none yet.
    -> (the source to use, "" or the message saying why the picker went back to ``fallback``)."""
    missing = (source == "drawing" and drawing is None) or (source == "upload" and uploaded is None)
    return (fallback, f"**{MISSING_PICTURE[source]}; showing the test picture.**") if missing else (source, "")


def api_endpoint(function, inputs, outputs, api_name: str) -> None:
    """``function`` as an API endpoint only: on a hidden button the page never clicks (its errors stay errors)."""
    gr.Button(visible=False).click(function, inputs, outputs, api_name=api_name, show_progress="hidden")


def page_event(triggers, function, inputs, outputs, *, message, api_name=None, cleared=False, **kwargs):
    """Wire a ``user_errors`` handler to ``triggers`` (one event or a list) for the page, its errors shown once as
    ``message``'s text (shown_on_page). The API keeps its errors: with ``api_name`` the same handler is also an
    endpoint on a hidden button the page never clicks, so API clients still get an error, not a message.
    -> the page's event (for .then)."""
    if api_name:
        api_endpoint(function, inputs, outputs, api_name)
    page = shown_on_page(function, len(outputs), outputs.index(message), cleared=cleared)
    return gr.on(triggers if isinstance(triggers, list) else [triggers], page, inputs, outputs, api_name=False, **kwargs)


def model_input(picture28) -> "torch.Tensor":  # noqa: F821
    """A stored uint8 (28, 28) picture -> (1, 1, 28, 28) float model input."""
    return as_batch(np.asarray(picture28, dtype=np.uint8))


def checked_dataset(dataset: str) -> str:
    if dataset not in ("mnist", "fashion"):
        raise ExploreError(f"unknown dataset {dataset!r}: use mnist or fashion")
    return dataset


def model_or_none(dataset: str, role: str, *, listing=None):
    """(name, model) of the checkpoint playing ``role`` (explore.ROLES) for ``dataset``, or (None, None).
    A broken checkpoint raises CheckpointError naming its folder."""
    return cache.load_role(dataset, role, listing=listing)


def models_for(dataset: str, roles) -> tuple[dict, list[str]]:
    """{title: (name, model)} for each (role, title) whose checkpoint loads, and a note for each that does not."""
    return cache.load_roles(dataset, roles)


def export_file(data: bytes, suffix: str) -> str:
    """Write bytes to the export folder (a temp folder Gradio may serve), named by their hash so
    the same export is one file; exports older than an hour are deleted, so the folder cannot
    grow without bound."""
    EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in EXPORT_DIR.glob("genexplorer-*"):
        try:
            if now - old.stat().st_mtime > EXPORT_MAX_AGE_S:
                old.unlink()
        except OSError:
            pass  # another request deleted it first
    path = EXPORT_DIR / f"genexplorer-{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
    if not path.exists():
        partial = path.with_name(f"{path.name}.{uuid.uuid4().hex[:6]}.part")
        partial.write_bytes(data)
        os.replace(partial, path)  # two users exporting the same strip never see half a file
    return str(path)


def refresh_choices(dataset: str, current: str | None, able: str = "decodes"):
    """A model picker's choices (the checkpoints that can do ``able``) re-read from disk: new checkpoints appear
    without a restart."""
    names = cache.names(dataset, able=able)
    return gr.update(choices=names, value=current if current in names else (names[0] if names else None))


def class_label(value) -> int | None:
    """A class picker's value -> a class number, or None for "most likely" / none (-1 or None)."""
    try:
        label = None if value is None else int(value)
    except (TypeError, ValueError, OverflowError):
        raise ExploreError(f"the class must be a class number, got {value!r}") from None
    return None if label is None or label < 0 else label


def class_choices(dataset: str, *, most_likely: bool = False) -> list[tuple[str, int]]:
    choices = [(name, index) for index, name in enumerate(dataset_info(dataset).class_names)]
    return ([("most likely", -1)] if most_likely else []) + choices


def image_output(label: str, **kwargs) -> gr.Image:
    """A PNG image output (webp would smear 28x28 pictures) with pixelated scaling."""
    kwargs.setdefault("height", 150)
    kwargs.setdefault("width", 150)
    kwargs.setdefault("min_width", 100)
    return gr.Image(label=label, type="numpy", format="png", interactive=False, elem_classes=["ge-pixels"],
                    buttons=["download"], **kwargs)
