"""Ship a finished training run as a checkpoint of the app:

    python tools/ship.py runs/train/fashion-cgan fashion-cgan [--half]

Copies the run's folder into checkpoints/NAME without its optimiser state (training_state.safetensors: only
--resume needs it), after checking the run is complete and loads. --half stores the floating-point weights as
float16: half the bytes, for the large generators, so that every shipped checkpoint together stays under the
180 MB budget. The loader copies them into the model's float32 parameters, so nothing else changes; a cGAN
stored this way draws the same pictures to within 0.002 (one grey level on under 1 % of the pixels).
A run of an encoder trained with --no-latent-maps gets its PCA and UMAP maps of the test set here.
The old checkpoint of that name is replaced only once the new folder is complete.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genexplorer import checkpoints  # noqa: E402

def skipped(name: str) -> bool:
    """Only --resume needs the optimiser state and the live (not averaged) weights of an --ema run."""
    return name == "training_state.safetensors" or (name.startswith("live_") and name.endswith(".safetensors"))


def ship(run: Path, name: str, *, half: bool = False, root: Path = ROOT / "checkpoints") -> Path:
    import torch
    from safetensors.torch import load_file, save_file

    config = checkpoints.read_config(run)
    if not config.get("complete"):
        raise SystemExit(f"{run} is not a complete run: finish it first (python -m genexplorer.train --resume ...)")
    if not checkpoints.NAME_PATTERN.match(name):
        raise SystemExit(f"{name!r} is not a valid checkpoint name (letters, digits, '-', '_', '.')")
    target = root / name
    staging = root / f".{name}.shipping"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for path in run.iterdir():
        if path.is_file() and not skipped(path.name):
            shutil.copy2(path, staging / path.name)
    if half:
        weights = staging / checkpoints.WEIGHTS_FILE
        state = load_file(str(weights))
        save_file({k: v.to(torch.float16) if v.is_floating_point() else v for k, v in state.items()}, str(weights))
    model = checkpoints.load(staging)          # it loads, or nothing is replaced
    if model.can("encodes") and not (staging / checkpoints.LATENT_MAP_FILE).exists():
        # A run trained with --no-latent-maps (quicker experiments): the app's Latent map tab needs them.
        from safetensors.torch import save_file as save_tensors
        from genexplorer.devtools.quality import load_split
        from genexplorer.train import latent_maps

        test = load_split(config["dataset"], "test")
        maps = latent_maps(model, test.x, test.y)
        save_tensors({k: v.contiguous() for k, v in maps.items()}, str(staging / checkpoints.LATENT_MAP_FILE))
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("name")
    parser.add_argument("--half", action="store_true", help="store the weights as float16 (half the bytes)")
    args = parser.parse_args(argv)
    target = ship(args.run, args.name, half=args.half)
    total = sum(p.stat().st_size for p in (ROOT / "checkpoints").rglob("*") if p.is_file())
    print(f"shipped {target} ({sum(p.stat().st_size for p in target.iterdir()) / 1e6:.1f} MB); "
          f"all checkpoints {total / 1e6:.1f} MB of 180")
    return 0


if __name__ == "__main__":
    sys.exit(main())
