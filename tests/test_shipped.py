"""The checkpoints we ship: all there, complete, loadable, and good enough to teach with."""
from pathlib import Path

import numpy as np
import pytest
import torch

import genexplorer as gx
from genexplorer import checkpoints
from genexplorer.devtools.quality import coverage
from genexplorer.metrics import importance_weighted_nll

ROLES = ("ae", "dae", "vae", "cvae", "ae2d", "vae2d", "gan")
SHIPPED = [f"{dataset}-{role}" for dataset in ("mnist", "fashion") for role in ROLES]
# Test-set quality floors, well below what the shipped models measure (README has the figures),
# so a broken retrain fails here.
FLOORS = {"mnist": {"psnr16": 17.0, "psnr4": 15.5, "psnr2": 13.0, "neg_elbo": 125.0},
          "fashion": {"psnr16": 18.0, "psnr4": 16.5, "psnr2": 14.0, "neg_elbo": 260.0}}
# Latent sizes other than 16, each chosen for its lesson (issue 14): the digits' denoiser a wide code (3 dB over a
# median filter), the digits' CVAE a small one, so the class, not the code, decides what it draws (the class grid),
# Fashion's VAE a 32-d one (a better -ELBO).
LATENT_DIMS = {"mnist-dae": 128, "mnist-cvae": 4, "fashion-vae": 32}


CLASSIFIER_FLOORS = {"mnist": 0.96, "fashion": 0.88}


def test_every_shipped_checkpoint_is_there():
    assert set(SHIPPED) <= set(gx.list_checkpoints())
    assert {f"{dataset}-classifier" for dataset in CLASSIFIER_FLOORS} <= set(gx.list_checkpoints())


@pytest.mark.parametrize("dataset", sorted(CLASSIFIER_FLOORS))
def test_shipped_classifier_reads_the_test_set(dataset):
    model = gx.load(f"{dataset}-classifier")
    config = checkpoints.read_config(checkpoints.resolve(f"{dataset}-classifier"))
    assert config["complete"] is True and model.kind == "classifier" and model.dataset == dataset
    images, labels = gx.load_dataset(dataset, "test")
    x = torch.from_numpy(images[:2000]).float().div(255).unsqueeze(1)
    predicted, _ = model.predict(x)
    accuracy = float((predicted.numpy() == labels[:2000]).mean())
    assert accuracy > CLASSIFIER_FLOORS[dataset] and config["metrics"]["test_accuracy"] > CLASSIFIER_FLOORS[dataset]


