"""assets/frechet.json: the Frechet distances BENCHMARKS.md holds, as data the page reads (the Diffusion tab's
"same seed through every generator" rows), so no figure is copied by hand into the UI.

    python -m genexplorer.devtools.frechet_figures     # after the bench rewrote BENCHMARKS.md

Every table of BENCHMARKS.md with the columns "dataset | model | samples | Frechet distance ..." is read; a row
whose model names a checkpoint ("mnist-gan", "fashion-pixelcnn (1000 samples: sequential)") gives that
checkpoint's figure (the first table that has it wins: the quality bench's), a "floor: ..." row its dataset's floor.
The diffusion section's sample tables ("fashion: samples, 2000 per row ..." with the columns "model | sampler |
steps | network passes | Frechet distance") give a walker its figure at each sampler and number of steps
("walks": {"ddim 50": distance, ...}); its own figure is its first row's (the first sampler at the most steps).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..data import ASSETS_DIR, PACKAGE_ROOT

BENCHMARKS = PACKAGE_ROOT / "BENCHMARKS.md"
OUTPUT = ASSETS_DIR / "frechet.json"
CHECKPOINT = re.compile(r"^([a-z0-9]+-[a-z0-9_.-]+)")
WALK_TABLE = re.compile(r"^(\w+): samples, ([\d,]+) per row")
WALK_COLUMNS = ["model", "sampler", "steps", "network passes", "Frechet distance"]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def figures_from(text: str) -> dict:
    """BENCHMARKS.md's text -> {"figures": {checkpoint: {"frechet", "samples", "table"}}, "floors": {dataset: ...}}."""
    figures, floors = {}, {}
    section, columns = "", None
    for line in text.splitlines():
        if line.startswith("#"):
            section, columns = line.lstrip("#").strip(), None
            continue
        if not line.startswith("|"):
            columns = None
            continue
        cells = _cells(line)
        if columns is None:
            columns = cells
            continue
        if set("".join(cells)) <= set("-: ") or len(cells) != len(columns):
            continue
        if columns[:5] == WALK_COLUMNS and WALK_TABLE.match(section):
            _add_walk(figures, section, cells)
            continue
        if len(columns) < 4 or columns[:3] != ["dataset", "model", "samples"] \
                or not columns[3].startswith("Frechet distance"):
            continue
        dataset, model, samples, distance = cells[:4]
        try:
            figure = {"frechet": float(distance.replace(",", "")), "samples": int(samples.replace(",", "")),
                      "table": section}
        except ValueError:
            continue
        match = CHECKPOINT.match(model)
        if model.startswith("floor"):
            floors.setdefault(dataset, figure)
        elif match and match.group(1).startswith(f"{dataset}-"):
            figures.setdefault(match.group(1), figure)
    return {"figures": figures, "floors": floors}


def _add_walk(figures: dict, section: str, cells: list[str]) -> None:
    """A row of a diffusion sample table: the walker's figure at that sampler and number of steps."""
    dataset, samples = WALK_TABLE.match(section).groups()
    model, sampler, steps, _, distance = cells[:5]
    match = CHECKPOINT.match(model)
    if not match or not match.group(1).startswith(f"{dataset}-") or sampler == "one pass":
        return      # the GAN's row beside the walkers: its figure comes from the quality bench's table
    try:
        frechet, steps = float(distance.replace(",", "")), int(steps)
    except ValueError:
        return
    figure = figures.setdefault(match.group(1), {"frechet": frechet, "samples": int(samples.replace(",", "")),
                                                 "table": section, "sampler": sampler, "steps": steps})
    figure.setdefault("walks", {})[f"{sampler} {steps}"] = frechet


def write(source: Path = BENCHMARKS, output: Path = OUTPUT) -> dict:
    data = {"source": f"{source.name}, written by python -m genexplorer.devtools.frechet_figures",
            "note": "Frechet distance on the project classifier's features; compare within one dataset and one "
                    "sample count only", **figures_from(source.read_text())}
    output.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


if __name__ == "__main__":
    written = write()
    print(f"{OUTPUT}: {len(written['figures'])} checkpoints, floors of {', '.join(sorted(written['floors']))}")
