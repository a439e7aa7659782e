import time

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

import genexplorer as gx


def canvas(size=280, *, ink=0, paper=255, mode="L"):
    picture = Image.new(mode, (size, size), paper)
    return picture, ImageDraw.Draw(picture)


def draw_seven(draw, left, top, scale, width, ink=0):
    s = scale
    draw.line([(left, top), (left + 100 * s, top), (left + 40 * s, top + 160 * s)], fill=ink, width=width)


def centre_of_mass(out):
    rows, cols = np.indices(out.shape)
    total = out.sum()
    return (rows * out).sum() / total, (cols * out).sum() / total


def ink_box(out):
    rows = np.flatnonzero(out.max(1) > 0.05)
    cols = np.flatnonzero(out.max(0) > 0.05)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def check_mnist_like(tensor):
    assert isinstance(tensor, torch.Tensor) and tensor.shape == (1, 28, 28) and tensor.dtype == torch.float32
    out = tensor.numpy()[0]
    assert out.min() >= 0 and out.max() == pytest.approx(1.0)
    row, col = centre_of_mass(out)
    assert abs(row - 14) < 1.0 and abs(col - 14) < 1.0, (row, col)
    height, width = ink_box(out)
    assert max(height, width) <= 22 and max(height, width) >= 17, (height, width)
    # MNIST digits carry 60..180 units of ink; far less means strokes vanished
    assert 35 < out.sum() < 220, out.sum()
    return out


@pytest.mark.parametrize("left,top", [(20, 20), (150, 90), (60, 60)])
def test_off_centre_drawing_is_centred(left, top):
    picture, draw = canvas()
    draw_seven(draw, left, top, 0.6, 16)
    check_mnist_like(gx.preprocess(picture))


@pytest.mark.parametrize("width", [2, 6, 16, 40])
def test_thin_and_thick_strokes_end_up_mnist_like(width):
    picture, draw = canvas()
    draw_seven(draw, 60, 40, 1.2, width)
    check_mnist_like(gx.preprocess(picture))


def test_tiny_drawing_is_scaled_up():
    picture, draw = canvas()
    draw_seven(draw, 200, 200, 0.15, 3)
    check_mnist_like(gx.preprocess(picture))


def test_light_ink_on_dark_and_dark_on_light_agree():
    dark_on_light, draw = canvas()
    draw_seven(draw, 60, 40, 1.0, 18)
    light_on_dark, draw = canvas(paper=0)
    draw_seven(draw, 60, 40, 1.0, 18, ink=255)
    a, b = gx.preprocess(dark_on_light), gx.preprocess(light_on_dark)
    assert torch.allclose(a, b, atol=1e-5)


def test_modes_rgb_rgba_palette_16bit_and_arrays():
    base, draw = canvas()
    draw_seven(draw, 60, 40, 1.0, 18)
    reference = gx.preprocess(base)
    rgb = base.convert("RGB")
    palette = base.convert("P")
    sixteen = Image.fromarray(np.asarray(base, dtype=np.uint16) * 257)
    as_float = np.asarray(base, dtype=np.float32) / 255.0
    for variant in (rgb, palette, sixteen, np.asarray(rgb), as_float, np.asarray(base).astype(np.uint16) * 257):
        assert torch.allclose(gx.preprocess(variant), reference, atol=0.02), type(variant)
    # a transparent layer with dark strokes, as a drawing app exports it
    layer = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    draw_seven(ImageDraw.Draw(layer), 60, 40, 1.0, 18, ink=(0, 0, 0, 255))
    assert torch.allclose(gx.preprocess(layer), reference, atol=0.02)
    # and with white strokes
    layer = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    draw_seven(ImageDraw.Draw(layer), 60, 40, 1.0, 18, ink=(255, 255, 255, 255))
    assert torch.allclose(gx.preprocess(layer), reference, atol=0.02)


def test_real_mnist_digits_survive_the_round_trip():
    images, _ = gx.load_dataset("mnist", "test")
    correlations = []
    for digit in images[:40]:
        photo_like = Image.fromarray(255 - digit).resize((280, 280), Image.Resampling.BILINEAR)
        out = gx.preprocess(photo_like).numpy()[0]
        correlations.append(np.corrcoef(digit.ravel() / 255.0, out.ravel())[0, 1])
    assert np.median(correlations) > 0.9, np.median(correlations)


def test_fashion_objects_fill_the_frame():
    images, _ = gx.load_dataset("fashion", "test")
    correlations = []
    for item in images[:40]:
        photo = Image.fromarray(255 - item).resize((300, 300), Image.Resampling.BILINEAR)
        out = gx.preprocess(photo, style="object").numpy()[0]
        assert max(ink_box(out)) == 28
        correlations.append(np.corrcoef(item.ravel() / 255.0, out.ravel())[0, 1])
    assert np.median(correlations) > 0.85


