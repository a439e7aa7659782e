"""BENCHMARKS.md's autoencoder zoo table (``python -m genexplorer.bench --only zoo``): every zoo model of
genexplorer.zoo on the held-out test images, on uniform noise and on the test images shifted."""
from __future__ import annotations

import torch

from ..metrics import psnr
from ..zoo import ACTIVE_THRESHOLD, ZOO
from .quality import Table, load_or_note, percent, readable_test_sets


def zoo_table(count: int, datasets=("mnist", "fashion"), *, shift: int = 5):
    """BENCHMARKS.md's zoo table: every zoo model on ``count`` test images, on as many noise pictures, and on the
    test images shifted ``shift`` pixels right: PSNR, the classifier's accuracy on the reconstructions, active units."""
    table = Table(f"The autoencoder zoo: {count:,} test images per dataset", [
        "dataset", "model", "code width", "parameters", "PSNR: test images (dB)", "classifier on reconstructions",
        "PSNR: uniform noise (dB)", f"PSNR: shifted {shift} px (dB)", "classifier on shifted reconstructions",
        "active units (ReLU codes)"])
    for dataset, reader, test in readable_test_sets(table, datasets, count):
        noise = torch.rand(test.x.shape, generator=torch.Generator().manual_seed(0))
        moved = torch.zeros_like(test.x)
        moved[..., shift:] = test.x[..., :-shift]
        for role, title in ZOO:
            model = load_or_note(f"{dataset}-{role}", table)
            if model is None:
                continue
            with torch.inference_mode():
                z = model.encode(test.x)
                recon, recon_noise, recon_moved = model.decode(z), model.reconstruct(noise), model.reconstruct(moved)
            relu = getattr(model.config, "code_activation", "linear") == "relu"
            table.rows.append([dataset, f"{dataset}-{role} ({title})", model.latent_dim,
                               f"{sum(p.numel() for p in model.parameters()):,}",
                               float(psnr(recon, test.x).mean()), percent(reader.accuracy(recon, test.y)),
                               float(psnr(recon_noise, noise).mean()), float(psnr(recon_moved, moved).mean()),
                               percent(reader.accuracy(recon_moved, test.y)),
                               f"{float((z > ACTIVE_THRESHOLD).sum(1).float().mean()):.0f} of {model.latent_dim:,}" if relu else ""])
    table.notes.append("PSNR of a reconstruction against its own input: a model that copies well scores high on all three "
                       "columns; one that only knows the training pictures scores high on the first alone. The classifier "
                       "reads the shifted reconstructions against the original labels (it was trained with small shifts).")
    return table
