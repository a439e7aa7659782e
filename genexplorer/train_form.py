"""The Train tab's form as plain data: its controls in order, and the settings they make. The tab (ui/training.py)
wires components to this; tests and the torture suite use ``start_arguments`` to drive its /train_start API.

The form has the run's own controls (RUN_CONTROLS), then one control per option name any family has (OPTION_NAMES),
shown only for the families that have it; /train_start takes their values in that order.
"""
from __future__ import annotations

import math

from .models import FAMILIES, family
from .models.family import OptionInfo

RUN_CONTROLS = ("name", "family", "dataset", "zip_file", "epochs", "batch_size", "lr", "seed", "device", "overwrite",
                "processes", "lr_schedule", "augment", "ema", "font_digits")
RUN_DEFAULTS = {"name": "mnist-myrun", "family": "vae", "dataset": "mnist", "zip_file": None, "epochs": 1,
                "batch_size": 128, "lr": 0, "seed": 0, "device": "cpu", "overwrite": False, "processes": 1,
                "lr_schedule": "constant", "augment": "none", "ema": None, "font_digits": False}
OPTION_NAMES = tuple(dict.fromkeys(info.name for f in FAMILIES.values() for info in f.option_info()))


class FormError(ValueError):
    """A control holds a value its option cannot take; the message names the control."""


def start_arguments(**values) -> tuple:
    """/train_start's arguments in order from keywords: the run's controls (RUN_DEFAULTS where not given), then
    every option control, the chosen family's defaults where not given (other families' controls: None)."""
    unknown = set(values) - set(RUN_CONTROLS) - set(OPTION_NAMES)
    if unknown:
        raise FormError(f"no such control on the Train tab: {sorted(unknown)}")
    run = {**RUN_DEFAULTS, **{k: v for k, v in values.items() if k in RUN_CONTROLS}}
    own = {info.name: info.default for info in family(run["family"]).option_info()}
    options = [values.get(name, own.get(name)) for name in OPTION_NAMES]
    return (*[run[name] for name in RUN_CONTROLS], *options)


def form_settings(kind: str, option_values: dict) -> dict:
    """The family's options from the form's controls ({name: value} for every control): only the chosen family's,
    an empty box meaning the family's own default. Checked again, as every run is, by TrainSettings."""
    settings = {}
    for info in family(kind).option_info():
        value = option_values.get(info.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue     # an empty box: the family's own default
        settings[info.name] = form_value(info, value)
    return settings


def form_value(info: OptionInfo, value):
    """A control's value as its option's type: a Number box gives floats, an int option wants a whole number."""
    what = info.name.replace("_", " ")
    if info.type is bool:
        return bool(value)
    if info.type is str:
        return value
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise FormError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise FormError(f"{what} must be a finite number, got {value!r}")
    if info.type is int:
        if number != int(number):
            raise FormError(f"{what} must be a whole number, got {value!r}")
        return int(number)
    return number
