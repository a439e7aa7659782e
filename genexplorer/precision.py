"""The live previews' arithmetic: bfloat16 where the CPU has it natively, float32 elsewhere.

While a stroke or a drag goes on, the live channel (ui/live.py) paints a preview every few tens of
milliseconds for every student; the Gradio event at the end of the gesture paints the final picture
and computes every figure in float32. On a CPU with AMX or AVX-512 BF16 units (recent Xeons) the
previews' convolutions run 2.6-2.8x faster in bfloat16 (`python -m genexplorer.bench --classroom`
measures the whole app), and the pictures differ from float32 ones by a grey level or two in 255
(measured on 2,000 test pictures per model: mean 0.14, 99th percentile 2). On a CPU without those
units bfloat16 is emulated and slower, so there it stays off.

GENEXPLORER_LIVE_BFLOAT16=0 turns it off, =1 forces it on; unset (or "auto"): on where native.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import os
import weakref

import torch

ENVIRONMENT_VARIABLE = "GENEXPLORER_LIVE_BFLOAT16"


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 matrix products in hardware (AMX tiles or AVX-512 BF16)."""
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")]
    try:
        return any(check() for check in checks if check is not None)
    except Exception:  # noqa: BLE001 - a private probe that may change between torch versions: assume not
        return False


@functools.cache
def live_bfloat16() -> bool:
    """Whether the live previews run in bfloat16 (decided once per process)."""
    setting = os.environ.get(ENVIRONMENT_VARIABLE, "auto").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    return native_bfloat16()


def live_arithmetic() -> contextlib.AbstractContextManager:
    """The context the live previews' model passes run in: CPU autocast to bfloat16, or nothing.
    Autocast runs convolutions and matrix products in bfloat16 and keeps sums and losses in float32."""
    if live_bfloat16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


# A model's bfloat16 twin, kept while the model is: autocast would cast every weight again for every
# micro-batch, which made a batch of 3 drawings 25 % slower than float32; the twin's weights are cast once.
_twins: "weakref.WeakKeyDictionary[torch.nn.Module, torch.nn.Module]" = weakref.WeakKeyDictionary()


def live_model(model: torch.nn.Module) -> torch.nn.Module:
    """The model the live previews use: a bfloat16 copy when they run in bfloat16, else the model itself.
    Use it inside live_arithmetic(). A checkpoint reloaded is a new model, so it gets a new twin."""
    if not live_bfloat16() or next(model.parameters(), torch.empty(0)).device.type != "cpu":
        return model
    twin = _twins.get(model)
    if twin is None:   # two threads may both make one; either is right
        twin = _twins[model] = copy.deepcopy(model).to(torch.bfloat16)
    return twin
