"""The toy lab's sessions (genexplorer.ganlab): a GAN made from the page's controls and the diffusion model and flow
beside it, frames as JSON, the sampling steps, the caps, the CPU budget, and the live route that serves the frames."""
import json
import threading
import time

import pytest
import torch

from genexplorer import ganlab, toy
from genexplorer.explore import ExploreError


def test_a_toy_from_the_pages_controls_and_its_frames():
    board = ganlab.ToyBoard()
    held = board.add(ganlab.make_toy("gaussian_1d", "nonsaturating", d_steps=2.0, lr_d="0.002", seed=3))
    assert held.toy.settings.d_steps == 2 and held.toy.settings.lr_d == 0.002
    first = board.frame(held.id, "look")
    assert first["step"] == 0 and first["d_loss"] is None, "no step yet: nothing measured, and null not NaN"
    json.dumps(first, allow_nan=False)
    assert board.frame(held.id, "g_step")["step"] == 1
    assert board.frame(held.id, "d_step")["step"] == 1, "a D step alone does not count as a generator step"
    played = board.frame(held.id, "play", 5)
    assert 2 <= played["step"] <= 6 and played["train_s"] > 0
    assert {"grid", "d_on_grid", "real_density", "fake_density", "z", "g_of_z", "w1", "js", "g_grad_norm"} <= set(played)
    assert played["history"]["step"][-1] == played["step"]
    plane = board.frame(board.add(ganlab.make_toy("ring_2d", "wgan_gp")).id, "play", 2)
    assert len(plane["d_on_plane"]) == 40 and plane["modes"] == 8 and len(plane["arrows"]) == 64
    assert len(json.dumps(plane, allow_nan=False)) < 80_000, "a frame stays small"


def test_history_is_thinned_but_keeps_the_latest_step():
    made = ganlab.make_toy("gaussian_1d", "nonsaturating")
    for _ in range(900):
        made.train(1)
        made.history.append({"step": made.step, "w1": 1.0, "js": 0.5, "d_loss": 1.0, "g_loss": 1.0,
                             "g_grad_norm": 0.1, "d_real": 0.5})
    frame = ganlab.frame_data(made.snapshot())
    steps = frame["history"]["step"]
    assert len(steps) <= ganlab.MAX_HISTORY_POINTS + 1 and steps[-1] == made.step and steps == sorted(steps)


def test_drawn_points_arrive_as_json_and_bad_ones_get_clear_messages():
    made = ganlab.make_toy("drawn_2d", "nonsaturating", points=json.dumps([[0, 0], [1, 1], [2, 0.5]]))
    assert made.points.shape == (3, 2)
    for points, message in [(None, "draw some points"), ("[]", "draw some points"), ("{oops", "not readable"),
                            ("[[0, 0]]", "at least 2"), ("[[1e9, 0], [0, 0]]", "within -10 to 10"),
                            ('[["a", 0], [0, 0]]', "pairs")]:
        with pytest.raises(ExploreError, match=message):
            ganlab.make_toy("drawn_2d", "nonsaturating", points=points)


@pytest.mark.parametrize("change, message", [
    (dict(data="mnist"), "unknown toy data"), (dict(loss="hinge"), "unknown loss"),
    (dict(d_steps=0), "k"), (dict(d_steps=2.5), "whole number"), (dict(d_steps=float("nan")), "whole number"),
    (dict(lr_d=-1), "learning rate"), (dict(lr_g=float("inf")), "learning rate"), (dict(clip=0), "clip"),
    (dict(gp_weight=1e9), "penalty"), (dict(seed=-1), "seed"), (dict(seed="x"), "seed"),
])
def test_bad_settings_get_clear_messages(change, message):
    settings = dict(data="gaussian_1d", loss="wgan_clip") | change
    data, loss = settings.pop("data"), settings.pop("loss")
    with pytest.raises(ExploreError, match=message):
        ganlab.make_toy(data, loss, **settings)


