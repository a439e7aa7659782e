"""Every bad request to the live routes (genexplorer/ui/live.py) gets a 4xx with {"error": message}, never a 500:
a table of bad shapes through the running app, and many random bodies through the routes on a bare server."""
import json
import random

import pytest

from genexplorer.ui import live
from test_live import drawn_seven, encode_payload, post

REFUSALS = (400, 404, 413, 422)
ROUTES = tuple(live.ROUTES)
TOO_LARGE = b" " * (live.MAX_BODY_BYTES + 1)
DEEP = b"[" * 100_000 + b"]" * 100_000          # the JSON parser's own recursion
NESTED = b'{"x": ' + b"[" * 50 + b"]" * 50 + b"}"  # parses, deeper than any body the page sends


def seven():
    return encode_payload(drawn_seven())


def good(route: str, ids: dict) -> dict:
    """A body the page would send to ``route`` (ids: a PixelCNN job's and a GAN lab toy's)."""
    return {
        "slide": {"model": "mnist-vae", "label": None, "latent": [0.0] * 16, "values": [0.5] * 16},
        "draw": {"payload": seven(), "dataset": "mnist", "cvae_class": -1},
        "sketch": {"payload": seven(), "dataset": "mnist"},
        "pixels": {"job": ids["job"]},
        "lab": {"toy": ids["toy"], "action": "look", "speed": 1, "steps": 20},
        "noise": NOISE,
        "walk": {"job": ids["walk"]},
    }[route]


# The Diffusion tab's t slider: a picture on both noising paths (no checkpoint needed: the families' own paths).
NOISE = {"dataset": "mnist", "picture": [0] * 784, "seed": 0, "models": [None, None], "t": 0.5}


