"""The live previews in bfloat16 (genexplorer/precision.py): on only where the CPU has it or where asked,
a cast copy of each model that leaves the model alone, and previews a grey level or two from the
float32 pictures the end-of-gesture events paint."""
import base64

import numpy as np
import pytest
import torch

from genexplorer import precision
from genexplorer.canvas_payload import encode_payload
from genexplorer.images import upscale
from genexplorer.ui import common, draw, live, sliders

from test_live import drawn_seven, painted


@pytest.mark.parametrize("setting, expected", [("0", False), ("off", False), ("1", True), ("on", True)])
def test_the_setting_turns_bfloat16_previews_on_and_off(monkeypatch, setting, expected):
    monkeypatch.setenv(precision.ENVIRONMENT_VARIABLE, setting)
    precision.live_bfloat16.cache_clear()
    try:
        assert precision.live_bfloat16() is expected
    finally:
        precision.live_bfloat16.cache_clear()


def test_unset_it_follows_the_cpu(monkeypatch):
    monkeypatch.delenv(precision.ENVIRONMENT_VARIABLE, raising=False)
    precision.live_bfloat16.cache_clear()
    try:
        assert precision.live_bfloat16() is precision.native_bfloat16()
    finally:
        precision.live_bfloat16.cache_clear()


def test_float32_previews_use_the_model_itself(float32_previews):
    model = common.cache.get("mnist-vae")
    assert precision.live_model(model) is model


def test_the_bfloat16_twin_is_made_once_and_leaves_the_model_alone(bfloat16_previews):
    model = common.cache.get("mnist-vae")
    twin = precision.live_model(model)
    assert twin is not model and precision.live_model(model) is twin
    assert all(p.dtype == torch.bfloat16 for p in twin.parameters())
    assert all(p.dtype == torch.float32 for p in model.parameters())
    z = torch.randn(4, model.latent_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), precision.live_arithmetic():
        fast = twin.decode(z).float()
    with torch.no_grad():
        exact = model.decode(z)
    assert (fast - exact).abs().max() < 0.05


def _grey_levels_apart(preview: np.ndarray, final: np.ndarray) -> tuple[float, int]:
    difference = np.abs(preview.astype(int) - final.astype(int))
    return float(difference.mean()), int(difference.max())


def test_bfloat16_draw_previews_are_the_events_pictures_within_a_few_grey_levels(bfloat16_previews):
    payloads = [encode_payload(drawn_seven()), encode_payload(np.rot90(drawn_seven()).copy())]
    answers = live.draw_answers([{"payload": p, "dataset": "mnist", "cvae_class": -1} for p in payloads])
    for payload, answer in zip(payloads, answers):
        seen, _stored, *rebuilt, _table = draw.on_drawing(payload, "mnist", -1)
        for elem_id, final in zip(live.DRAW_IMAGE_IDS, [seen, *rebuilt]):
            preview = painted(base64.b64decode(answer["images"][elem_id].split(",", 1)[1]))
            mean, largest = _grey_levels_apart(preview, final)
            assert mean <= 1.0 and largest <= 24, (elem_id, mean, largest)


def test_bfloat16_slide_previews_are_the_events_pictures_within_a_few_grey_levels(bfloat16_previews):
    requests = [{"model": name, "label": label, "latent": [0.2] * size, "values": [0.5] * 16}
                for name, label, size in (("mnist-vae", None, 16), ("mnist-cvae", 3, 4), ("fashion-gan", None, 100))]
    for request, answer in zip(requests, sliders.slide_pictures(requests)):
        final = sliders.slide(request["model"], request["label"], request["latent"], *request["values"])
        mean, largest = _grey_levels_apart(upscale(answer, common.PIXEL_SCALE), final)
        assert mean <= 1.0 and largest <= 24, (request["model"], mean, largest)
