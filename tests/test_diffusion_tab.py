"""The Diffusion tab and the diffusion / flow inpainting of Upload and Complete, through the running app's API and
live routes, on tiny (width-8, untrained) diffusion and flow checkpoints; the page's own words when a dataset
has none."""
import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image, ImageDraw

from genexplorer import checkpoints
from genexplorer.ui import live
from test_diffusion import tiny
from test_live import post

WALKERS = {"diffusion": "mnist-diffusion", "flow": "mnist-flow"}


def read(path):
    return np.asarray(Image.open(path))


def save_tiny(kind: str, folder: Path) -> None:
    model = tiny(kind)
    model.dataset, model.class_names = "mnist", [str(c) for c in range(10)]
    checkpoints.save(model, folder)


@pytest.fixture(scope="module")
def walkers(app_url):
    """mnist-diffusion and mnist-flow in the app's checkpoints: the shipped ones when there, else tiny ones
    (removed afterwards)."""
    import os

    root = Path(os.environ["GENEXPLORER_CHECKPOINTS"])
    added = []
    for kind, name in WALKERS.items():
        if not (root / name).exists():
            save_tiny(kind, root / name)
            added.append(root / name)
    time.sleep(2.1)      # the page's listing of checkpoints is cached for 2 s
    yield app_url
    for folder in added:
        shutil.rmtree(folder, ignore_errors=True)


def test_forward_process_on_both_paths(client, walkers):
    client.predict("test", 3, 0, "mnist", 0, *WALKERS.values(), api_name="/diffusion_source")
    *pictures, numbers = client.predict(0.3, 0, *WALKERS.values(), api_name="/diffusion_forward")
    clean, noisy_a, noisy_b, seen_a, seen_b = (read(p) for p in pictures)
    assert all(p.shape[:2] == (140, 140) for p in (clean, noisy_a, noisy_b, seen_a, seen_b))
    assert not np.array_equal(noisy_a, noisy_b), "the two paths mix picture and noise differently"
    assert "t = 0.30" in numbers and "dB" in numbers and "Diffusion" in numbers and "Flow matching" in numbers
    *pictures, numbers = client.predict(0.0, 0, *WALKERS.values(), api_name="/diffusion_forward")
    assert np.array_equal(read(pictures[1]), clean) and "+&infin;" in numbers


def test_noise_route_paints_what_the_event_paints(client, walkers):
    state = client.predict("test", 3, 0, "mnist", 0, *WALKERS.values(), api_name="/diffusion_source")
    status, kind, body = post(f"{walkers}{live.PREFIX}/noise", {**json.loads(state), "t": 0.7})
    assert status == 200, body[:300]
    answer = json.loads(body)
    assert set(answer["images"]) == {"ge-diff-clean", "ge-diff-noisy-a", "ge-diff-noisy-b", "ge-diff-seen-a",
                                     "ge-diff-seen-b"}
    assert "t = 0.70" in answer["html"]
    *pictures, _ = client.predict(0.7, 0, *WALKERS.values(), api_name="/diffusion_forward")
    import base64
    import io

    live_flow = np.asarray(Image.open(io.BytesIO(base64.b64decode(answer["images"]["ge-diff-noisy-b"].split(",")[1]))))
    assert np.array_equal(read(pictures[2])[::5, ::5], live_flow)


def test_walk_frame_by_frame_then_its_cost_and_the_step_strip(client, walkers):
    job, *first, message = client.predict("mnist", WALKERS["diffusion"], 20, "ddim", WALKERS["flow"], 5,
                                                  "heun", 4, 1, 7, api_name="/diffusion_walk")
    assert re.fullmatch(r"[0-9a-f]{16}", job) and "Walking 4 pictures" in message
    assert all(read(p).shape[:2] == read(first[0]).shape[:2] for p in first)
    seen = []
    for _ in range(200):
        status, _, body = post(f"{walkers}{live.PREFIX}/walk", {"job": job})
        assert status == 200, body[:300]
        frame = json.loads(body)
        seen.append(frame["t"])
        if frame["finished"]:
            break
    assert frame["finished"] and len(seen) > 5 and seen == sorted(seen, reverse=True)
    assert [w["passes"] for w in frame["walks"]] == [20, 10]              # Heun: two passes a step
    assert "step 5 of 5 (Heun)" in frame["status"]["ge-diff-status-b"]
    *final, table, strip, legend = client.predict(job, api_name="/diffusion_walk_result")
    assert "| Diffusion | mnist-diffusion | DDIM | 20 | 20 |" in table and "| Heun | 5 | 10 |" in table
    assert read(strip).shape[:2] == (3 * (2 * 30 + 2), 3 * (5 * 30 + 2)) and "1, 2, 5, 10, 50 steps" in legend


def test_guidance_grid_moves_with_w_and_is_read_row_by_row(client, walkers):
    plain, reading = client.predict("mnist", "b", WALKERS["diffusion"], "ddim", WALKERS["flow"], "euler", 0, 0, 3,
                                    api_name="/diffusion_guidance")
    guided, _ = client.predict("mnist", "b", WALKERS["diffusion"], "ddim", WALKERS["flow"], "euler", 5, 0, 3,
                               api_name="/diffusion_guidance")
    assert read(plain).shape[:2] == (2 * (10 * 30 + 2), 2 * (6 * 30 + 2))
    assert not np.array_equal(read(plain), read(guided))
    assert reading.count("%") == 11 and "| 9 |" in reading and "all rows" in reading


