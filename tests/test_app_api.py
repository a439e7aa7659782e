"""The running app through its API, as gradio_client sees it."""
import hashlib
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image, ImageDraw

from genexplorer.canvas_payload import encode_payload
from genexplorer.train_form import start_arguments

ROOT = Path(__file__).resolve().parent.parent


def seven(size=112):
    picture = Image.new("L", (size, size), 0)
    ImageDraw.Draw(picture).line([(30, 20), (80, 20), (45, 95)], fill=255, width=8)
    return np.asarray(picture)


def read(path):
    return np.asarray(Image.open(path))


def snapshot_checkpoints():
    from genexplorer.checkpoints import checkpoints_dir

    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in checkpoints_dir().rglob("*") if p.is_file()}


def test_draw_returns_all_reconstructions(client):
    seen, ae, vae, cvae, dae, message = client.predict(encode_payload(seven()), "mnist", -1, api_name="/draw")
    assert "nats" in message and "class **7**" in message
    for path in (seen, ae, vae, cvae, dae):
        assert read(path).shape[:2] == (140, 140)


def test_upload_then_noise_then_inpaint_in_one_session(client, tmp_path):
    photo = Image.new("RGB", (640, 480), (240, 238, 230))
    ImageDraw.Draw(photo).line([(200, 100), (420, 100), (300, 420)], fill=(20, 20, 30), width=30)
    photo.save(tmp_path / "photo.png")
    original, seen, editor, dae, vae, message = client.predict(handle_file(str(tmp_path / "photo.png")), "mnist", api_name="/upload")
    assert read(seen).shape[:2] == (140, 140) and "Cleaned" in message
    outputs = client.predict(None, "bottom", "mnist", api_name="/inpaint")
    assert "PSNR on the hidden pixels" in outputs[-1]


def test_slider_start_and_slide(client):
    outputs = client.predict("mnist-vae", "random", 3, None, api_name="/slider_start")
    image = read(client.predict("mnist-vae", None, *([0.5] * 16), api_name="/slide"))
    other = read(client.predict("mnist-vae", None, *([-0.5] * 16), api_name="/slide"))
    assert image.shape[:2] == (140, 140) and not np.array_equal(image, other)


def test_interpolate_generate_and_exports(client):
    strip, legend = client.predict("1", 0, "7", 0, 8, "mnist", api_name="/interpolate")
    assert "AE latent line" in legend
    gif = client.predict("1", 0, "7", 0, 8, "mnist", api_name="/interpolate_gif")
    assert Image.open(gif).format == "GIF"
    first = read(client.predict("mnist", 20, 4, api_name="/generate_gan"))
    again = read(client.predict("mnist", 20, 4, api_name="/generate_gan"))
    assert np.array_equal(first, again), "the same seed must give the same samples"
    assert client.predict("mnist", 3, 2, 4, api_name="/gan_tour")


def test_maps(client):
    ae_fig, ae_grid, vae_fig, vae_grid = client.predict("mnist", api_name="/maps_compare")
    assert read(vae_grid).ndim >= 2
    image, caption = client.predict('{"plot": "ge-map-vae2d", "x": 0, "y": 0}', "mnist", "mnist-vae", api_name="/map_click")
    assert "decoded at z" in caption


@pytest.mark.parametrize("api_name,args,message", [
    ("/draw", ("{not json", "mnist", -1), "malformed"),
    ("/draw", (encode_payload(seven()), "../../etc", -1), "not in the list of choices"),
    ("/slide", ("../../etc/passwd", None, *([0.0] * 16)), "not in the list of choices|not a valid checkpoint"),
    ("/slide", ("/etc", None, *([0.0] * 16)), "not in the list of choices|not a valid checkpoint"),
    ("/slide", ("mnist-vae", None, *([1e30] * 16)), "greater than maximum"),
    ("/interpolate", ("1", 0, "7", 0, 10 ** 6, "mnist"), "greater than maximum"),
    ("/interpolate", ("1", 0, "7", float("nan"), 5, "mnist"), "."),
    ("/generate_vae", ("mnist", 10 ** 7, 0), "greater than maximum"),
    ("/generate_gan", ("mnist", 10, -5), "less than minimum"),
    ("/noise", ("mnist", "gaussian", 0.3, 0), None),
])
def test_bad_values_get_clear_errors_and_the_server_keeps_serving(client, api_name, args, message):
    before = snapshot_checkpoints()
    if message is None:
        # no picture chosen yet in this session: a message, not an error
        assert "Pick an example" in client.predict(*args, api_name=api_name)[-1]
    else:
        with pytest.raises(Exception, match=message):
            client.predict(*args, api_name=api_name)
    assert client.predict("mnist", 10, 0, api_name="/generate_vae"), "the server must keep serving"
    assert snapshot_checkpoints() == before, "nothing on disk may change"


