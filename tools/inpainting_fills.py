"""How far the diffusion model's fills of the centre 14x14 hole are from the context encoder's, and why.

    python tools/inpainting_fills.py fashion 100 8              # one fill, the mean of 2, 4 and 8 fills
    python tools/inpainting_fills.py mnist 100 1 --told-class   # the fills told each picture's true class

PSNR rewards the mean of what the hole could hold (the context encoder is trained for it with L2); a sampler draws
one plausible fill. The mean of k fills shows how much of the gap is that. --told-class shows what a conditional
model's fills lose when nobody tells it the class (its no-class mode, 10 % of the training batches).
Prints the hole's PSNR and how often the shipped classifier reads the filled picture right.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genexplorer import checkpoints, explore  # noqa: E402
from genexplorer.devtools.quality import Reader, load_split  # noqa: E402
from genexplorer.metrics import masked_psnr  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", choices=["mnist", "fashion"])
    parser.add_argument("pictures", type=int, help="test pictures (the bench's first ones, seed 1)")
    parser.add_argument("fills", type=int, help="fills per picture (seeds 0, 1, ...)")
    parser.add_argument("--told-class", action="store_true", help="give the diffusion model each picture's class")
    args = parser.parse_args()
    torch.set_num_threads(1)
    test = load_split(args.dataset, "test").take(args.pictures, seed=1)
    hidden = explore.preset_mask("centre")
    reader = Reader(checkpoints.load(f"{args.dataset}-classifier"))

    def report(name: str, filled: torch.Tensor) -> None:
        psnr = float(masked_psnr(filled, test.x, hidden).mean())
        print(f"{args.dataset} {name:45s} {psnr:5.1f} dB  read right {100 * reader.accuracy(filled, test.y):5.1f} %",
              flush=True)

    report("context encoder", explore.inpaint_batch(checkpoints.load(f"{args.dataset}-context"), test.x, hidden))
    model = checkpoints.load(f"{args.dataset}-diffusion")
    labels = test.y if args.told_class else None
    told = ", told the class" if args.told_class else ""
    fills, start = [], time.time()
    for seed in range(args.fills):
        fills.append(explore.inpaint_batch(model, test.x, hidden, labels=labels, seed=seed))
        print(f"fill {seed + 1} of {args.fills} done in {time.time() - start:.0f} s", flush=True)
    report(f"diffusion, one fill{told}", fills[0])
    for count in (2, 4, 8, 16):
        if count <= args.fills:
            report(f"diffusion, mean of {count} fills{told}", torch.stack(fills[:count]).mean(0))


if __name__ == "__main__":
    main()
