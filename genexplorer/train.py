"""The training command line, generated from the run settings and each family's options.

    python -m genexplorer.train --model vae --dataset fashion --latent-dim 16 --epochs 20 \\
        --device auto --seed 0 --out checkpoints/fashion-vae
    python -m genexplorer.train --model gan --help      # the run's settings and the GAN's own options

The loop itself is ``genexplorer.training.fit``; the CLI, the app's Train tab (through a subprocess running this
module) and the tests all drive it.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from . import checkpoints
from .augment import augment, random_affine  # noqa: F401 - the names older code imports from here
from .devices import Distributed, pick_device  # noqa: F401
from .latent_maps import latent_maps  # noqa: F401
from .models import FAMILIES, ALIASES, family
from .models.family import OptionInfo, describe
from .training import (LIVE_GENERATOR_FILE, AveragedWeights, Progress, RunSettings, TrainingError,  # noqa: F401
                       TrainingStopped, TrainSettings, evaluate, fit, lr_factor)

# Run settings the command line fills in itself, or that are not flags.
REQUIRED = ("model", "out")


def add_options(group, infos: list[OptionInfo], *, required=()) -> None:
    """One flag per option: its type, choices and help; a bool is a switch (--no-x for one that is on by default).
    Defaults stay out of argparse (SUPPRESS), so a flag not given leaves the family's own default in place."""
    for info in infos:
        shown = "" if info.default in (None, "") else f" (default {info.default})"
        if info.type is bool:
            # --x turns it on, --no-x off: a variant may have it on by default (the cGAN is conditional)
            group.add_argument(info.flag, dest=info.name, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=info.help + shown)
            continue
        limits = f" [{info.low:g} to {info.high:g}]" if info.low is not None and info.high is not None else ""
        group.add_argument(info.flag, dest=info.name, type=info.type, choices=info.choices,
                           default=argparse.SUPPRESS, required=info.name in required,
                           help=info.help + limits + shown)


def build_parser(kind: str | None = None) -> argparse.ArgumentParser:
    """The parser for ``kind``'s runs: the shared settings, then that family's options (none before --model)."""
    kinds = "; ".join(f"{k}: {f.title}" for k, f in FAMILIES.items())
    parser = argparse.ArgumentParser(prog="python -m genexplorer.train",
                                     description=__doc__.split("\n\n")[0] + f" Families: {kinds}.",
                                     epilog="python -m genexplorer.train --model KIND --help lists KIND's options.")
    add_options(parser.add_argument_group("every run"), describe(RunSettings), required=REQUIRED)
    if kind is not None:
        chosen = family(kind)
        add_options(parser.add_argument_group(f"{kind} options ({chosen.title})"), chosen.option_info())
    parser.add_argument("--status-file", help="keep the run's live state in this JSON file (used by the app)")
    return parser


def parse_args(argv=None) -> tuple[TrainSettings, dict]:
    """-> (the training settings, the CLI-only options: status_file)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--model", choices=sorted([*FAMILIES, *ALIASES]))
    known, _ = first.parse_known_args(argv)
    args = vars(build_parser(known.model).parse_args(argv))
    cli_only = {"status_file": args.pop("status_file")}
    try:
        return TrainSettings(**args), cli_only
    except (TypeError, ValueError) as exc:
        build_parser(known.model).error(str(exc))


def command_line(settings: dict) -> list[str]:
    """The flags that give ``settings`` (flat names, as TrainSettings takes them): the app's runs start so."""
    infos = describe(RunSettings) + family(settings.get("model", "vae")).option_info()
    defaults = {info.name: info.default for info in infos}
    argv = []
    for name, value in settings.items():
        flag = "--" + name.replace("_", "-")
        if value is None:
            continue
        if isinstance(value, bool):
            if value != defaults.get(name, False):
                argv.append(flag if value else f"--no-{name.replace('_', '-')}")
            continue
        argv += [flag, str(value)]
    return argv


class StatusFile:
    """The run's state as JSON, rewritten atomically about once a second, so another
    process (the app's training tab) can show it live and after a restart."""

    def __init__(self, path: str | None):
        self.path = Path(path) if path else None
        self.data: dict = {"state": "starting", "message": "", "pid": os.getpid(), "started": time.time(),
                           "progress": {}, "curve": [], "epochs": []}
        self._last_write = 0.0

    def update(self, progress: Progress) -> None:
        if progress.phase == "step":
            position = progress.epoch - 1 + progress.step / max(progress.steps_per_epoch, 1)
            self.data["curve"].append({"epoch": round(position, 4), **{k: round(v, 5) for k, v in progress.losses.items()}})
            del self.data["curve"][:-3000]
        if progress.phase == "epoch":
            self.data["epochs"].append({"epoch": progress.epoch, **progress.metrics})
        self.data["state"] = "running"
        self.data["progress"] = {"epoch": progress.epoch, "epochs": progress.epochs, "step": progress.step,
                                 "steps_per_epoch": progress.steps_per_epoch, "images_per_s": round(progress.images_per_s, 1),
                                 "eta_s": round(progress.eta_s, 1), "losses": progress.losses}
        self.write(force=progress.phase != "step")

    def finish(self, state: str, message: str = "", **extra) -> None:
        self.data.update(state=state, message=message, finished=time.time(), **extra)
        self.write(force=True)

    def write(self, *, force: bool = False) -> None:
        if self.path is None or (not force and time.time() - self._last_write < 1.0):
            return
        self._last_write = time.time()
        self.data["updated"] = self._last_write
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.data, default=str))
        os.replace(tmp, self.path)


def main(argv=None) -> int:
    status = StatusFile(None)
    stop_requested = threading.Event()
    # SIGTERM (the app's Cancel button) ends the run at the next step; the last finished epoch stays saved.
    signal.signal(signal.SIGTERM, lambda signum, frame: stop_requested.set())
    try:
        settings, cli_only = parse_args(argv)
        # Under torchrun only rank 0 reports; the other processes train and stay quiet.
        status = StatusFile(cli_only["status_file"] if Distributed.from_env().is_main else None)
        status.data["settings"] = settings.to_dict()
        status.write(force=True)
        last_print = [0.0]

        def show(progress: Progress) -> None:
            status.update(progress)
            if progress.phase == "step" and time.time() - last_print[0] > 2.0:
                last_print[0] = time.time()
                print(progress.line(), flush=True)

        out = fit(settings, on_step=show, should_stop=stop_requested.is_set, log=lambda message: print(message, flush=True))
        status.finish("done", f"saved {out}", checkpoint=str(out))
    except TrainingStopped as exc:
        print(f"cancelled: {exc}", file=sys.stderr)
        status.finish("cancelled", str(exc))
        return 3
    except KeyboardInterrupt:
        print("interrupted: the last finished epoch is saved", file=sys.stderr)
        status.finish("cancelled", "interrupted; the last finished epoch is saved")
        return 130
    except (ValueError, FileExistsError, TrainingError, checkpoints.CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        status.finish("failed", str(exc))
        return 2
    except OSError as exc:
        # Disk full, permissions...: the atomic save left no half-written checkpoint behind.
        message = f"{exc.strerror or exc} ({exc.filename or 'while saving'}); no half-written checkpoint was left"
        print(f"error: {message}", file=sys.stderr)
        status.finish("failed", message)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
