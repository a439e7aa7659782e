"""Maps of a model's codes: every test picture placed on a plane by its code (the 2-D code itself, or the PCA or
UMAP projection stored beside the checkpoint), and where a new picture falls on it."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch

from .. import checkpoints
from .cache import ModelCache
from .inputs import ExploreError, inference, test_set
from .reconstruct import best_class


@dataclass
class LatentMap:
    coords: np.ndarray      # (N, 2)
    labels: np.ndarray      # (N,)
    method: str             # "latent" (2-D codes), "pca" or "umap"
    class_names: tuple


class MapStore:
    """Test-set maps of each checkpoint that encodes: stored 2-D coordinates plus, for placing
    a new point, the test set's codes (computed once per model, a fraction of a second)."""

    def __init__(self, cache: ModelCache):
        self.cache = cache
        self._codes: dict[tuple[str, float], torch.Tensor] = {}
        self._lock = threading.Lock()

    def _test_codes(self, name: str) -> torch.Tensor:
        model = self.cache.get(name)
        stamp = (self.cache.folder(name) / checkpoints.CONFIG_FILE).stat().st_mtime
        key = (name, stamp)
        with self._lock:
            if key in self._codes:
                return self._codes[key]
        images, labels = test_set(model.dataset)
        with torch.inference_mode():
            x = torch.from_numpy(images).float().div_(255).unsqueeze(1)
            y = torch.from_numpy(labels) if model.conditional else None
            codes = torch.cat([model.encode(x[i: i + 2000], None if y is None else y[i: i + 2000])
                               for i in range(0, len(x), 2000)])
        with self._lock:
            self._codes[key] = codes
        return codes

    def methods(self, name: str) -> list[str]:
        model = self.cache.get(name)
        if not model.can("encodes"):
            return []
        if model.latent_dim == 2:
            return ["latent"]
        stored = checkpoints.load_tensors(self.cache.folder(name), checkpoints.LATENT_MAP_FILE) or {}
        return [m for m in ("umap", "pca") if m in stored] or ["pca"]

    def get(self, name: str, method: str | None = None) -> LatentMap:
        model = self.cache.get(name)
        if not model.can("encodes"):
            raise ExploreError(f"{name} is a {model.kind}: it has no encoder, so there is no map of its codes")
        methods = self.methods(name)
        method = method or methods[0]
        if method not in methods:
            raise ExploreError(f"{name} has no {method} map (available: {', '.join(methods)})")
        _, labels = test_set(model.dataset)
        if method == "latent":
            coords = self._test_codes(name).numpy()
        else:
            stored = checkpoints.load_tensors(self.cache.folder(name), checkpoints.LATENT_MAP_FILE)
            if stored is None or method not in stored:
                coords = self._pca(name)[0]
            else:
                coords = stored[method].numpy()
        return LatentMap(coords[: len(labels)], labels[: len(coords)], method, model.class_names)

    def _pca(self, name: str):
        codes = self._test_codes(name).double()
        mean = codes.mean(0)
        _, _, v = torch.linalg.svd(codes - mean, full_matrices=False)
        return ((codes - mean) @ v[:2].T).float().numpy(), mean, v[:2]

    @inference
    def place(self, name: str, x: torch.Tensor, method: str, label: int | None = None) -> np.ndarray:
        """Where x (1, 1, 28, 28) falls on the map: its code itself, its PCA projection, or
        (UMAP) the average position of its 5 nearest test codes; never UMAP.transform,
        which costs most of a second."""
        model = self.cache.get(name)
        y = None
        if model.conditional:
            y = torch.tensor([label if label is not None else best_class(model, x)[0]])
        code = model.encode(x, y)[0]
        if method == "latent":
            return code.numpy()
        stored = checkpoints.load_tensors(self.cache.folder(name), checkpoints.LATENT_MAP_FILE) or {}
        if method == "pca" and "pca_mean" in stored:
            return ((code - stored["pca_mean"]) @ stored["pca_components"].T).numpy()
        if method == "pca":
            _, mean, components = self._pca(name)
            return ((code.double() - mean) @ components.T).float().numpy()
        coords = stored[method].numpy()
        distances = (self._test_codes(name) - code).pow(2).sum(1)
        nearest = distances.topk(5, largest=False).indices.numpy()
        return coords[nearest].mean(0)
