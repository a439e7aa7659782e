"""The shipped diffusion and flow models (found by what they can do: they draw from nothing and they denoise):
complete, guided samples of the class asked for, inpainting that keeps the known pixels. The floors sit well below
what BENCHMARKS measures, so a broken retrain fails here while a noisy machine does not."""
import pytest
import torch

import genexplorer as gx
from genexplorer import checkpoints
from genexplorer.models import abilities_of

# guided samples (w = 3, 20 steps, 10 of each class) read as the asked class by the dataset's classifier;
# measured 99 % for the digits' diffusion model (w = 0: 65 %, w = 1: 93 %)
READ_AS_ASKED = {"mnist": 0.9, "fashion": 0.85}


def walkers() -> list[str]:
    names = []
    for name in gx.list_checkpoints():
        config = checkpoints.read_config(checkpoints.resolve(name))
        if {"samples", "denoises"} <= abilities_of(config["kind"], config.get("model_config", {})):
            names.append(name)
    return names


@pytest.mark.parametrize("name", walkers())
def test_a_shipped_walker_is_complete_and_draws_the_class_it_is_asked_for(name):
    model = gx.load(name)
    config = checkpoints.read_config(checkpoints.resolve(name))
    assert config["complete"] is True and model.dataset in READ_AS_ASKED
    assert model.conditional, "the Diffusion tab's guidance grid needs a class-conditional model"
    asked = torch.arange(100) % model.num_classes
    samples = model.sample(100, asked, torch.Generator().manual_seed(0), steps=20, guidance=3.0)
    assert samples.shape == (100, 1, 28, 28) and 0 <= float(samples.min()) and float(samples.max()) <= 1
    read = gx.load(f"{model.dataset}-classifier").logits(samples).argmax(1)
    assert float((read == asked).float().mean()) >= READ_AS_ASKED[model.dataset]


@pytest.mark.parametrize("name", walkers())
def test_a_shipped_walker_fills_a_hole_and_keeps_the_rest(name):
    model = gx.load(name)
    images, _ = gx.load_dataset(model.dataset, "test")
    x = torch.from_numpy(images[:4]).float().div(255).unsqueeze(1)
    known = torch.ones_like(x)
    known[..., 7:21, 7:21] = 0
    filled = model.inpaint(x, known, steps=10, generator=torch.Generator().manual_seed(0))
    assert torch.equal(filled[known.bool()], x[known.bool()]), "the known pixels come back exactly"
    assert not torch.equal(filled, x) and float(filled[~known.bool()].std()) > 0.05, "the hole is painted"
