"""Tab handlers called as plain functions: what the page gets back for good and bad input."""
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

import gradio as gr

from genexplorer.canvas_payload import CanvasError, decode_payload, encode_payload
from genexplorer.ui import draw, generate, interpolate, maps, noise, sliders, upload


def drawn_seven(size=112):
    picture = Image.new("L", (size, size), 0)
    ImageDraw.Draw(picture).line([(30, 20), (80, 20), (45, 95)], fill=255, width=8)
    return np.asarray(picture)


def test_canvas_payload_round_trip_and_bad_payloads():
    pixels = drawn_seven()
    assert np.array_equal(decode_payload(encode_payload(pixels)), pixels)
    assert decode_payload("") is None
    assert decode_payload(encode_payload(np.zeros((112, 112), np.uint8))) is None
    for bad in ("{", '{"w": 112}', '{"w": 112, "h": 112, "data": "!!!"}', '{"w": 5000, "h": 5000, "data": ""}',
                '{"w": 112, "h": 112, "data": "AAAA"}', "x" * 300_000):
        with pytest.raises(CanvasError):
            decode_payload(bad)


def test_drawing_gives_every_reconstruction_and_the_vae_terms():
    seen, stored, *images, message = draw.on_drawing(encode_payload(drawn_seven()), "mnist", -1)
    assert stored.shape == (28, 28) and seen.shape == (140, 140)
    assert all(image is not None and image.shape == (140, 140) for image in images)
    assert "nats" in message and "class **7** (most likely)" in message
    # the shipped classifier reads the drawing, and each reconstruction, as a 7
    assert "classifier reads your drawing as 7" in message
    assert message.count("| 7 (") == 4


def test_empty_and_blank_canvases_give_a_message_not_an_error():
    result = draw.on_drawing("", "mnist", -1)
    assert result[1] is None and "Draw" in result[6]
    # black squares, not empty frames: the live channel paints into the pictures' <img>
    assert all(picture.shape == (140, 140) and picture.max() == 0 for picture in [result[0], *result[2:6]])
    speck = np.zeros((112, 112), np.uint8)
    speck[50, 50] = 40
    result = draw.on_drawing(encode_payload(speck), "mnist", -1)
    assert result[1] is None and result[0].max() == 0 and "blank" in result[6]


def test_bad_values_raise_clear_gradio_errors():
    with pytest.raises(gr.Error, match="malformed"):
        draw.on_drawing("{broken", "mnist", -1)
    with pytest.raises(gr.Error, match="unknown dataset"):
        draw.on_drawing(encode_payload(drawn_seven()), "cifar", -1)
    with pytest.raises(gr.Error, match="example index"):
        draw.on_example(999, "mnist", -1)
    with pytest.raises(gr.Error, match="noise level"):
        noise.on_noise(drawn_seven()[::4, ::4], "mnist", "gaussian", float("nan"), 0)
    with pytest.raises(gr.Error, match="latent value"):
        sliders.slide("mnist-vae", None, [], *([float("inf")] * 16))
    with pytest.raises(gr.Error, match="not a valid checkpoint name"):
        sliders.slide("../../etc/passwd", None, [], *([0.0] * 16))
    with pytest.raises(gr.Error, match="steps"):
        interpolate.on_interpolate("1", 0, "7", 0, 10 ** 9, "mnist", None, None)
    with pytest.raises(gr.Error, match="draw something"):
        interpolate.on_interpolate("drawing", 0, "7", 0, 5, "mnist", None, None)


def test_noise_tab_scores_every_model():
    clean = noise.initial_clean(None, None, "mnist")
    clean_img, noisy_img, *pictures, table = noise.on_noise(clean, "mnist", "masking", 0.5, 3)
    assert all(p is not None for p in [clean_img, noisy_img, *pictures])
    scores, lesson = table.split("\n\n", 1)
    assert scores.count("dB") == 4, "a row for the noisy input and each of the three models"
    assert "dB" in lesson, "the lesson below says what these scores show"
    assert noise.on_noise(None, "mnist", "gaussian", 0.3, 0)[-1].startswith("Pick an example")