def test_the_same_seed_through_every_generator(client, walkers):
    html = client.predict("mnist", 3, 0, WALKERS["diffusion"], 10, "ddim", WALKERS["flow"], 4, "euler",
                          api_name="/diffusion_compare")
    for title in ("VAE", "GAN", "cGAN", "PixelCNN", "Diffusion", "Flow matching"):
        assert f"<b>{title}</b>" in html
    passes = re.findall(r"</td><td>([0-9,]+)</td><td>[0-9,]+ ms", html)
    assert passes == ["1", "1", "1", "784", "10", "4"]
    # assets/frechet.json has the bench's figure for mnist-diffusion at 10 DDIM steps: shown with its steps
    assert "(500 samples)" in html and "500 samples, 10 ddim steps)" in html and html.count("<img") == 6


@pytest.mark.parametrize("api_name, args, words", [
    ("/diffusion_walk", ("mnist", "mnist-diffusion", 0, "ddim", "mnist-flow", 5, "euler", 4, 0, -1),
     "steps|minimum"),
    ("/diffusion_walk", ("mnist", "mnist-diffusion", 20, "euler", "mnist-flow", 5, "euler", 4, 0, -1),
     "ddim or ddpm"),
    ("/diffusion_walk", ("mnist", "mnist-vae", 20, "ddim", "mnist-flow", 5, "euler", 4, 0, -1), "does not walk"),
    ("/diffusion_walk", ("mnist", "mnist-nosuch", 20, "ddim", None, 5, "euler", 4, 0, -1), "no checkpoint|choices"),
    ("/diffusion_walk", ("mnist", None, 20, "ddim", None, 5, "euler", 4, 0, -1), "Train tab"),
    ("/diffusion_walk", ("mnist", "mnist-diffusion", 20, "ddim", "mnist-flow", 5, "euler", 4, 0, 10),
     "class|choices"),
    ("/diffusion_guidance", ("mnist", "b", "mnist-diffusion", "ddim", "mnist-flow", "euler", 11, 0, 3), "guidance|maximum"),
    ("/diffusion_guidance", ("mnist", "b", "mnist-diffusion", "ddim", "mnist-flow", "euler", 1, 0, 0), "steps|minimum"),
    ("/diffusion_guidance", ("mnist", "b", "mnist-diffusion", "ddim", None, "euler", 1, 0, 3), "no flow checkpoint"),
    ("/diffusion_forward", (1.5, 0, "mnist-diffusion", "mnist-flow"), "noise level|maximum"),
    ("/diffusion_walk_result", ("0" * 16,), "expired"),
])
def test_bad_input_gets_one_clear_message(client, walkers, api_name, args, words):
    from gradio_client.exceptions import AppError

    client.predict("test", 3, 0, "mnist", 0, *WALKERS.values(), api_name="/diffusion_source")
    with pytest.raises(AppError, match=words):
        client.predict(*args, api_name=api_name)


def test_upload_inpaints_with_diffusion_and_flow_beside_the_others(client, walkers, tmp_path):
    photo = Image.new("RGB", (400, 400), (240, 238, 230))
    ImageDraw.Draw(photo).line([(120, 80), (280, 80), (170, 330)], fill=(20, 20, 30), width=28)
    photo.save(tmp_path / "seven.png")
    client.predict(handle_file(str(tmp_path / "seven.png")), "mnist", api_name="/upload")
    holed, *fills, mean, table = client.predict(None, "centre", "mnist", api_name="/inpaint")
    assert len(fills) == 7 and all(fill is not None for fill in fills)
    for row in ("Diffusion (RePaint", "Flow matching (known pixels"):
        assert re.search(re.escape(row) + r"[^|]*\| [0-9.]+ dB \|", table), table
    holed, diffusion, flow = read(holed), read(fills[5]), read(fills[6])
    outside = np.ones((140, 140), bool)
    outside[35:105, 35:105] = False
    assert np.array_equal(diffusion[outside], holed[outside]) and np.array_equal(flow[outside], holed[outside])


def test_complete_shows_the_diffusion_and_flow_fills_when_done(client, walkers):
    client.predict("test", 7, 0, "mnist", api_name="/complete_source")
    job_id, *_ = client.predict(None, "bottom", 2, 0, "live", "mnist", api_name="/pixelcnn_complete")
    _final, table, diffusion, flow = client.predict(job_id, "mnist", api_name="/pixelcnn_complete_result")
    assert read(diffusion).shape[:2] == (140, 140) and read(flow).shape[:2] == (140, 140)
    assert "| Diffusion (RePaint) |" in table and "| Flow matching |" in table and "dB" in table


def test_the_tab_says_when_a_dataset_has_no_walker(monkeypatch, tmp_path):
    """No diffusion or flow checkpoint: the note says how to get one, the forward process still shows both
    families' paths, and walking says what to do; nothing crashes."""
    import gradio as gr

    from genexplorer import explore
    from genexplorer.ui import common, diffusion

    monkeypatch.setattr(common, "cache", explore.ModelCache(tmp_path))
    first, second, note = diffusion.on_models("fashion")
    assert first["value"] is None and first["choices"] == [] and "train one on the Train tab" in note
    picture = explore.examples("fashion", offset=0)[1][0]
    *pictures, numbers = diffusion.on_forward(picture, 0.5, 0, None, None)
    assert pictures[1] is not None and pictures[3] is None and "no checkpoint: the default path" in numbers
    with pytest.raises(gr.Error, match="Train tab"):
        diffusion.on_walk_start("fashion", None, 20, None, None, 5, None, 4, 0, -1, None)
    html = diffusion.on_compare("fashion", 2, 0, None, 20, None, None, 5, None)
    assert "no diffusion checkpoint for fashion yet" in html
