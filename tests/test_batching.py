"""Micro-batching of the live channel (genexplorer/batching.py): many students' requests, one pass per model,
each student gets exactly the answer they would get alone."""
import threading
import time

import gradio as gr
import numpy as np
import pytest

from genexplorer.batching import ChildProcess, MicroBatcher
from genexplorer.canvas_payload import encode_payload
from genexplorer.images import upscale
from genexplorer.ui import common, draw, live, sliders

from test_live import drawn_seven


def test_waiting_requests_are_answered_together_in_order_and_errors_stay_with_their_request():
    sizes, release = [], threading.Event()

    def answer(items):
        sizes.append(len(items))
        if len(sizes) == 1:
            release.wait(5)          # the first batch is slow: the others queue meanwhile
        return [ValueError(f"bad {item}") if item < 0 else item * 10 for item in items]

    batcher = MicroBatcher("test", answer, max_batch=8)
    first = batcher.submit(1)
    time.sleep(0.05)
    later = [batcher.submit(item) for item in (2, -3, 4, 5)]
    release.set()
    assert first.result(5) == 10
    assert [f.result(5) for f in later if f is not later[1]] == [20, 40, 50]
    with pytest.raises(ValueError, match="bad -3"):
        later[1].result(5)
    assert sizes == [1, 4], "the four that waited went in one batch"
    assert all(f.work_ms >= 0 for f in [first, *later])


def test_the_worker_outlives_a_batch_that_fails_and_caps_the_batch_size():
    calls = []

    def answer(items):
        calls.append(len(items))
        if items[0] == "boom":
            raise RuntimeError("broken batch")
        return [item.upper() for item in items]

    batcher = MicroBatcher("test", answer, max_batch=2)
    with pytest.raises(RuntimeError, match="broken batch"):
        batcher("boom")
    assert batcher("ok") == "OK"
    futures = [batcher.submit(x) for x in "abcde"]
    assert [f.result(5) for f in futures] == list("ABCDE")
    assert max(calls) <= 2


def _png(data_url):
    import base64
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))))


def test_a_batch_of_drawings_gives_each_student_their_own_answer(float32_previews):
    seven, other = encode_payload(drawn_seven()), encode_payload(np.rot90(drawn_seven()).copy())
    requests = [
        {"payload": seven, "dataset": "mnist", "cvae_class": -1},
        {"payload": other, "dataset": "mnist", "cvae_class": 3},
        {"payload": encode_payload(np.zeros((112, 112), np.uint8)), "dataset": "mnist"},   # nothing drawn
        {"payload": seven, "dataset": "../etc"},                                            # a stranger's request
        {"payload": other, "dataset": "fashion", "cvae_class": -1},
        {"payload": seven, "dataset": "mnist", "cvae_class": 99},
    ]
    answers = live.draw_answers(requests)
    for request, answer in zip(requests, answers):
        if request["dataset"] == "../etc" or request.get("cvae_class") == 99:
            assert isinstance(answer, gr.Error)
            continue
        alone = draw.on_drawing(request["payload"], request["dataset"], request.get("cvae_class", -1))
        seen, _stored, *rebuilt, _table = alone
        for elem_id, expected in zip(live.DRAW_IMAGE_IDS, [seen, *rebuilt]):
            got = _png(answer["images"][elem_id])
            assert got.shape == (28, 28), "the live channel sends 28x28 pictures; the page scales them up"
            assert np.array_equal(upscale(got, common.PIXEL_SCALE), expected), (request["dataset"], elem_id)
    assert "unknown dataset" in str(answers[3]) and "class must be" in str(answers[5])


def test_a_batch_of_slides_over_several_models_and_classes(float32_previews):
    requests = [{"model": "mnist-vae", "label": None, "latent": [0.0] * 16, "values": [0.3 * i] * 16} for i in range(3)]
    requests += [{"model": "mnist-cvae", "label": label, "latent": [0.0] * 16, "values": [0.5] * 16} for label in (2, 7)]
    requests += [{"model": "mnist-gan", "label": None, "latent": [0.1] * 100, "values": [0.0] * 16},
                 {"model": "../x", "label": None, "latent": [0.0] * 16, "values": [0.0] * 16},
                 {"model": "mnist-vae", "label": None, "latent": [0.0] * 16, "values": [float("nan")] * 16}]
    answers = sliders.slide_pictures(requests)
    for request, answer in zip(requests[:6], answers):
        expected = sliders.slide(request["model"], request["label"], request["latent"], *request["values"])
        assert answer.shape == (28, 28) and np.array_equal(upscale(answer, common.PIXEL_SCALE), expected)
    assert not np.array_equal(answers[3], answers[4]), "the CVAE's two classes differ"
    assert isinstance(answers[6], gr.Error) and "not a valid checkpoint name" in str(answers[6])
    assert isinstance(answers[7], gr.Error) and "latent value" in str(answers[7])


def _ready(child: ChildProcess, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not child.ready and time.monotonic() < deadline:
        time.sleep(0.05)
    return child.ready


def test_a_child_process_answers_the_batches_each_error_staying_with_its_request():
    child = ChildProcess("child_answers:squares")
    assert child([2, -1])[0] == 4, "before it starts, batches are answered here"
    child.start()
    try:
        assert _ready(child)
        batcher = MicroBatcher("squares in a child", child)
        futures = [batcher.submit(x) for x in (3, -2, 5)]
        assert futures[0].result(30) == 9 and futures[2].result(30) == 25
        with pytest.raises(ValueError, match="negative: -2"):
            futures[1].result(30)
    finally:
        child.stop()
    assert not child.ready and child._process.exitcode is not None


def test_a_failed_batch_in_the_child_reaches_every_caller_and_the_warm_up_ran_there():
    failing, warmed = ChildProcess("child_answers:refuse"), ChildProcess("child_answers:warmed", warm="child_answers:warm")
    for child in (failing, warmed):
        child.start()
    try:
        assert _ready(failing) and _ready(warmed)
        future = MicroBatcher("refused", failing).submit(1)
        with pytest.raises(RuntimeError, match="whole batch failed"):
            future.result(30)
        assert warmed([1]) == [True], "the warm-up ran in the child, before it said it was ready"
    finally:
        failing.stop()
        warmed.stop()


def test_a_dead_child_is_replaced_and_no_batch_is_lost_meanwhile():
    import os

    child = ChildProcess("child_answers:pid", restarts=1)
    child.start()
    try:
        assert _ready(child)
        (first,) = child([None])
        assert first != os.getpid()
        child._process.kill()
        child._process.join(10)
        assert child([None]) == [os.getpid()], "the batch the child died on is answered in the server"
        assert _ready(child), "another child started"
        (second,) = child([None])
        assert second not in (first, os.getpid())
        child._process.kill()
        child._process.join(10)
        assert child([None]) == [os.getpid()]
        time.sleep(1.0)
        assert not child.ready, "no more restarts than allowed: the server answers from now on"
        assert child([None]) == [os.getpid()]
    finally:
        child.stop()


def test_an_answer_that_cannot_travel_back_is_an_error_not_a_dead_child():
    child = ChildProcess("child_answers:unpicklable")
    child.start()
    try:
        assert _ready(child)
        with pytest.raises(RuntimeError, match="could not be sent back"):
            MicroBatcher("unpicklable", child).submit(1).result(30)
        assert child.ready and child._process.is_alive()
    finally:
        child.stop()