def test_slider_start_and_slide():
    latent, image, info, class_update, rest_update, live, *slider_updates = sliders.start("mnist-gan", "random", 5, None, None)
    assert len(latent) == 100 and image.shape == (140, 140) and rest_update["visible"] is True
    assert sum(1 for u in slider_updates if u.get("visible")) == 16
    # what the browser's live channel redraws from: the model, the class and the whole latent
    assert json.loads(live) == {"model": "mnist-gan", "label": None, "latent": latent}
    moved = sliders.slide("mnist-gan", None, latent, *([2.0] * 16))
    assert not np.array_equal(moved, image)
    latent2, image2, live2 = sliders.randomise_rest("mnist-gan", latent, 5, None, *latent[:16])
    assert latent2[:16] == latent[:16] and latent2[16:] != latent[16:]
    assert json.loads(live2)["latent"] == latent2
    cvae = sliders.start("mnist-cvae", "zero", 0, 3, None)
    assert cvae[3]["visible"] is True and cvae[3]["value"] == 3
    a = sliders.slide("mnist-cvae", 3, cvae[0], *([0.0] * 16))
    b = sliders.slide("mnist-cvae", 8, cvae[0], *([0.0] * 16))
    assert not np.array_equal(a, b), "the class selector must change the picture"
    relabelled, live = sliders.relabel("mnist-cvae", 8, cvae[0], *([0.0] * 16))
    assert np.array_equal(relabelled, b) and json.loads(live)["label"] == 8


def test_maps_and_clicks():
    ae_fig, ae_grid, vae_fig, vae_grid = maps.compare("mnist", drawn_seven()[::4, ::4])
    assert ae_grid is not None and vae_grid is not None
    assert ae_fig.data[-1].name == "your drawing"
    image, caption = maps.on_click('{"plot": "ge-map-vae2d", "x": 0.5, "y": -1.0, "index": 3, "nonce": 1}', "mnist", "mnist-vae")
    assert image.shape == (140, 140) and "z = (0.50, -1.00)" in caption
    image, caption = maps.on_click('{"plot": "ge-map-any", "x": 1, "y": 2, "index": 42}', "mnist", "mnist-vae")
    assert "test image 42" in caption
    with pytest.raises(gr.Error):
        maps.on_click('{"plot": "ge-map-evil", "x": 1, "y": 2}', "mnist", "mnist-vae")


def test_interpolate_generate_and_export():
    strip, legend = interpolate.on_interpolate("1", 0, "7", 2, 6, "mnist", None, None)
    assert strip.shape[0] == 3 * (28 + 2) * 3 + 2 * 3 and "VAE latent line" in legend
    path = interpolate.on_export("gif", "1", 0, "7", 2, 6, "mnist", None, None)
    assert Image.open(path).format == "GIF"
    assert generate.on_vae("mnist", 20, 1).shape[0] > 0
    assert np.array_equal(generate.on_gan("mnist", 20, 1), generate.on_gan("mnist", 20, 1))
    grid_image, legend = generate.on_cvae("mnist", 4, 0)
    assert "0 / 1 / 2" in legend


def test_cgan_grid_or_a_note_saying_how_to_get_one(monkeypatch):
    from genexplorer.models import build
    from genexplorer.ui import common

    same_layout_as_the_cvae = generate.on_cvae("mnist", 4, 0)[0].shape
    monkeypatch.setattr(common, "model_or_none", lambda dataset, role, **kw: (None, None))
    picture, note = generate.on_cgan("mnist", 4, 0)
    assert picture is None and "Train" in note
    cgan = build("cgan", {"latent_dim": 8, "width": 8}).eval()
    cgan.dataset, cgan.class_names = "mnist", tuple(str(i) for i in range(10))
    monkeypatch.setattr(common, "model_or_none", lambda dataset, role, **kw: ("mnist-cgan", cgan) if role == "cgan" else (None, None))
    picture, legend = generate.on_cgan("mnist", 4, 0)
    assert picture.shape == same_layout_as_the_cvae and "0 / 1 / 2" in legend
    again, _ = generate.on_cgan("mnist", 4, 0)
    assert np.array_equal(picture, again), "the same seed draws the same grid"
    with pytest.raises(gr.Error, match="styles"):
        generate.on_cgan("mnist", 10 ** 9, 0)