# Every route, whatever it serves: (body, status, words of the message)
ANY_ROUTE = [
    (b"", 400, "not JSON"),
    (b"{not json", 400, "not JSON"),
    (b"\xff\xfe\x00garbage", 400, "not JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b"42", 400, "JSON object"),
    (b'"a string"', 400, "JSON object"),
    (b"null", 400, "JSON object"),
    (b"NaN", 400, "JSON object"),
    (b"1" * 5000, 400, "not JSON"),                 # an integer past Python's 4,300 digits
    (TOO_LARGE, 413, "too large"),
    (DEEP, 400, "nested too deeply"),
    (NESTED, 400, "nested too deeply"),
    (b"{}", 400, "lacks"),
]

# What each route's own fields can get wrong: (route, body, status, words of the message)
PER_ROUTE = [
    ("slide", {"model": "mnist-vae", "latent": [0.0] * 16}, 400, "lacks values"),
    ("slide", {"model": "mnist-vae", "latent": [0.0] * 16, "values": [0.0] * 16, "modle": "x"}, 400,
     "unknown field modle"),
    ("slide", {"model": "../../etc/passwd", "latent": [0.0] * 16, "values": [0.0] * 16}, 400,
     "not a valid checkpoint name"),
    ("slide", {"model": "/etc", "latent": [0.0] * 16, "values": [0.0] * 16}, 400, "not a valid checkpoint name"),
    ("slide", {"model": "mnist-nosuch", "latent": [0.0] * 16, "values": [0.0] * 16}, 400, "no checkpoint"),
    ("slide", {"model": 7, "latent": [0.0] * 16, "values": [0.0] * 16}, 400, "checkpoint"),
    ("slide", {"model": "mnist-vae", "latent": "0", "values": [0.0] * 16}, 400, "lists of numbers"),
    ("slide", {"model": "mnist-vae", "latent": [0.0] * 16, "values": {"0": 1}}, 400, "lists of numbers"),
    ("slide", {"model": "mnist-vae", "latent": [0.0] * 16, "values": [0.0] * 17}, 400, "lists of numbers"),
    ("slide", {"model": "mnist-vae", "latent": [0.0] * 16, "values": ["x"] * 16}, 400, "latent value"),
    ("slide", {"model": "mnist-vae", "latent": [0.0] * 16, "values": [None] * 16}, 400, "latent value"),
    ("slide", {"model": "mnist-vae", "latent": [0.0] * 16, "values": [float("nan")] * 16}, 400, "latent value"),
    ("slide", {"model": "mnist-vae", "latent": [0.0] * 16, "values": [float("inf")] * 16}, 400, "latent value"),
    ("slide", {"model": "mnist-vae", "latent": [0.0] * 16, "values": [1e308] * 16}, 400, "latent value"),
    ("slide", {"model": "mnist-vae", "latent": [0.0] * 16, "values": [10 ** 300] * 16}, 400, "latent value"),
    ("slide", {"model": "mnist-cvae", "label": 1e308, "latent": [0.0] * 16, "values": [0.0] * 16}, 400, "class"),
    ("slide", {"model": "mnist-cvae", "label": 10 ** 30, "latent": [0.0] * 16, "values": [0.0] * 16}, 400, "class"),
    ("slide", {"model": "mnist-cvae", "label": "seven", "latent": [0.0] * 16, "values": [0.0] * 16}, 400, "class"),
    # a model that cannot do what the route asks: nothing to decode a slider's code with
    ("slide", {"model": "mnist-pixelcnn", "latent": [0.0] * 16, "values": [0.0] * 16}, 422, "no decoder"),
    ("slide", {"model": "mnist-classifier", "latent": [0.0] * 128, "values": [0.0] * 16}, 422, "no decoder"),
    ("slide", {"model": "mnist-pix2pix", "latent": [0.0] * 128, "values": [0.0] * 16}, 422, "no code to decode"),
    ("slide", {"model": "mnist-context", "latent": [0.0] * 128, "values": [0.0] * 16}, 422, "no free code"),
    ("draw", {"dataset": "mnist"}, 400, "lacks payload"),
    ("draw", {"payload": "", "dataset": "mnist", "model": "mnist-vae"}, 400, "unknown field model"),
    ("draw", {"payload": "{broken", "dataset": "mnist"}, 400, "malformed"),
    ("draw", {"payload": {"w": 8}, "dataset": "mnist"}, 400, "malformed"),
    ("draw", {"payload": 5, "dataset": "mnist"}, 400, "malformed"),
    ("draw", {"payload": "[" * 50_000 + "]" * 50_000, "dataset": "mnist"}, 400, "nested too deeply"),
    ("draw", {"payload": json.dumps({"w": 10 ** 9, "h": 10 ** 9, "data": ""}), "dataset": "mnist"}, 400, "wrong size"),
    ("draw", {"payload": json.dumps({"w": float("nan"), "h": 28, "data": ""}), "dataset": "mnist"}, 400, "malformed"),
    ("draw", {"payload": "x" * 250_000, "dataset": "mnist"}, 400, "too large"),
    ("draw", {"payload": "", "dataset": "../etc"}, 400, "unknown dataset"),
    ("draw", {"payload": "", "dataset": ["mnist"]}, 400, "unknown dataset"),
    ("draw", {"payload": "", "dataset": "mnist", "cvae_class": "seven"}, 400, "class number"),
    ("draw", {"payload": "", "dataset": "mnist", "cvae_class": float("nan")}, 400, "class number"),
    ("draw", {"payload": "", "dataset": "mnist", "cvae_class": 99}, 400, "class must be"),
    ("sketch", {"payload": ""}, 400, "lacks dataset"),
    ("sketch", {"payload": "", "dataset": "mnist", "cvae_class": -1}, 400, "unknown field cvae_class"),
    ("sketch", {"payload": "{oops", "dataset": "fashion"}, 400, "malformed"),
    ("sketch", {"payload": "[" * 50_000 + "]" * 50_000, "dataset": "fashion"}, 400, "nested too deeply"),
    ("sketch", {"payload": "", "dataset": "../../etc"}, 400, "unknown dataset"),
    ("pixels", {"job": "../../etc/passwd"}, 400, "not a drawing job"),
    ("pixels", {"job": None}, 400, "not a drawing job"),
    ("pixels", {"job": ["a"]}, 400, "not a drawing job"),
    ("pixels", {"job": "a" * 32}, 400, ""),                          # well formed, but no such drawing
    ("pixels", {"job": "x", "seed": 1}, 400, "unknown field seed"),
    ("lab", {"action": "play"}, 400, "lacks toy"),
    ("lab", {"toy": "../../etc", "action": "play"}, 400, "not a GAN lab toy"),
    ("lab", {"toy": 16, "action": "play"}, 400, "not a GAN lab toy"),
    ("lab", {"toy": "a" * 16, "action": "play"}, 400, "expired"),
    ("lab", {"toy": "a" * 16, "action": "look", "steps": 0}, 400, "sampling steps"),
    ("lab", {"toy": "a" * 16, "action": "look", "steps": 10 ** 6}, 400, "sampling steps"),
    ("lab", {"toy": "a" * 16, "action": "look", "steps": "many"}, 400, "sampling steps"),
    ("noise", {**NOISE, "t": 2}, 400, "noise level t"),
    ("noise", {**NOISE, "t": "half"}, 400, "noise level t"),
    ("noise", {**NOISE, "picture": [0] * 10}, 400, "784 grey levels"),
    ("noise", {**NOISE, "picture": [300] * 784}, 400, "784 grey levels"),
    ("noise", {**NOISE, "picture": ["x"] * 784}, 400, "784 grey levels"),
    ("noise", {**NOISE, "models": ["mnist-vae", None]}, 400, "does not walk"),
    ("noise", {**NOISE, "models": ["../../etc", None]}, 400, "not a valid checkpoint name"),
    ("noise", {**NOISE, "models": [7, None]}, 400, "checkpoint names"),
    ("noise", {**NOISE, "seed": -1}, 400, "seed"),
    ("noise", {**NOISE, "dataset": "../etc"}, 400, "unknown dataset"),
    ("noise", {**NOISE, "steps": 3}, 400, "unknown field steps"),
    ("walk", {"job": "../../etc"}, 400, "not a drawing job"),
    ("walk", {"job": "a" * 16}, 400, "expired"),
]


def _error(status: int, kind, body: bytes) -> str:
    assert status in REFUSALS, (status, body[:300])
    assert kind.startswith("application/json"), kind
    message = json.loads(body)["error"]
    assert isinstance(message, str) and message and len(message) <= live.MAX_MESSAGE + 5
    return message


@pytest.fixture(scope="module")
def ids():
    """A PixelCNN drawing, a GAN lab toy and a diffusion walk (of a tiny model) on the server, for the pixels,
    lab and walk routes."""
    from genexplorer import walks
    from genexplorer.explore.paths import WalkPlan
    from genexplorer.ui import diffusion, ganlab, generate
    from test_diffusion import tiny

    job_id, *_ = generate.on_pixelcnn_start("mnist", 1, 0, "row by row", None)
    toy_id, *_ = ganlab.on_reset("disjoint_1d", "nonsaturating", 1, 1e-3, 1e-3, 0.01, 10, 0, "", None)
    walk = diffusion.walk_jobs.add(walks.walk_job([WalkPlan("flow", "tiny", tiny("flow"), 1000, "euler")], 1, 0))
    return {"job": job_id, "toy": toy_id, "walk": walk.id}


def test_every_bad_shape_gets_a_clear_refusal_through_the_app(app_url, ids):
    cases = [(route, body, status, words) for route in ROUTES for body, status, words in ANY_ROUTE] + PER_ROUTE
    for route, body, status, words in cases:
        got, kind, answer = post(f"{app_url}{live.PREFIX}/{route}", body)
        shown = body[:80] if isinstance(body, bytes) else json.dumps(body)[:200]
        assert got == status, (route, shown, got, answer[:300])
        assert words in _error(got, kind, answer), (route, shown, answer[:300])
    # each field of a good body turned into the wrong type: refused with a message, never a crash
    for route in ROUTES:
        body = good(route, ids)
        for field in body:
            for wrong in ([], {}, "", None, float("nan"), -1e308, [[1, 2]], "../../etc"):
                got, kind, answer = post(f"{app_url}{live.PREFIX}/{route}", {**body, field: wrong})
                if got != 200:
                    _error(got, kind, answer)
    for route in ROUTES:   # and the routes keep serving
        got, _, answer = post(f"{app_url}{live.PREFIX}/{route}", good(route, ids))
        assert got == 200, (route, answer[:300])


def test_a_batch_answers_the_request_that_broke_it_alone():
    """A slide for a model with no decoder passes the per-request checks and fails the decoder pass;
    its neighbours in the same micro-batch still get their pictures."""
    from genexplorer.models import UnsupportedOperation

    fine = {"model": "mnist-vae", "label": None, "latent": [0.0] * 16, "values": [0.5] * 16}
    answers = live.slide_answers([fine, {**fine, "model": "mnist-pixelcnn"}, fine])
    assert isinstance(answers[1], UnsupportedOperation)
    assert answers[0] == answers[2] == live.slide_png(fine)
    assert live.refusal(answers[1]) == (422, str(answers[1]))


def test_refusals_and_server_faults_are_told_apart():
    import gradio as gr

    from genexplorer.explore import ExploreError

    assert live.refusal(live.LiveRequestError("request too large", status=413)) == (413, "request too large")
    assert live.refusal(ExploreError("unknown dataset")) == (400, "unknown dataset")
    assert live.refusal(gr.Error("class must be between 0 and 9")) == (400, "class must be between 0 and 9")
    assert live.refusal(RecursionError())[0] == 400
    assert live.refusal(RuntimeError("a bug")) is None and live.refusal(KeyError("x")) is None
    status, message = live.refusal(ExploreError(f"'{'x' * 10_000}' is not a valid checkpoint name"))
    assert status == 400 and message.endswith("is not a valid checkpoint name") and len(message) < live.MAX_MESSAGE + 10


# ------------------------------------------------------------ random bodies, on the routes alone

@pytest.fixture(scope="module")
def bare(monkeypatch_module):
    """The live routes on a server of their own (no page): Starlette's test client, answered in this process."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    monkeypatch_module.setenv("GENEXPLORER_LIVE_PROCESS", "0")
    server = FastAPI()
    server.auth = server.auth_dependency = None   # what the login guard reads of a Gradio app: no password
    live.add_routes(server)
    with TestClient(server, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


JUNK = [0, 1, -1, 9, 10, 99, 0.5, -1e308, 1e308, float("nan"), float("inf"), 2 ** 63, 10 ** 40, True, False, None,
        "", "mnist", "fashion", "mnist-vae", "mnist-cvae", "mnist-pixelcnn", "mnist-pix2pix", "mnist-classifier",
        "mnist-gan", "../../etc/passwd", "/etc", "play", "look", "NaN", "\u0000", "é" * 50, "x" * 3000, "[" * 3000,
        '{"w": 28, "h": 28, "data": ""}', [], {}, [0.0] * 16, [0.0] * 17, [0.0] * 100, ["x"], [None] * 16,
        [[0.0]] * 16, {"w": 8}, {"model": "mnist-vae"}]


def _mutant(rng: random.Random, route: str, ids: dict) -> bytes:
    """A good body of ``route`` with one to three things wrong (or a body of junk), as bytes."""
    if rng.random() < 0.08:
        return bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 10, 1000])))
    if rng.random() < 0.08:
        return json.dumps(rng.choice(JUNK)).encode()
    body = good(route, ids)
    for _ in range(rng.randint(1, 3)):
        move = rng.random() if body else 0.7
        if move < 0.5:
            body[rng.choice(list(body))] = rng.choice(JUNK)
        elif move < 0.65:
            del body[rng.choice(list(body))]
        elif move < 0.8:
            body[rng.choice(["extra", "model", "payload", "job", "toy", "label", "cvae_class"])] = rng.choice(JUNK)
        else:
            field = rng.choice(list(body))
            if isinstance(body[field], list) and body[field]:
                body[field] = list(body[field])
                body[field][rng.randrange(len(body[field]))] = rng.choice(JUNK)
    return json.dumps(body).encode()   # NaN and Infinity as Python writes them: JSON's parsers read them too


def test_random_bodies_get_an_answer_or_a_clear_refusal(bare, ids):
    rng = random.Random(21)
    seen = {}
    for i in range(400):
        route = ROUTES[i % len(ROUTES)]
        body = _mutant(rng, route, ids)
        response = bare.post(f"{live.PREFIX}/{route}", content=body, headers={"content-type": "application/json"})
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        if response.status_code == 200:
            assert response.headers["content-type"] == ("image/png" if route == "slide" else "application/json")
        else:
            _error(response.status_code, response.headers["content-type"], response.content)
    assert seen.get(200, 0) > 0 and seen.get(400, 0) > 0, seen   # the bodies reached the handlers and were judged
    assert bare.post(f"{live.PREFIX}/slide", json=good("slide", ids)).status_code == 200


def test_a_huge_body_is_refused_without_being_read_whole(bare):
    import asyncio

    from starlette.requests import Request

    received = []

    async def receive():   # a client sending 64 kB chunks without end
        received.append(65_536)
        return {"type": "http.request", "body": b" " * 65_536, "more_body": True}

    body = asyncio.run(live.read_body(Request({"type": "http", "method": "POST", "headers": []}, receive)))
    assert len(body) > live.MAX_BODY_BYTES and sum(received) < live.MAX_BODY_BYTES + 65_536 + 1
    with pytest.raises(live.LiveRequestError, match="too large") as refused:
        live.parse_body(body)
    assert refused.value.status == 413
    response = bare.post(f"{live.PREFIX}/draw", content=b" " * 5_000_000)
    assert response.status_code == 413 and "too large" in response.json()["error"]
