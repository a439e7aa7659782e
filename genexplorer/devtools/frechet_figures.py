"""assets/frechet.json: the Frechet distances BENCHMARKS.md holds, as data the page reads (the Diffusion tab's
"same seed through every generator" rows), so no figure is copied by hand into the UI.

    python -m genexplorer.devtools.frechet_figures     # after the bench rewrote BENCHMARKS.md

Every table of BENCHMARKS.md with the columns "dataset | model | samples | Frechet distance ..." is read; a row
whose model names a checkpoint ("mnist-gan", "fashion-pixelcnn (1000 samples: sequential)") gives that
checkpoint's figure (the first table that has it wins: the quality bench's), a "floor: ..." row its dataset's floor.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..data import ASSETS_DIR, PACKAGE_ROOT

BENCHMARKS = PACKAGE_ROOT / "BENCHMARKS.md"
OUTPUT = ASSETS_DIR / "frechet.json"
CHECKPOINT = re.compile(r"^([a-z0-9]+-[a-z0-9_.-]+)")


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
        if set("".join(cells)) <= set("-: ") or len(cells) != len(columns) or len(columns) < 4 \
                or columns[:3] != ["dataset", "model", "samples"] or not columns[3].startswith("Frechet distance"):
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


def write(source: Path = BENCHMARKS, output: Path = OUTPUT) -> dict:
    data = {"source": f"{source.name}, written by python -m genexplorer.devtools.frechet_figures",
            "note": "Frechet distance on the project classifier's features; compare within one dataset and one "
                    "sample count only", **figures_from(source.read_text())}
    output.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


if __name__ == "__main__":
    written = write()
    print(f"{OUTPUT}: {len(written['figures'])} checkpoints, floors of {', '.join(sorted(written['floors']))}")
