"""The GAN lab's sessions (genexplorer.ganlab): toys made from the page's controls, frames as JSON, the caps."""
import json
import threading
import time

import pytest

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
        assert set(settings) == {"data", "loss", "d_steps", "lr_d", "lr_g", "clip", "gp_weight"}
        ganlab.make_toy(**{k: v for k, v in settings.items()})
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

    def counting(self, action, speed):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        try:
            return original(self, action, speed)
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