def test_checkpoints_stay_small():
    # The repository's folder: the app tests point checkpoints_dir() at a copy that their training runs add to.
    root = checkpoints.CHECKPOINTS_DIR
    shipped = [p for p in root.rglob("*") if p.is_file() and p.name != checkpoints.TRAINING_STATE_FILE
               and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    # The project's budget: every shipped checkpoint together under 180 MB (git keeps every version).
    assert sum(p.stat().st_size for p in shipped) < 180e6


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_is_complete_and_good(name):
    dataset, role = name.split("-")
    model = gx.load(name)
    config = checkpoints.read_config(checkpoints.resolve(name))
    assert config["complete"] is True and model.dataset == dataset
    assert model.kind == role.replace("2d", "")
    metrics = config["metrics"]
    if role == "gan":
        assert model.latent_dim == 100
        assert 0.2 < metrics["train_d_real"] < 0.95, "the discriminator should not have won outright"
        return
    expected_dim = 2 if role.endswith("2d") else LATENT_DIMS.get(name, 16)
    assert model.latent_dim == expected_dim
    floor = FLOORS[dataset]
    assert metrics["test_psnr"] > floor[{2: "psnr2", 4: "psnr4"}.get(expected_dim, "psnr16")]
    if role in ("vae", "cvae"):
        assert metrics["test_neg_elbo_nats"] < floor["neg_elbo"]
    maps = checkpoints.load_tensors(checkpoints.resolve(name), checkpoints.LATENT_MAP_FILE)
    test_size = len(gx.load_dataset(dataset, "test")[1])
    assert maps["pca"].shape == (test_size, 2)
    if expected_dim > 2:
        assert maps["umap"].shape == (test_size, 2)


def nearest_labels(samples: np.ndarray, dataset: str) -> np.ndarray:
    """Label of each sample's nearest training image (pixel space): a crude but honest reader."""
    images, labels = gx.load_dataset(dataset, "train" if dataset == "mnist" else "test")
    reference = torch.from_numpy(images.reshape(len(images), -1)).float() / 255
    queries = torch.from_numpy(samples.reshape(len(samples), -1)).float()
    return labels[torch.cdist(queries, reference).argmin(1).numpy()]


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_gan_and_vae_samples_cover_every_class(dataset):
    """No mode collapse: every class turns up among 500 samples."""
    for role in ("gan", "vae"):
        model = gx.load(f"{dataset}-{role}")
        samples = model.sample(500, generator=torch.Generator().manual_seed(0)).numpy()[:, 0]
        counts = np.bincount(nearest_labels(samples, dataset), minlength=10)
        assert counts.min() >= 10, (role, counts.tolist())


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_pixelcnn_is_exact_below_the_vae_bound_and_draws_every_class(dataset):
    """Issue 25: the exact -log p(x) at least 5 nats below the VAE's importance-weighted bound on the same test
    images (the Bernoulli reading, the VAE's nats), and samples at temperature 1 spread over the classes. Floors
    under the bench's figures (BENCHMARKS, PixelCNN section: 500 / 1,000 samples), on 160 samples here."""
    model = gx.load(f"{dataset}-pixelcnn")
    config = checkpoints.read_config(checkpoints.resolve(f"{dataset}-pixelcnn"))
    assert config["complete"] is True and model.kind == "pixelcnn" and model.draws_grey
    images, _ = gx.load_dataset(dataset, "test")
    x = torch.from_numpy(images[:100]).float().div(255).unsqueeze(1)
    with torch.no_grad():
        exact = float(model.nll(x).mean())
        bound = float(importance_weighted_nll(gx.load(f"{dataset}-vae"), x, k=100,
                                              generator=torch.Generator().manual_seed(0)).mean())
    assert exact < bound - 5, (exact, bound)
    assert abs(exact - config["metrics"]["test_nll_nats"]) < 15
    samples = model.sample(160, generator=torch.Generator().manual_seed(0))
    read, _ = gx.load(f"{dataset}-classifier").predict(samples)
    rarest, _, evenness = coverage(read, 10)      # as the bench measures it
    assert rarest >= 0.02 and evenness >= 0.9, torch.bincount(read, minlength=10).tolist()


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_cvae_draws_the_class_it_is_told(dataset):
    """Issue 14: the class grid must teach the right lesson. The shipped classifier reads 300 samples (30 a class);
    floors under the bench's figures (2,000 samples), as the cGAN's."""
    model = gx.load(f"{dataset}-cvae")
    labels = torch.arange(10).repeat(30)
    samples = model.sample(300, labels, generator=torch.Generator().manual_seed(0))
    read, _ = gx.load(f"{dataset}-classifier").predict(samples)
    per_class = [(read[labels == c] == c).float().mean().item() for c in range(10)]
    # Fashion's CVAE is not there yet (issue 14 wants 90 % for every class): its blurred sandals are read as
    # sneakers or boots (about 55 %, as blurred reconstructions of real sandals: 69 %). This floor guards what it does.
    overall, worst = {"mnist": (0.95, 0.85), "fashion": (0.75, 0.3)}[dataset]
    assert float((read == labels).float().mean()) > overall and min(per_class) > worst, per_class
    # and a reader that knows nothing of the classifier agrees: each sample's nearest training picture
    agreement = (nearest_labels(samples.numpy()[:, 0], dataset) == labels.numpy()).mean()
    assert agreement > 0.6, agreement


ZOO = [f"{dataset}-{role}" for dataset in ("mnist", "fashion") for role in ("pca", "ae-dense", "ae-over", "ae-sparse")]


@pytest.mark.parametrize("name", ZOO)
def test_the_shipped_autoencoder_zoo_teaches_its_lessons(name):
    """Complete and loadable; the overcomplete code is wider than the picture and copies a shifted picture better
    than the undercomplete dense AE trained on the same pictures (the digits' conv AE saw moved digits in training,
    so a shifted digit is like its data: it is no witness of copying); the sparse one has the same width but few
    active units."""
    dataset = name.split("-")[0]
    model = gx.load(name)
    config = checkpoints.read_config(checkpoints.resolve(name))
    assert config["complete"] is True and model.dataset == dataset
    images, _ = gx.load_dataset(dataset, "test")
    x = torch.from_numpy(images[:200]).float().div(255).unsqueeze(1)
    moved = torch.zeros_like(x)
    moved[..., 5:] = x[..., :-5]
    with torch.no_grad():
        error = float((model.reconstruct(x) - x).pow(2).mean())
        undercomplete_shifted = float((gx.load(f"{dataset}-ae-dense").reconstruct(moved) - moved).pow(2).mean())
        shifted = float((model.reconstruct(moved) - moved).pow(2).mean())
        z = model.encode(x)
    assert error < 0.05, "it rebuilds the test images"
    if name.endswith("pca"):
        assert model.kind == "pca" and model.latent_dim == 16 and 0.3 < float(model.explained) < 0.9
    if name.endswith("ae-over") or name.endswith("ae-sparse"):
        assert model.latent_dim > 784 and model.config.architecture == "dense"
    if name.endswith("ae-over"):
        assert shifted < 0.5 * undercomplete_shifted, "the overcomplete code copies what it is given"
    if name.endswith("ae-sparse"):
        assert float((z > 1e-3).sum(1).float().mean()) < 0.15 * model.latent_dim, "most units stay at zero"


def test_digits_written_by_other_people_read_right_after_the_apps_preprocessing():
    """tests/data/handwriting.npz (tools/make_handwriting.py): 2,817 digits by writers who are not MNIST's (the UCI
    optical digits' 43 writers, 17 handwriting fonts), spread over stroke width, size and place, put through the
    page's preprocessing and read by the shipped classifier. Issue 14 asks for 92 %; the shipped reader (trained
    with --font-digits --augment handwriting, fonts none of the test's) reads 94.6 %."""
    data = np.load(Path(__file__).parent / "data" / "handwriting.npz")
    assert len(data["labels"]) > 2500 and len(set(data["sources"].tolist())) >= 15
    x = torch.stack([gx.preprocess(picture, style="digit") for picture in data["images"]])
    predicted, _ = gx.load("mnist-classifier").predict(x)
    accuracy = float((predicted.numpy() == data["labels"]).mean())
    assert accuracy >= 0.92, accuracy


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_the_shipped_cgan_draws_the_class_it_is_told(dataset):
    model = gx.load(f"{dataset}-cgan")
    config = checkpoints.read_config(checkpoints.resolve(f"{dataset}-cgan"))
    assert config["complete"] is True and model.kind == "cgan" and model.conditional
    labels = torch.arange(10).repeat(30)
    samples = model.sample(300, labels, generator=torch.Generator().manual_seed(0))
    read, _ = gx.load(f"{dataset}-classifier").predict(samples)
    per_class = [(read[labels == c] == c).float().mean().item() for c in range(10)]
    overall, worst = {"mnist": (0.95, 0.85), "fashion": (0.9, 0.75)}[dataset]   # 300 samples: floors under the bench's
    assert float((read == labels).float().mean()) > overall and min(per_class) > worst, per_class
    # better pictures than the unconditional GAN by the Frechet distance it logged on its last epoch
    assert config["metrics"]["test_frechet"] < {"mnist": 80, "fashion": 40}[dataset]


@pytest.mark.parametrize("name", ["mnist-pix2pix", "mnist-pix2pix-l1", "fashion-pix2pix", "fashion-pix2pix-l1",
                                  "mnist-context", "mnist-context-l2", "fashion-context", "fashion-context-l2"])
def test_the_shipped_image_to_image_models_do_their_job(name):
    """pix2pix: the test pictures' edges come back as pictures the classifier reads right (issue 12: >= 80 % on
    Fashion); the context encoder: the centre hole is filled (known pixels kept) better than by the mean image."""
    from genexplorer.models.context import centre_hole

    dataset = name.split("-")[0]
    model = gx.load(name)
    config = checkpoints.read_config(checkpoints.resolve(name))
    assert config["complete"] is True
    images, labels = gx.load_dataset(dataset, "test")
    x = torch.from_numpy(images[:300]).float().div(255).unsqueeze(1)
    reader = gx.load(f"{dataset}-classifier")
    if model.kind == "pix2pix":
        out = model.translate(gx.edges(x))
    else:
        hidden = centre_hole()
        out = model.inpaint(x, ~hidden)
        assert torch.equal(out[(~hidden).expand_as(x)], x[(~hidden).expand_as(x)])
        mean = torch.from_numpy(images.mean(0) / 255).float()
        mean_fill = torch.where(hidden, mean, x)
        assert float((out - x).pow(2).mean()) < float((mean_fill - x).pow(2).mean())
    read, _ = reader.predict(out)
    accuracy = float((read.numpy() == labels[:300]).mean())
    floor = {("pix2pix", "mnist"): 0.9, ("pix2pix", "fashion"): 0.8}.get((model.kind, dataset), 0.7)
    assert accuracy > floor, accuracy
