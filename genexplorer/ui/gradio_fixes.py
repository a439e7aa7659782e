"""Fixes for Gradio 6.31, applied when the UI is imported.

1. A race in its image cache. Gradio names a cached output image by the hash of its bytes and rewrites the file every
time (truncate, then write). When two users get the same picture at the same moment
(ten students asking for GAN samples with seed 0), one request can stream the file while
another has just truncated it, and the browser or client receives a broken response
("Too little data for declared Content-Length"). Writing to a temporary name and renaming
it into place makes every reader see a complete file; an identical file already in place
is left alone.

2. Requests it cannot read answered with an error that has no message (found by
genexplorer.torture, which sends the page's API NaN, infinity and text where numbers go,
too few arguments and unknown endpoint names). A number field given NaN or infinity
crashed in rounding ("cannot convert float NaN to integer"), a request with missing
arguments raised a bare ValueError, and an unknown api_name was a 500 with a traceback.
Each now gets a message (or a 404) and nothing reaches the server log as a crash.

3. Its start-up check gives up on a busy machine: launch() asks its own page (HEAD /, 3 s) and at the first time-out
exits with "When localhost is not accessible, a shareable link must be created". An app killed mid-class and started
again while the class's pages kept asking it (devtools/classkill.py, 2 shared cores) exited so. It now waits up to
a minute for the page to answer.

4. It builds its web app (its routes and the page's whole config) four times at start-up: when the Blocks is made,
when its ``with`` ends, at queue(), and at launch(), which serves only the last. ``one_web_app()`` around building a
page leaves launch() the only one (``demo.app`` is None until then): 45 % of the page's build (cProfile).

5. It imports IPython (0.4 s, -X importtime) for notebook magics when it is imported, and to ask whether it runs in a
notebook each time it makes the page's config. Outside IPython the answer is no without importing it: ui/__init__.py
hides IPython while gradio imports, and the two checks answer False unless IPython is already loaded.

6. Each time it makes the page's config (three times by the first answer) it asks ``inspect.signature`` of every
block's ``__init__`` again: 1,600 signatures, half the time a config takes (cProfile). Each class's is kept on its
``__init__`` (``__signature__``, which inspect returns as it is): a config of this page 0.14 s -> 0.05 s.
"""
from __future__ import annotations

import contextlib
import inspect
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from fastapi import HTTPException
from gradio import networking, processing_utils, route_utils, routes, utils
from gradio.blocks import Block, Blocks
from gradio.components import Number
from gradio.exceptions import Error


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


_number_preprocess = Number.preprocess
_validate_inputs = Blocks.validate_inputs
_get_fn = route_utils.get_fn


def _checked_number_preprocess(self, payload):
    """A number field's value must be a finite number (or empty) before Gradio rounds it."""
    if payload is None:
        return None
    what = self.label or "this number"
    if isinstance(payload, bool) or not isinstance(payload, (int, float)):
        try:
            payload = float(payload)
        except (TypeError, ValueError):
            raise Error(f"{what} must be a number, got {str(payload)[:40]!r}") from None
    if not math.isfinite(payload):
        raise Error(f"{what} must be a finite number, got {payload}")
    return _number_preprocess(self, payload)


def _validate_inputs_with_message(self, block_fn, inputs):
    try:
        return _validate_inputs(self, block_fn, inputs)
    except ValueError as exc:
        raise Error(str(exc).splitlines()[0]) from None


def _get_fn_or_404(blocks, api_name, body):
    try:
        return _get_fn(blocks, api_name, body)
    except (route_utils.FnIndexInferError, KeyError, IndexError):
        raise HTTPException(status_code=404, detail=f"no API endpoint {api_name or body.fn_index!r}") from None


def _patient_url_ok(url: str, wait_s: float = 60.0) -> bool:
    """Gradio's networking.url_ok, waiting up to ``wait_s`` for an answer instead of 3 s."""
    import httpx

    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            if httpx.head(url, timeout=max(1.0, deadline - time.monotonic()), verify=False).status_code in (
                    200, 401, 301, 302, 303, 307, 308):
                return True
        except (ConnectionError, httpx.ConnectError, httpx.TimeoutException):
            pass
        time.sleep(0.5)
    return False


def _in_notebook(check):
    """Gradio's colab_check / ipython_check, False without importing IPython when nothing has loaded it (fix 5)."""
    return lambda: "IPython" in sys.modules and check()


def _keep_signatures() -> None:
    """Every block class's ``__init__`` signature, worked out once (fix 6)."""
    classes = [Block]
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        init = cls.__dict__.get("__init__")
        if inspect.isfunction(init) and "__signature__" not in init.__dict__:
            init.__signature__ = inspect.signature(init)


@contextlib.contextmanager
def one_web_app():
    """While the page is built, Gradio builds no web app (fix 4); launch() builds the one it serves."""
    build = routes.App.__dict__["create_app"]
    routes.App.create_app = staticmethod(lambda *args, **kwargs: None)
    try:
        yield
    finally:
        routes.App.create_app = build


def apply() -> None:
    processing_utils.save_pil_to_cache = _save_pil_to_cache_atomically
    Number.preprocess = _checked_number_preprocess
    Blocks.validate_inputs = _validate_inputs_with_message
    route_utils.get_fn = _get_fn_or_404
    networking.url_ok = _patient_url_ok
    utils.colab_check, utils.ipython_check = _in_notebook(utils.colab_check), _in_notebook(utils.ipython_check)
    _keep_signatures()
