"""The live channel (genexplorer/ui/live.py): pictures while a slider moves or a stroke goes on."""
import base64
import io
import json
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image, ImageDraw

from genexplorer.canvas_payload import encode_payload
from genexplorer.images import upscale
from genexplorer.ui import draw, live, sliders
from genexplorer.ui.common import PIXEL_SCALE


def drawn_seven(size=112):
    picture = Image.new("L", (size, size), 0)
    ImageDraw.Draw(picture).line([(30, 20), (80, 20), (45, 95)], fill=255, width=8)
    return np.asarray(picture)


def png_array(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def painted(data: bytes) -> np.ndarray:
    """A live answer as the page shows it: a 28x28 PNG scaled up (CSS pixelated), like the events' pictures."""
    picture = png_array(data)
    assert picture.shape == (28, 28), "the live channel sends 28x28 pictures"
    return upscale(picture, PIXEL_SCALE)


def post(url, body, *, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("content-type"), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type"), exc.read()


def test_slide_paints_what_the_slide_event_paints(float32_previews):
    latent = [0.0] * 100
    values = [0.5 * (i % 3) - 0.5 for i in range(16)]
    png = live.slide_png({"model": "mnist-gan", "label": None, "latent": latent, "values": values})
    assert np.array_equal(painted(png), sliders.slide("mnist-gan", None, latent, *values))


def test_draw_gives_the_model_input_and_every_reconstruction(float32_previews):
    result = live.draw_pictures({"payload": encode_payload(drawn_seven()), "dataset": "mnist", "cvae_class": -1})
    assert set(result["images"]) == {"ge-seen", "ge-recon-ae", "ge-recon-vae", "ge-recon-cvae", "ge-recon-dae"}
    expected = draw.on_drawing(encode_payload(drawn_seven()), "mnist", -1)
    vae = result["images"]["ge-recon-vae"]
    assert vae.startswith("data:image/png;base64,")
    assert np.array_equal(painted(base64.b64decode(vae.split(",", 1)[1])), expected[3])


@pytest.mark.parametrize("body, message", [
    (b"x" * (live.MAX_BODY_BYTES + 1), "too large"),
    (b"{not json", "not JSON"),
    (b"[1, 2]", "JSON object"),
])
def test_malformed_requests_are_refused_clearly(body, message):
    with pytest.raises(live.LiveRequestError, match=message):
        live.parse_body(body)


def test_bad_values_are_refused_clearly():
    import gradio as gr

    with pytest.raises(gr.Error, match="lists of numbers"):
        live.slide_png({"model": "mnist-vae", "latent": "0", "values": [0.0] * 16})
    with pytest.raises(gr.Error, match="lists of numbers"):
        live.slide_png({"model": "mnist-vae", "latent": [0.0] * 16, "values": [0.0] * 17})


def test_routes_through_the_running_app(app_url):
    status, kind, data = post(f"{app_url}{live.PREFIX}/slide",
                              {"model": "mnist-vae", "label": None, "latent": [0.0] * 16, "values": [1.0] * 16})
    assert status == 200 and kind == "image/png" and png_array(data).shape == (28, 28)
    status, kind, data = post(f"{app_url}{live.PREFIX}/draw",
                              {"payload": encode_payload(drawn_seven()), "dataset": "mnist", "cvae_class": 7})
    assert status == 200 and all(json.loads(data)["images"].values())
    # what a user (or a stranger) can get wrong: a clear message, never a crash or a path opened
    for route, body, message in [
        ("slide", {"model": "../../etc/passwd", "latent": [0.0] * 16, "values": [0.0] * 16}, "not a valid checkpoint name"),
        ("slide", {"model": "/etc", "latent": [0.0] * 16, "values": [0.0] * 16}, "not a valid checkpoint name"),
        ("slide", {"model": "mnist-vae", "latent": [0.0] * 16, "values": [float("nan")] * 16}, "latent value"),
        ("draw", {"payload": "{broken", "dataset": "mnist"}, "malformed"),
        ("draw", {"payload": encode_payload(drawn_seven()), "dataset": "../etc"}, "unknown dataset"),
        ("draw", {"payload": encode_payload(drawn_seven()), "dataset": "mnist", "cvae_class": "seven"},
         "must be a class number"),
    ]:
        status, kind, data = post(f"{app_url}{live.PREFIX}/{route}", body)
        assert status == 400 and message in json.loads(data)["error"], (route, body if isinstance(body, dict) else "bytes")
    # and the server keeps serving
    status, _, _ = post(f"{app_url}{live.PREFIX}/slide",
                        {"model": "mnist-vae", "label": None, "latent": [0.0] * 16, "values": [0.0] * 16})
    assert status == 200


def test_the_drawings_are_answered_in_a_child_process_as_in_the_server(app_url):
    """The live draw batches run in a child process (batching.ChildProcess) once it is ready; what a
    student gets from it, bad requests included, is what the server's own draw_answers gives."""
    import time

    from genexplorer.devtools.classroom import same_answer

    deadline = time.monotonic() + 90
    while not live.DRAW_PROCESS.ready and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live.DRAW_PROCESS.ready and live.DRAW_PROCESS._process.is_alive()
    body = {"payload": encode_payload(drawn_seven()), "dataset": "mnist", "cvae_class": -1}
    status, _, data = post(f"{app_url}{live.PREFIX}/draw", body)
    assert status == 200 and same_answer(data, json.dumps(live.draw_pictures(body)).encode())
    status, _, data = post(f"{app_url}{live.PREFIX}/draw", {**body, "cvae_class": 99})
    assert status == 400 and "class must be" in json.loads(data)["error"]


def test_a_password_protected_page_refuses_strangers():
    import gradio as gr

    from genexplorer.ui import launch

    with gr.Blocks() as locked:
        gr.Markdown("locked")
    _, url, _ = launch(locked, block=False, server_name="127.0.0.1", quiet=True, auth=("teacher", "secret"))
    try:
        status, _, _ = post(f"{url.rstrip('/')}{live.PREFIX}/slide",
                            {"model": "mnist-vae", "label": None, "latent": [0.0] * 16, "values": [0.0] * 16})
        assert status == 401
        status, _, _ = post(f"{url.rstrip('/')}{live.PREFIX}/draw", {"payload": "", "dataset": "mnist"})
        assert status == 401
    finally:
        locked.close()


def test_the_queue_does_not_rebuild_an_event_summary_after_every_event(app_url):
    """Gradio 6.31 summarises its past events with pandas after each one (for a monitoring
    page we do not use); the app keeps a single event and never rebuilds the summary."""
    import app

    queue = app.demo._queue
    assert queue.ANALYTICS_MAX_EVENTS == 1 and queue.ANAYLTICS_CACHE_FREQUENCY >= 10 ** 9


def test_pixels_route_streams_a_drawing_until_it_ends(app_url):
    from genexplorer.ui import generate

    job_id, *_ = generate.on_pixelcnn_start("mnist", 2, 0, "row by row", None)
    positions = []
    while True:
        status, kind, body = post(f"{app_url}{live.PREFIX}/pixels", {"job": job_id})
        assert status == 200 and kind == "application/json"
        frame = json.loads(body)
        assert frame["image"].startswith("data:image/png;base64,")
        positions.append(frame["position"])
        if frame["finished"]:
            break
    # "row by row": 28 pixels a frame, in raster order, to the end
    assert positions[:3] == [28, 56, 84] and positions[-1] == 784 and len(positions) <= 29
    status, _, body = post(f"{app_url}{live.PREFIX}/pixels", {"job": "../../etc/passwd"})
    assert status == 400 and b"not a drawing job" in body