def test_bad_frame_requests_get_clear_messages():
    board = ganlab.ToyBoard()
    held = board.add(ganlab.make_toy("gaussian_1d", "minimax"))
    for toy_id, action, speed, message in [("../../etc", "play", 1, "not a GAN lab toy"), (12, "play", 1, "not a GAN lab toy"),
                                           ("0" * 16, "play", 1, "expired"), (held.id, "explode", 1, "unknown action"),
                                           (held.id, "play", 0, "speed"), (held.id, "play", 10 ** 6, "speed")]:
        with pytest.raises(ExploreError, match=message):
            board.frame(toy_id, action, speed)


def test_every_lesson_preset_fills_every_control():
    for name in toy.PRESETS:
        settings = ganlab.preset_settings(name)
        assert set(settings) == {"data", "loss", "d_steps", "lr_d", "lr_g", "clip", "gp_weight", "steps"}
        assert 1 <= settings.pop("steps") <= ganlab.MAX_SAMPLING_STEPS
        ganlab.make_toy(**settings)
    assert ganlab.preset_settings(toy.FEW_STEPS_LESSON)["steps"] < toy.SAMPLING_STEPS
    with pytest.raises(ExploreError, match="unknown lesson"):
        ganlab.preset_settings("nope")


def test_idle_toys_expire_and_a_reset_replaces_the_pages_toy():
    board = ganlab.ToyBoard(idle_expiry_s=0.0)
    held = board.add(ganlab.make_toy("gaussian_1d", "minimax"))
    time.sleep(0.01)
    with pytest.raises(ExploreError, match="expired"):
        board.frame(held.id)
    board = ganlab.ToyBoard()
    first = board.add(ganlab.make_toy("gaussian_1d", "minimax"))
    second = board.add(ganlab.make_toy("gaussian_1d", "minimax"), replaces=first.id)
    assert len(board) == 1 and board.get(second.id) is second


def test_caps_on_kept_and_on_training_toys():
    board = ganlab.ToyBoard(max_toys=3, max_running=2)
    toys = [board.add(ganlab.make_toy("gaussian_1d", "nonsaturating", seed=s)) for s in range(3)]
    with pytest.raises(ExploreError, match="limit is 3"):
        board.add(ganlab.make_toy("gaussian_1d", "nonsaturating"))
    board.frame(toys[0].id, "play")
    board.frame(toys[1].id, "play")
    with pytest.raises(ExploreError, match="training on this server right now"):
        board.frame(toys[2].id, "play")
    assert board.frame(toys[2].id, "look")["step"] == 0, "a paused toy can still be looked at"
    assert board.frame(toys[0].id, "play")["step"] >= 2, "a running toy goes on"