def test_sessions_keep_their_own_state(app_url):
    """Ten clients at once, each uploading a different picture, each gets its own result back."""
    from gradio_client import Client

    results, errors = {}, []

    def user(index):
        try:
            c = Client(app_url, analytics_enabled=False, verbose=False)
            picture = Image.new("L", (200, 200), 255)
            ImageDraw.Draw(picture).rectangle((20 + index * 8, 30, 60 + index * 8, 170), fill=0)
            path = Path(f"/tmp/ge-session-{index}.png")
            picture.save(path)
            seen = read(c.predict(handle_file(str(path)), "fashion", api_name="/upload")[1])
            holed = read(c.predict(None, "right", "fashion", api_name="/inpaint")[0])
            results[index] = (seen, holed)
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=user, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(results) == 10
    for index, (seen, holed) in results.items():
        # the left half (kept by the right-half mask) of each user's result is that user's own picture
        assert np.array_equal(seen[:, :70], holed[:, :70]), index


@pytest.mark.parametrize("name,content,message", [
    ("homework.png", b"%PDF-1.4\n" + b"0" * 500, "not a picture"),
    ("tool.png", b"MZ\x90\x00" + b"\x00" * 500, "not a picture"),
    ("empty.png", b"", "empty"),
])
def test_uploads_that_are_not_pictures_through_the_api(client, tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(Exception, match=message):
        client.predict(handle_file(str(tmp_path / name)), "mnist", api_name="/upload")
    assert client.predict("mnist", 10, 0, api_name="/generate_vae")


def wait_for_run(client, run, timeout: float = 240.0) -> str:
    """Poll a run started through the API until it is done or failed: its progress HTML, which says which."""
    import time

    run = run["value"] if isinstance(run, dict) else run  # the client hands back the dropdown's update
    deadline = time.time() + timeout
    while time.time() < deadline:
        progress = client.predict(run, api_name="/train_status")[0]
        if "data-state='done'" in progress or "data-state='failed'" in progress:
            return progress
        time.sleep(1)
    return progress


def test_a_real_training_run_through_the_api_ends_in_a_new_checkpoint(client):
    from genexplorer import checkpoints

    run, message = client.predict(*start_arguments(name="mnist-apitest", latent_dim=2), api_name="/train_start")
    assert "Queued **mnist-apitest**" in message
    assert "data-state='done'" in wait_for_run(client, run)
    assert "mnist-apitest" in checkpoints.list_checkpoints()
    from genexplorer.ui import common

    assert "mnist-apitest" in common.cache.names("mnist"), "the explorer lists it without a restart"
    with pytest.raises(Exception, match="exists"):
        client.predict(*start_arguments(name="mnist-apitest", latent_dim=2), api_name="/train_start")


def test_pixelcnn_samples_through_the_api(client):
    """Start a drawing, then ask for its result: the API runs it to the end without a watching page."""
    job_id, first_frame, message = client.predict("mnist", 4, 0, "live", api_name="/pixelcnn_sample")
    assert len(job_id) == 16 and "784 pixels" in message
    first = read(first_frame)
    assert first.ndim == 3 and (first[..., 2] > first[..., 0]).mean() > 0.5   # all still blue: nothing drawn yet
    final, summary = client.predict(job_id, "mnist", api_name="/pixelcnn_result")
    picture = read(final)
    assert picture.shape == first.shape and "784 passes" in summary
    assert (picture[..., 0] == picture[..., 2]).all()   # every pixel drawn: grey, no blue left


def test_pixelcnn_completes_a_test_image_beside_the_vae(client):
    client.predict("test", 7, 0, "mnist", api_name="/complete_source")
    job_id, _frame, holed, vae_fill, message = client.predict(None, "bottom", 3, 0, "live", "mnist",
                                                              api_name="/pixelcnn_complete")
    assert "Completing 3 times" in message
    assert read(holed).shape[:2] == (140, 140) and read(vae_fill).shape[:2] == (140, 140)
    _final, table, _diffusion, _flow = client.predict(job_id, "mnist", api_name="/pixelcnn_complete_result")
    assert table.count("| PixelCNN ") == 3 and "VAE (code optimisation)" in table and "dB" in table


def test_draw_gives_the_pixelcnn_exact_nats_beside_the_vae_bound(client):
    *_, message = client.predict(encode_payload(seven()), "mnist", -1, api_name="/draw")
    assert "PixelCNN: exactly" in message and "upper bound" in message


def test_gan_lab_lesson_and_reset_through_the_api(client, app_url):
    """A lesson fills the controls; Reset makes a toy the live route then trains frame by frame."""
    from genexplorer import toy
    from test_live import post

    lesson = "disjoint supports: WGAN with weight clipping moves"
    data, loss, k, lr_d, lr_g, clip, gp = client.predict(lesson, api_name="/lab_lesson")
    assert (data, loss, k, lr_d) == ("disjoint_1d", "wgan_clip", 5, 1e-2)
    toy_id, message = client.predict(data, loss, k, lr_d, lr_g, clip, gp, 0, "", api_name="/lab_reset")
    assert len(toy_id) == 16 and "k = 5" in message
    start = json.loads(post(f"{app_url}/genexplorer/live/lab", {"toy": toy_id, "action": "look"})[2])
    frames = [json.loads(post(f"{app_url}/genexplorer/live/lab", {"toy": toy_id, "action": "play", "speed": 10})[2])
              for _ in range(30)]
    assert start["step"] == 0 and frames[-1]["step"] > frames[0]["step"] >= 1
    assert frames[-1]["w1"] < 0.5 * start["w1"], "the WGAN critic moves the generator towards the far data"
    assert frames[-1]["loss"] == "wgan_clip" and len(frames[-1]["d_on_grid"]) == 200
    # your own data: nothing painted yet is a hint, not a toy; painted points make one
    toy_id, message = client.predict("drawn_2d", "nonsaturating", 1, 1e-3, 1e-3, 0.01, 10, 0, "", api_name="/lab_reset")
    assert toy_id == "" and "Paint some points" in message
    toy_id, _ = client.predict("drawn_2d", "nonsaturating", 1, 1e-3, 1e-3, 0.01, 10, 0, "[[0,0],[1,1],[2,2]]",
                               api_name="/lab_reset")
    status, _, body = post(f"{app_url}/genexplorer/live/lab", {"toy": toy_id, "action": "g_step"})
    assert status == 200 and json.loads(body)["data"] == "drawn_2d" and json.loads(body)["step"] == 1
    status, _, body = post(f"{app_url}/genexplorer/live/lab", {"toy": "../../etc", "action": "play"})
    assert status == 400 and b"not a GAN lab toy" in body
    assert toy.PRESETS[lesson]["loss"] == "wgan_clip"


def test_train_a_sparse_overcomplete_autoencoder_from_the_page(client):
    """The Train tab's zoo settings reach the trainer: a dense AE with a 1024-unit ReLU code and an L1 weight."""
    from genexplorer import checkpoints

    run, message = client.predict(*start_arguments(name="mnist-apisparse", family="ae", latent_dim=1024, batch_size=256,
                                                   architecture="dense", hidden=0, code_activation="relu", l1=0.001),
                                  api_name="/train_start")
    assert "Queued" in message
    assert "data-state='done'" in wait_for_run(client, run)
    config = checkpoints.read_config(checkpoints.checkpoints_dir() / "mnist-apisparse")
    assert {k: config["model_config"][k] for k in ("architecture", "hidden", "latent_dim", "code_activation", "l1")} == \
        {"architecture": "dense", "hidden": 0, "latent_dim": 1024, "code_activation": "relu", "l1": 0.001}
    with pytest.raises(Exception, match=r"--l1\) must be from 0 to 100"):
        client.predict(*start_arguments(name="mnist-apisparse2", family="ae", architecture="dense", hidden=0,
                                        code_activation="relu", l1=500), api_name="/train_start")


def test_train_a_unet_context_encoder_on_varied_pictures_from_the_page(client):
    """The Train tab's context bottleneck, picture variation and learning-rate schedule reach the trainer."""
    from genexplorer import checkpoints

    run, message = client.predict(*start_arguments(name="mnist-apicontext", family="context", batch_size=256,
                                                   bottleneck="unet", augment="geometry", lr_schedule="cosine"),
                                  api_name="/train_start")
    assert "Queued" in message
    assert "data-state='done'" in wait_for_run(client, run)
    config = checkpoints.read_config(checkpoints.checkpoints_dir() / "mnist-apicontext")
    assert config["model_config"]["bottleneck"] == "unet" and config["training"]["augment"] == "geometry"
    assert config["training"]["lr_schedule"] == "cosine"


def test_train_a_gan_with_an_averaged_generator_from_the_page(client):
    """The Train tab's EMA decay reaches a GAN's run (and is left out for the other families)."""
    from genexplorer import checkpoints

    run, message = client.predict(*start_arguments(name="mnist-apiema", family="gan", latent_dim=16, batch_size=512,
                                                   ema=0.99), api_name="/train_start")
    assert "Queued" in message
    assert "data-state='done'" in wait_for_run(client, run)
    config = checkpoints.read_config(checkpoints.checkpoints_dir() / "mnist-apiema")
    assert config["training"]["ema"] == 0.99
    with pytest.raises(Exception, match="maximum value 0.99999"):
        client.predict(*start_arguments(name="mnist-apiema2", family="gan", ema=2), api_name="/train_start")


def test_train_a_cvae_with_the_class_at_every_layer_and_a_deeper_reader_on_font_digits_from_the_page(client):
    """The Train tab's residual blocks, CVAE decoder and font digits reach the trainer."""
    from genexplorer import checkpoints

    run, message = client.predict(*start_arguments(name="mnist-apicvae", family="cvae", latent_dim=4, batch_size=512,
                                                   class_every_layer=True, font_digits=True), api_name="/train_start")
    assert "Queued" in message
    assert "data-state='done'" in wait_for_run(client, run)
    config = checkpoints.read_config(checkpoints.checkpoints_dir() / "mnist-apicvae")
    assert config["model_config"]["class_every_layer"] is True and config["training"]["font_digits"] is True
    assert config["training"]["num_train_images"] > 4500 + 5000, "the font digits joined the 4,500"
    run, message = client.predict(*start_arguments(name="mnist-apideep", family="vae", latent_dim=4, batch_size=512,
                                                   blocks=1), api_name="/train_start")
    assert "data-state='done'" in wait_for_run(client, run)
    config = checkpoints.read_config(checkpoints.checkpoints_dir() / "mnist-apideep")
    # the CVAE's decoder is not the VAE's: the box is left out for other families
    assert config["model_config"]["blocks"] == 1 and config["model_config"]["class_every_layer"] is False
    with pytest.raises(Exception, match="font digits|--font-digits"):
        client.predict(*start_arguments(name="fashion-apifont", dataset="fashion", font_digits=True),
                       api_name="/train_start")


def test_the_autoencoder_zoo_through_the_api(client):
    results = client.predict("example", "mnist", 3, 0, 5, 0, 0, api_name="/zoo")
    pictures, (table, over_code, sparse_code, note) = results[:18], results[18:]
    assert read(over_code).shape == read(sparse_code).shape
    assert all(p is not None for p in pictures), "3 rows of the input and five models"
    assert read(pictures[0]).shape[:2] == (140, 140)
    assert "sparse AE (`mnist-ae-sparse`)" in table and "1,024 (overcomplete)" in table
    assert "of 1,024** units active" in note and read(sparse_code).shape[0] > 100
    with pytest.raises(Exception, match="draw something"):
        client.predict("drawing", "mnist", 3, 0, 5, 0, 0, api_name="/zoo")
