"""The 2-D maps stored beside a checkpoint that encodes: PCA, and UMAP on neighbours found exactly here."""
import torch

from genexplorer.latent_maps import latent_maps, nearest_neighbours


class Identity:
    """A model whose codes are the pictures given: enough for the maps, which only encode."""
    conditional = False

    def eval(self):
        pass

    def train(self):
        pass

    def encode(self, x, y=None):
        return x


def clusters(n=300, dim=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    return torch.randn(n, dim, generator=g) * 0.3 + 4 * torch.nn.functional.one_hot(labels, dim).float(), labels


def test_nearest_neighbours_are_exact_with_each_code_first_in_chunks():
    codes, _ = clusters(250)
    indices, distances = nearest_neighbours(codes.double(), 7, chunk=64)
    full = torch.cdist(codes.double(), codes.double())
    assert indices.shape == distances.shape == (250, 7) and distances.dtype.name == "float32"
    assert (indices[:, 0] == range(250)).all() and (distances[:, 0] == 0).all()
    expected = full.sort(1).values[:, :7].float().numpy()
    assert abs(distances - expected).max() < 1e-5
    assert (full.gather(1, torch.from_numpy(indices)).float().numpy() - distances).max() < 1e-5


def test_the_umap_map_keeps_the_clusters_apart():
    codes, labels = clusters()
    maps = latent_maps(Identity(), codes, labels, log=lambda message: None)
    assert maps["pca"].shape == maps["umap"].shape == (300, 2)
    points = maps["umap"]
    centres = torch.stack([points[labels == c].mean(0) for c in range(3)])
    spread = max(float((points[labels == c] - centres[c]).norm(dim=1).mean()) for c in range(3))
    assert float(torch.pdist(centres).min()) > 3 * spread, "three far-apart clusters land apart on the map"