def test_toy_frames_share_the_cpu_budget_with_pixel_drawings(monkeypatch):
    """However many pages ask, at most budget.INTERACTIVE_SLOTS toy frames (or PixelCNN frames) compute at once."""
    from genexplorer import budget, pixels

    board = ganlab.ToyBoard()
    assert board._compute is budget.INTERACTIVE and pixels.JobBoard()._compute is budget.INTERACTIVE
    toys = [board.add(ganlab.make_toy("gaussian_1d", "nonsaturating", seed=s)) for s in range(4)]
    running, most = [0], [0]
    lock = threading.Lock()
    original = ganlab.LabToy.act

    def counting(self, action, speed, steps):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        try:
            return original(self, action, speed, steps)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(ganlab.LabToy, "act", counting)
    threads = [threading.Thread(target=lambda t=t: [board.frame(t.id, "play") for _ in range(3)]) for t in toys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == budget.INTERACTIVE_SLOTS


# ------------------------------------------------------------------ the diffusion model and the flow beside the GAN

def test_a_lab_toy_has_a_diffusion_model_and_a_flow_on_the_gans_data():
    board = ganlab.ToyBoard()
    held = board.add(ganlab.make_toy("ring_2d", "nonsaturating", seed=4))
    diffusion, flow = held.walkers
    assert (diffusion.kind, flow.kind) == ("diffusion", "flow")
    for walker in held.walkers:
        assert walker.data == "ring_2d" and walker.seed == 4
        assert walker._real_view is held.toy._real_view, "the three learners are measured against the same points"
    frame = board.frame(held.id, "look", 1, 8)
    for kind in ("diffusion", "flow"):
        walked = frame["walkers"][kind]
        assert walked["step"] == 0 and walked["loss"] is None and walked["kind"] == kind
        assert len(walked["fake"]) == ganlab.WALK_POINTS and len(walked["fake"][0]) == 2
        assert len(walked["paths"]) == ganlab.WALKS and len(walked["paths"][0]) == 9, "(walks, steps + 1, d)"
        assert walked["steps"] == 8 and walked["modes"] == 8 and 0 <= walked["modes_covered"] <= 8
        assert walked["w1"] > 0 and walked["bending"] >= 0 and "real" not in walked, "the GAN's frame has the data"
    json.dumps(frame, allow_nan=False)


def test_play_trains_all_three_and_a_gan_step_only_the_gan():
    board = ganlab.ToyBoard()
    held = board.add(ganlab.make_toy("gaussian_1d", "nonsaturating"))
    played = board.frame(held.id, "play", 2)
    assert 1 <= played["step"] <= 2
    walked = {kind: played["walkers"][kind]["step"] for kind in ("diffusion", "flow")}
    assert all(1 <= steps <= 2 * ganlab.WALKER_STEPS_PER_G_STEP for steps in walked.values()), walked
    assert played["walkers"]["flow"]["history"]["step"][-1] == walked["flow"]
    stepped = board.frame(held.id, "g_step")
    assert stepped["step"] == played["step"] + 1
    assert {kind: stepped["walkers"][kind]["step"] for kind in walked} == walked, "one G step trains the GAN alone"
    one_d = board.frame(held.id, "look")["walkers"]["diffusion"]
    assert {"grid", "real_density", "fake_density"} <= set(one_d) and len(one_d["paths"][0][0]) == 1


def test_under_load_every_toy_still_takes_a_step_a_frame():
    """The frame's training budget shrinks by what the last frame's pictures took; when nothing is left, each toy
    still takes one step (none stands still), and no toy takes more."""
    board = ganlab.ToyBoard()
    held = board.add(ganlab.make_toy("moons_2d", "wgan_gp"))
    held._picture_s = 10.0
    frame = board.frame(held.id, "play", ganlab.MAX_SPEED)
    assert frame["step"] == 1 and {w["step"] for w in frame["walkers"].values()} == {1}


def test_the_sampling_steps_change_the_walks_without_training():
    board = ganlab.ToyBoard()
    held = board.add(ganlab.make_toy("moons_2d", "nonsaturating"))
    board.frame(held.id, "play", 3)
    many = board.frame(held.id, "look", 1, 50)["walkers"]
    few = board.frame(held.id, "look", 1, 2)["walkers"]
    for kind in ("diffusion", "flow"):
        assert len(many[kind]["paths"][0]) == 51 and len(few[kind]["paths"][0]) == 3
        assert few[kind]["step"] == many[kind]["step"], "a look trains nothing"
        assert few[kind]["fake"] != many[kind]["fake"]
        assert few[kind]["paths"][0][0] == many[kind]["paths"][0][0], "the same noise, walked in fewer steps"
    again = board.frame(held.id, "look", 1, 2)["walkers"]
    assert again["flow"] is few["flow"], "nothing trained, the same steps: the frame computed before"


@pytest.mark.parametrize("steps", [0, ganlab.MAX_SAMPLING_STEPS + 1, 2.5, "x", None, float("nan"), float("inf"), [4]])
def test_bad_sampling_steps_get_a_clear_message(steps):
    board = ganlab.ToyBoard()
    held = board.add(ganlab.make_toy("gaussian_1d", "minimax"))
    with pytest.raises(ExploreError, match="sampling steps"):
        board.frame(held.id, "look", 1, steps)


def test_the_pages_step_slider_and_lessons_fit_the_route():
    from genexplorer.ui import ganlab_assets

    choices = ganlab_assets.STEP_CHOICES
    assert choices[-1] == ganlab.MAX_SAMPLING_STEPS and list(choices) == sorted(set(choices)) and choices[0] == 1
    assert toy.SAMPLING_STEPS in choices and set(toy.PRESET_SAMPLING_STEPS.values()) <= set(choices)
    assert set(toy.PRESET_SAMPLING_STEPS) <= set(toy.PRESETS)


def test_a_walker_that_diverges_says_so_and_the_others_go_on():
    board = ganlab.ToyBoard()
    held = board.add(ganlab.make_toy("gaussian_1d", "nonsaturating"))
    before = board.frame(held.id, "play", 1)
    with torch.no_grad():
        held.walkers[0].net[0].weight.fill_(float("nan"))
    board.frame(held.id, "play", 2)
    frame = board.frame(held.id, "play", 2)
    assert "diverged" in frame["walkers"]["diffusion"]["diverged"] and not frame["diverged"]
    assert frame["walkers"]["diffusion"]["step"] == before["walkers"]["diffusion"]["step"] + 1, "it stopped there"
    assert frame["walkers"]["diffusion"]["w1"] is not None, "it draws with its last good average"
    assert frame["walkers"]["flow"]["step"] >= before["walkers"]["flow"]["step"] + 2 and frame["step"] >= 3
    json.dumps(frame, allow_nan=False)


# ------------------------------------------------------------------ the live route the page posts to

@pytest.fixture(scope="module")
def route():
    """The live routes on a server of their own (no page): Starlette's test client, answered in this process."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from genexplorer.ui import live

    server = FastAPI()
    server.auth = server.auth_dependency = None   # what the login guard reads of a Gradio app: no password
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENEXPLORER_LIVE_PROCESS", "0")   # no drawing child process: this test draws nothing
        live.add_routes(server)
        with TestClient(server, raise_server_exceptions=False) as client:
            yield lambda body: client.post(f"{live.PREFIX}/lab", json=body)


def test_the_lab_route_serves_the_three_toys_and_refuses_bad_bodies(route):
    from genexplorer.ui import common

    toy_id = common.lab_toys.add(ganlab.make_toy("moons_2d", "nonsaturating")).id
    answer = route({"toy": toy_id, "action": "play", "speed": 2, "steps": 5})
    assert answer.status_code == 200, answer.text
    frame = answer.json()
    assert frame["step"] >= 1 and len(frame["walkers"]["flow"]["paths"][0]) == 6
    assert len(route({"toy": toy_id}).json()["walkers"]["diffusion"]["paths"][0]) == toy.SAMPLING_STEPS + 1
    assert route({"toy": toy_id, "steps": "3"}).status_code == 200, "a number as text is read, as the GAN's settings are"
    for body, words in [({"toy": toy_id, "steps": 0}, "sampling steps"), ({"toy": toy_id, "steps": 101}, "sampling steps"),
                        ({"toy": toy_id, "steps": None}, "sampling steps"), ({"toy": toy_id, "steps": [20]}, "sampling steps"),
                        ({"toy": toy_id, "steps": 1e308}, "sampling steps"), ({"toy": toy_id, "steps": 2.5}, "sampling steps"),
                        ({"toy": toy_id, "steps": "many"}, "sampling steps"), ({"toy": toy_id, "samples": 20}, "unknown field samples"),
                        ({"toy": toy_id, "action": "play", "speed": 0, "steps": 5}, "speed"),
                        ({"steps": 5}, "lacks toy"), ({"toy": "../../etc", "steps": 5}, "not a GAN lab toy")]:
        answer = route(body)
        assert answer.status_code == 400 and words in answer.json()["error"], (body, answer.text)
