"""2-D maps of a test set's codes (PCA always, UMAP when umap-learn is installed), computed once when a model that
encodes finishes training and stored beside its checkpoint, so the app never runs UMAP while someone waits."""
from __future__ import annotations

import time
import warnings
from typing import Callable

import torch

from .models import GenerativeModel


UMAP_NEIGHBOURS = 15


def nearest_neighbours(codes: torch.Tensor, k: int, chunk: int = 1000) -> tuple:
    """Each code's k nearest codes (itself first) and their distances, exactly, as umap-learn's precomputed_knn
    wants them: (N, k) int64 and float32 numpy arrays. UMAP would find them itself, but its search is numba code
    compiled anew in every process, and past 4,096 codes an approximate search: measured here (one thread, the
    machine busy), a whole map of 500 codes took 28.5 s that way and 17.4 s this way, of 10,000 codes 116 and 40 s."""
    indices, distances = [], []
    for lo in range(0, len(codes), chunk):
        # not through a matrix product: it leaves a code a hair away from itself
        found = torch.cdist(codes[lo: lo + chunk], codes, compute_mode="donot_use_mm_for_euclid_dist").topk(
            min(k, len(codes)), largest=False)
        distances.append(found.values)
        indices.append(found.indices)
    return torch.cat(indices).numpy(), torch.cat(distances).float().numpy()


@torch.no_grad()
def latent_maps(model: GenerativeModel, test_x: torch.Tensor, test_y: torch.Tensor, *, use_umap: bool = True,
                log: Callable[[str], None] = print) -> dict[str, torch.Tensor]:
    """2-D coordinates of the test set's codes, stored beside the checkpoint so the app
    never runs UMAP while someone waits. Keys: "labels", "pca" (N, 2), "pca_mean",
    "pca_components" (2, latent_dim), and "umap" (N, 2) when umap-learn is installed
    and the latent has more than two dimensions."""
    model.eval()
    codes = torch.cat([model.encode(test_x[i: i + 1000], test_y[i: i + 1000] if model.conditional else None).cpu()
                       for i in range(0, len(test_x), 1000)]).double()
    mean = codes.mean(0)
    if codes.shape[1] >= 2:
        # PCA by SVD: the two directions of largest spread.
        _, _, v = torch.linalg.svd(codes - mean, full_matrices=False)
        components = v[:2]
    else:
        components = torch.eye(codes.shape[1], 2).T
    maps = {
        "labels": test_y.cpu().to(torch.int64),
        "pca": ((codes - mean) @ components.T).float(),
        "pca_mean": mean.float(),
        "pca_components": components.float(),
    }
    if use_umap and codes.shape[1] > 2:
        try:
            import umap  # optional: only needed where checkpoints are made
        except ImportError:
            log("umap-learn is not installed: storing the PCA map only")
        else:
            start = time.time()
            neighbours = nearest_neighbours(codes, UMAP_NEIGHBOURS)
            reducer = umap.UMAP(n_components=2, n_neighbors=UMAP_NEIGHBOURS, min_dist=0.1, random_state=0,
                                precomputed_knn=(*neighbours, None))
            with warnings.catch_warnings():   # the seed (one thread) and no transform() later are our choices
                warnings.filterwarnings("ignore", message=".*(overridden to 1 by setting random_state|knn_search_index)")
                maps["umap"] = torch.from_numpy(reducer.fit_transform(codes.float().numpy())).float()
            log(f"UMAP map of {len(codes)} codes computed in {time.time() - start:.1f} s")
    model.train()
    return maps