def test_upload_denoise_and_inpaint(tmp_path):
    photo = Image.new("RGB", (900, 700), (235, 230, 220))
    ImageDraw.Draw(photo).line([(300, 150), (600, 150), (420, 600)], fill=(30, 30, 40), width=40)
    path = tmp_path / "photo.jpg"
    photo.save(path)
    original, seen, stored, editor, dae, vae, message = upload.on_upload(str(path), "mnist")
    assert original.ndim == 3 and max(original.shape[:2]) <= 320
    assert stored.shape == (28, 28) and dae is not None and vae is not None
    assert editor["background"].shape == (280, 280, 3)
    holed, *fills, mean_fill, table = upload.on_inpaint(stored, None, "centre", "mnist")
    assert len(fills) == len(upload.FILLERS) == 7     # the diffusion model and the flow: None without a checkpoint
    shipped = [f for f, (role, _) in zip(fills, upload.FILLERS) if role in ("vae", "ae")]
    assert all(f is not None and f.shape == (140, 140) for f in shipped)
    # one row per filler with a checkpoint and the mean image, each with PSNR and the classifier's reading
    assert table.count("dB") == 1 + sum(f is not None for f in fills) and "the classifier reads" in table
    layer = np.zeros((280, 280, 4), np.uint8)
    layer[140:, :, 3] = 255
    outputs = upload.on_inpaint(stored, {"layers": [layer]}, "painted", "mnist")
    assert outputs[1 + [role for role, _ in upload.FILLERS].index("vae")] is not None
    with pytest.raises(gr.Error, match="paint over"):
        upload.on_inpaint(stored, {"layers": []}, "painted", "mnist")


@pytest.mark.parametrize("content,message", [
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not a picture"),
    (b"MZ\x90\x00\x03" + b"\x00" * 100, "not a picture"),
    (b"", "empty"),
])
def test_uploads_that_are_not_pictures(tmp_path, content, message):
    path = tmp_path / "fake.png"
    path.write_bytes(content)
    with pytest.raises(gr.Error, match=message):
        upload.on_upload(str(path), "mnist")


def test_huge_truncated_and_blank_uploads(tmp_path):
    huge = tmp_path / "huge.png"
    Image.new("L", (9000, 9000), 255).save(huge)
    with pytest.raises(gr.Error, match="9000x9000"):
        upload.on_upload(str(huge), "mnist")
    good = tmp_path / "good.png"
    picture = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(picture).ellipse((50, 50, 150, 150), outline=0, width=12)
    picture.save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(gr.Error, match="damaged or truncated"):
        upload.on_upload(str(truncated), "mnist")
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 300), 255).save(blank)
    with pytest.raises(gr.Error, match="blank"):
        upload.on_upload(str(blank), "mnist")


def test_a_corrupt_checkpoint_is_named_and_the_others_still_work(tmp_path, monkeypatch):
    import shutil

    from genexplorer import checkpoints, explore
    from genexplorer.ui import common

    for name in ("mnist-ae", "mnist-vae", "mnist-cvae", "mnist-dae"):
        shutil.copytree(checkpoints.checkpoints_dir() / name, tmp_path / name,
                        ignore=shutil.ignore_patterns(checkpoints.TRAINING_STATE_FILE))
    (tmp_path / "mnist-vae" / "model.safetensors").write_bytes(b"garbage")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    cache = explore.ModelCache(tmp_path)
    monkeypatch.setattr(common, "cache", cache)
    seen, stored, ae, vae, cvae, dae, message = draw.on_drawing(encode_payload(drawn_seven()), "mnist", -1)
    assert ae.max() > 0 and cvae.max() > 0 and dae.max() > 0 and vae.max() == 0, "only the broken VAE is blank"
    assert "mnist-vae" in message and "corrupt" in message
    *_, table = noise.on_noise(stored, "mnist", "gaussian", 0.3, 0)
    assert "corrupt" in table
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before, "nothing on disk may change"


