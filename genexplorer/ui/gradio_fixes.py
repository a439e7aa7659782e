"""A fix for a race in Gradio 6.31's image cache, applied when the UI is imported.

Gradio names a cached output image by the hash of its bytes and rewrites the file every
time (truncate, then write). When two users get the same picture at the same moment
(ten students asking for GAN samples with seed 0), one request can stream the file while
another has just truncated it, and the browser or client receives a broken response
("Too little data for declared Content-Length"). Writing to a temporary name and renaming
it into place makes every reader see a complete file; an identical file already in place
is left alone.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradio import processing_utils


def _save_pil_to_cache_atomically(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    target = (folder / f"{name}.{format}").resolve()
    if target.exists() and target.stat().st_size == len(data):
        return str(target)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-")
    with os.fdopen(handle, "wb") as f:
        f.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)
    return str(target)


def apply() -> None:
    processing_utils.save_pil_to_cache = _save_pil_to_cache_atomically