def test_photo_with_grey_uneven_paper():
    rng = np.random.default_rng(0)
    paper = 170 + 20 * np.linspace(0, 1, 600)[None, :] + rng.normal(0, 4, (600, 600))
    picture = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))
    draw_seven(ImageDraw.Draw(picture), 150, 100, 2.2, 30, ink=40)
    check_mnist_like(gx.preprocess(picture))


@pytest.mark.parametrize("make", [
    lambda: Image.new("L", (280, 280), 255),
    lambda: Image.new("L", (280, 280), 0),
    lambda: Image.new("RGBA", (280, 280), (0, 0, 0, 0)),
    lambda: Image.fromarray(np.full((100, 100), 128, np.uint8)),
    lambda: Image.new("L", (1, 1), 0),
])
def test_blank_pictures_are_reported(make):
    with pytest.raises(gx.BlankImageError, match="blank"):
        gx.preprocess(make())


def test_a_single_speck_is_nearly_blank():
    picture, draw = canvas(1000)
    draw.point((500, 500), fill=0)
    with pytest.raises(gx.BlankImageError):
        gx.preprocess(picture)


def test_huge_picture_is_fast():
    picture, draw = canvas(4000)
    draw_seven(draw, 1000, 600, 12, 200)
    start = time.perf_counter()
    check_mnist_like(gx.preprocess(picture))
    assert time.perf_counter() - start < 5.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="style"):
        gx.preprocess(Image.new("L", (28, 28)), style="cifar")
    with pytest.raises(TypeError):
        gx.preprocess("not an image")
    with pytest.raises(ValueError, match="shape"):
        gx.preprocess(np.zeros((2, 3, 4, 5)))


def lamp(size=600, *, low=0.45, high=0.95, vignette=0.0):
    """How much light falls on each spot of a sheet under a desk lamp: more on one side (low -> high), less towards
    the corners by ``vignette``."""
    rows, cols = np.mgrid[0:size, 0:size] / (size - 1)
    light = low + (high - low) * (0.6 * cols + 0.4 * rows)
    return light * (1 - vignette * ((rows - 0.5) ** 2 + (cols - 0.5) ** 2) * 2)


def photograph(drawn: Image.Image, light: np.ndarray, *, grain=6.0, seed=0) -> Image.Image:
    """A phone's photo of ``drawn`` (paper 255, ink darker) lit by ``light``, with paper fibre and sensor noise."""
    rng = np.random.default_rng(seed)
    size = light.shape[0]
    fibre = rng.normal(0, grain, (size // 4, size // 4)).repeat(4, 0).repeat(4, 1)
    seen = np.asarray(drawn, np.float64) * light + fibre + rng.normal(0, grain / 2, light.shape)
    return Image.fromarray(np.clip(seen, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("vignette", [0.0, 0.35])
def test_a_lighting_gradient_across_the_paper_is_not_ink(vignette):
    """Issue 24: a dark-on-paper photo's lighting gradient became a grey triangle in what the model sees. The
    paper's light under each pixel now comes off first: the background stays black, the digit is as on clean
    paper."""
    clean, draw = canvas(600, paper=255)
    draw_seven(draw, 150, 100, 2.2, 30, ink=35)
    out = check_mnist_like(gx.preprocess(photograph(clean, lamp(vignette=vignette))))
    reference = gx.preprocess(clean).numpy()[0]
    assert np.corrcoef(out.ravel(), reference.ravel())[0, 1] > 0.9
    # nothing but the digit: the ink sits where the clean digit's does
    assert out[reference == 0].sum() < 0.1 * out.sum()


def test_an_object_photographed_under_a_lamp_keeps_its_shape():
    drawn, draw = canvas(600, paper=255)
    draw.rectangle([150, 120, 450, 520], fill=30)   # a dark bag filling much of the frame
    out = gx.preprocess(photograph(drawn, lamp(low=0.5, high=0.95)), style="object").numpy()[0]
    inside = out[out > 0.05]
    assert max(ink_box(out)) == 28 and inside.size > 0.5 * 28 * 20, "the object, not the lamp's wedge, fills the frame"
    body = out[out > 0.6]     # the object without its anti-aliased rim
    assert body.size > 0.4 * 28 * 20 and np.ptp(body) < 0.2, \
        "evenly dark, as it is, though half of it is in the lamp's shadow"
    assert out[:, :3].max() < 0.05 and out[:, -3:].max() < 0.05, "the sides beside it stay black"


def test_the_paper_level_of_a_canvas_is_exactly_zero():
    from genexplorer.preprocess import paper_level

    ink = np.zeros((112, 112), np.float32)
    ink[30:80, 50:60] = 1.0
    assert not paper_level(ink).any()