def test_sketch_tab_without_and_with_a_pix2pix_model(monkeypatch):
    from genexplorer.models import build
    from genexplorer.ui import common, sketch

    drawing = np.zeros((112, 112), np.uint8)
    drawing[20:92, 30] = drawing[20:92, 80] = drawing[20, 30:81] = drawing[91, 30:81] = 255
    payload = encode_payload(drawing)
    assert sketch.on_sketch("", "fashion")[-1] == sketch.EMPTY_MESSAGE
    seen, p2p, l1, message = sketch.on_sketch(payload, "fashion")
    assert seen.shape == (140, 140) and seen.max() == 255
    if "fashion-pix2pix" not in common.cache.names("fashion", able="translates"):
        assert "no pix2pix checkpoint" in message and "Train tab" in message
    tiny = build("pix2pix", {"channels": 4}).eval()
    tiny.dataset, tiny.class_names = "fashion", tuple(f"c{i}" for i in range(10))
    real = common.models_for
    monkeypatch.setattr(common, "models_for", lambda dataset, roles: ({title: ("fashion-pix2pix", tiny) for _, title in roles}, [])
                        if roles == sketch.sketching.TRANSLATORS else real(dataset, roles))
    seen, p2p, l1, message = sketch.on_sketch(payload, "fashion")
    assert p2p.shape == (140, 140) and "the classifier reads" in message
    truth, seen, p2p, l1, message = sketch.on_test_item(9, 0, "fashion")
    assert truth.shape == (140, 140) and "the classifier reads" in message
    with pytest.raises(gr.Error, match="too small|blank"):
        sketch.on_sketch(encode_payload(np.pad([[255]], ((50, 61), (50, 61))).astype(np.uint8)), "fashion")


def test_a_page_event_shows_a_user_error_once_and_the_api_still_raises():
    from genexplorer.ui import common

    shown = common.shown_on_page(upload.on_upload, 7, 6, cleared=True)
    answer = shown("/no/such/picture.png", "mnist")
    assert answer[:6] == [None] * 6 and answer[6].startswith("**") and "picture" in answer[6]
    kept = common.shown_on_page(upload.on_upload, 7, 6)("/no/such/picture.png", "mnist")
    assert all(value == gr.skip() for value in kept[:6])
    with pytest.raises(gr.Error):
        upload.on_upload("/no/such/picture.png", "mnist")
    # a new upload or a removed file empties the last picture's inpainting
    cleared = upload.fresh_upload(None, "mnist")
    assert len(cleared) == 7 + 1 + len(upload.FILLERS) + 1 + 2 and cleared[7:] == [None] * 9 + ["", ""]


def test_my_drawing_or_upload_with_none_yet_falls_back_to_the_test_picture():
    from genexplorer.ui import common

    assert common.available_source("drawing", np.zeros((28, 28)), fallback="test") == ("drawing", "")
    source, note = common.available_source("drawing", None, fallback="example")
    assert source == "example" and "Nothing is drawn yet" in note
    source, note = common.available_source("upload", np.zeros((28, 28)), None, fallback="test")
    assert source == "test" and "upload a picture" in note


def test_the_diffusion_tabs_picker_goes_back_to_the_test_image_with_nothing_drawn():
    from genexplorer.ui import diffusion

    source, picture, live_state, note = diffusion.on_source_page("drawing", 3, 0, "mnist", None, 0, None, None)
    assert source == "test" and "Nothing is drawn yet" in note
    assert picture.shape == (28, 28) and json.loads(live_state)["picture"] == picture.flatten().tolist()
    mine = np.full((28, 28), 7, np.uint8)
    source, picture, _, note = diffusion.on_source_page("drawing", 3, 0, "mnist", mine, 0, None, None)
    assert isinstance(source, dict) and (picture == mine).all() and note == ""   # the radio stays (a skip)


def test_a_model_without_an_encoder_is_not_offered_the_drawing_start():
    offered = sliders.start_choices("mnist-cgan", "drawing")
    assert [value for _, value in offered["choices"]] == ["random", "zero"] and offered["value"] == "random"
    assert "no encoder" in offered["info"]
    assert [value for _, value in sliders.start_choices("mnist-vae", "zero")["choices"]] == ["drawing", "random", "zero"]


def test_use_my_drawing_with_nothing_drawn_keeps_the_noise_tabs_picture():
    shown = np.zeros((28, 28), np.uint8)
    picture, note = noise.use_drawing(None, shown)
    assert picture is shown and "Nothing is drawn yet" in note
    assert noise.use_drawing(drawn_seven(28), shown)[1] == ""
