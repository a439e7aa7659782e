"""The class mode's HTTP API (genexplorer/ui/class_routes.py): every route and every refusal, through Starlette's
TestClient on a bare FastAPI app with the routes added as the app adds them; a launched app for --auth."""
import io
import json
import zipfile

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from genexplorer.classmode import ClassRoom, ClassStore, Limits
from genexplorer.canvas_payload import MAX_PAYLOAD_CHARS, encode_payload
from genexplorer.ui.class_routes import MAX_BODY_BYTES, MAX_DRAWING_BYTES, PREFIX, ROUTES, add_class_routes
from test_classmode import Clock, FakeJudge, drawn_seven

PAYLOAD = encode_payload(drawn_seven())


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def http(tmp_path, clock):
    app = FastAPI()
    app.auth = app.auth_dependency = None     # as a Gradio app launched without --auth
    store = ClassStore(tmp_path, limits=Limits(students_per_class=3, drawings_per_minute=4), clock=clock)
    add_class_routes(app, ClassRoom(store, lambda dataset: FakeJudge()))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    store.close()


def url(path):
    return f"{PREFIX}/{path}"


def teacher(token):
    return {"X-Teacher-Token": token}


@pytest.fixture
def lesson(http):
    """A started class with one student: (code, teacher token, student token)."""
    started = http.post(url("start"), json={}).json()
    joined = http.post(url("join"), json={"code": started["code"], "name": "Ada"}).json()
    return started["code"], started["teacher_token"], joined["student_token"]


def test_a_lesson_through_the_api(http):
    started = http.post(url("start"), json={"dataset": "mnist"})
    assert started.status_code == 200 and started.headers["cache-control"] == "no-store"
    code, token = started.json()["code"], started.json()["teacher_token"]
    assert started.json()["join_path"] == f"/?class={code}"
    joined = http.post(url("join"), json={"code": code, "name": "<b>Ada</b>"}).json()
    assert joined["name"] == "&lt;b&gt;Ada&lt;/b&gt;"
    student = joined["student_token"]
    drawn = http.post(url("drawing"), json={"student_token": student, "payload": PAYLOAD})
    assert drawn.status_code == 200 and drawn.json()["label"] == "7"
    assert http.post(url("challenge"), json={"code": code, "challenge": {"kind": "read_as", "target": 7}},
                     headers=teacher(token)).json()["challenge"]["prompt"] == "Draw something the classifier reads as 7"
    scored = http.post(url("drawing"), json={"student_token": student, "payload": PAYLOAD}).json()
    assert scored["score"] == pytest.approx(0.91)
    assert http.post(url("follow"), json={"code": code, "state": {"tab": "sliders", "sliders": [0.5]}},
                     headers=teacher(token)).json() == {"follow_version": 1}
    assert http.post(url("spotlight"), json={"code": code, "drawing_id": scored["id"]},
                     headers=teacher(token)).json()["spotlight"]["id"] == scored["id"]

    board = http.get(url("board"), params={"code": code}, headers=teacher(token)).json()
    assert board["students"][0]["latest"]["id"] == scored["id"] and board["ranking"][0]["name"] == joined["name"]
    assert len(board["stars"]) == 2 and board["follow"] == {"tab": "sliders", "sliders": [0.5]}
    for asked in ({"headers": {"X-Student-Token": student}}, {"params": {"student_token": student}}):
        state = http.get(url("state"), **asked).json()
        assert state["follow_version"] == 1 and state["you"]["score"] == pytest.approx(0.91)
        assert state["spotlight"]["id"] == scored["id"]

    assert http.post(url("remove"), json={"code": code, "drawing_id": drawn.json()["id"]},
                     headers=teacher(token)).json() == {"removed": drawn.json()["id"]}
    assert http.post(url("pause"), json={"student_token": student, "paused": True}).json() == {"paused": True}
    assert http.post(url("end"), json={"code": code}, headers=teacher(token)).json()["ended"] is not None

    exported = http.get(url("export"), params={"code": code}, headers=teacher(token))
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    assert exported.headers["content-disposition"] == f'attachment; filename="class-{code}.zip"'
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        assert len([n for n in archive.namelist() if n.startswith("drawings/")]) == 1, "the removed one is gone"
    csv_answer = http.get(url("export"), params={"code": code, "what": "csv"}, headers=teacher(token))
    assert csv_answer.headers["content-type"].startswith("text/csv")
    board_png = http.get(url("export"), params={"code": code, "what": "board"}, headers=teacher(token))
    assert board_png.headers["content-type"] == "image/png" and board_png.content[:4] == b"\x89PNG"


TEACHER_ROUTES = [
    ("GET", "board", None), ("GET", "export", None), ("GET", "invite", None), ("GET", "rebuild", None),
    ("POST", "follow", {"state": {"tab": "draw"}}), ("POST", "challenge", {"challenge": None}),
    ("POST", "spotlight", {"drawing_id": None}), ("POST", "remove", {"drawing_id": 1}), ("POST", "end", {}),
]


def _teacher_request(http, method, path, body, code, headers):
    if method == "GET":
        return http.get(url(path), params={"code": code}, headers=headers)
    return http.post(url(path), json={"code": code, **body}, headers=headers)


@pytest.mark.parametrize("method, path, body", TEACHER_ROUTES)
def test_nobody_acts_as_teacher_without_the_token(http, lesson, method, path, body):
    code, _, student = lesson
    other = http.post(url("start"), json={}).json()["teacher_token"]
    for headers in ({}, teacher(""), teacher("guess"), teacher(other), teacher(student), {"X-Student-Token": student}):
        answer = _teacher_request(http, method, path, body, code, headers)
        assert answer.status_code == 403, (headers, answer.text)
        assert "only the teacher who started this class" in answer.json()["error"]


@pytest.mark.parametrize("method, path, body", TEACHER_ROUTES)
def test_an_unknown_code_is_404(http, lesson, method, path, body):
    _, token, _ = lesson
    answer = _teacher_request(http, method, path, body, "ACDEFG", teacher(token))
    assert answer.status_code == 404 and "there is no class ACDEFG" in answer.json()["error"]


def test_student_refusals(http, lesson):
    code, token, student = lesson
    assert http.post(url("join"), json={"code": "ACDEFG", "name": "Bob"}).status_code == 404
    for asked in ({}, {"headers": {"X-Student-Token": "guess"}}, {"headers": {"X-Student-Token": token}},
                  {"params": {"student_token": ""}}):
        answer = http.get(url("state"), **asked)
        assert answer.status_code == 403 and "error" in answer.json()
    assert http.post(url("drawing"), json={"student_token": token, "payload": PAYLOAD}).status_code == 403
    assert http.post(url("pause"), json={"student_token": "guess", "paused": True}).status_code == 403
    http.post(url("join"), json={"code": code, "name": "Bob"})
    taken = http.post(url("join"), json={"code": code, "name": "bob"})
    assert taken.status_code == 409 and "already called 'bob'" in taken.json()["error"]
    http.post(url("join"), json={"code": code})
    full = http.post(url("join"), json={"code": code, "name": "Cy"})
    assert full.status_code == 409 and "is full" in full.json()["error"]
    http.post(url("pause"), json={"student_token": student, "paused": True})
    paused = http.post(url("drawing"), json={"student_token": student, "payload": PAYLOAD})
    assert paused.status_code == 409 and "paused sharing" in paused.json()["error"]


def test_an_ended_class_is_410_for_students_and_for_pushing(http, lesson):
    code, token, student = lesson
    http.post(url("end"), json={"code": code}, headers=teacher(token))
    for answer in (http.post(url("join"), json={"code": code, "name": "Bob"}),
                   http.post(url("drawing"), json={"student_token": student, "payload": PAYLOAD}),
                   http.get(url("state"), headers={"X-Student-Token": student}),
                   http.post(url("pause"), json={"student_token": student, "paused": True}),
                   http.post(url("follow"), json={"code": code, "state": {}}, headers=teacher(token)),
                   http.post(url("challenge"), json={"code": code, "challenge": None}, headers=teacher(token))):
        assert answer.status_code == 410 and answer.json()["error"] == f"class {code} has ended"
    assert http.get(url("board"), params={"code": code}, headers=teacher(token)).status_code == 200
    assert http.post(url("end"), json={"code": code}, headers=teacher(token)).status_code == 200


def test_too_many_drawings_a_minute_is_429_with_retry_after(http, lesson, clock):
    _, _, student = lesson
    for _ in range(4):
        assert http.post(url("drawing"), json={"student_token": student, "payload": PAYLOAD}).status_code == 200
    answer = http.post(url("drawing"), json={"student_token": student, "payload": PAYLOAD})
    assert answer.status_code == 429 and "at most 4 drawings a minute" in answer.json()["error"]
    assert 1 <= int(answer.headers["retry-after"]) <= 60
    clock.now += 61
    assert http.post(url("drawing"), json={"student_token": student, "payload": PAYLOAD}).status_code == 200


@pytest.mark.parametrize("path, cap", [("start", MAX_BODY_BYTES), ("join", MAX_BODY_BYTES),
                                       ("follow", MAX_BODY_BYTES), ("drawing", MAX_DRAWING_BYTES)])
def test_a_big_body_is_413(http, lesson, path, cap):
    code, token, student = lesson
    body = json.dumps({"code": code, "student_token": student, "payload": "x" * cap}).encode()
    answer = http.post(url(path), content=body, headers={"content-type": "application/json", **teacher(token)})
    assert answer.status_code == 413 and "larger than" in answer.json()["error"]

    def chunks():   # no Content-Length: the body is cut off as it streams in
        yield body[:1000]
        yield body[1000:]
    answer = http.post(url(path), content=chunks(), headers=teacher(token))
    assert answer.status_code == 413


def test_a_drawing_at_the_canvas_size_is_taken(http, lesson):
    _, _, student = lesson
    big = encode_payload(np.pad(drawn_seven(), 134))   # 380x380: about the most the payload's decoder takes
    assert MAX_PAYLOAD_CHARS - 10_000 < len(big) <= MAX_PAYLOAD_CHARS
    assert http.post(url("drawing"), json={"student_token": student, "payload": big}).status_code == 200


MALFORMED = [
    ("start", b"{not json", "not JSON"),
    ("start", b"[1, 2]", "JSON object"),
    ("start", b"[" * 5000 + b"]" * 5000, "not JSON"),
    ("start", json.dumps({"dataset": "cifar"}).encode(), "unknown dataset"),
    ("join", json.dumps({"code": 123456}).encode(), "send the class code"),
    ("join", json.dumps({"code": "{code}", "name": ["Ada"]}).encode(), "name must be text"),
    ("join", json.dumps({"code": "{code}", "name": "a\u0000b"}).encode(), "printable"),
    ("drawing", json.dumps({"student_token": "{student}"}).encode(), "payload must be the canvas data"),
    ("drawing", json.dumps({"student_token": "{student}", "payload": 7}).encode(), "payload must be"),
    ("drawing", json.dumps({"student_token": "{student}", "payload": "{\"w\": 3}"}).encode(), "malformed"),
    ("drawing", json.dumps({"student_token": "{student}", "payload": ""}).encode(), "the canvas is empty"),
    ("pause", json.dumps({"student_token": "{student}", "paused": "yes"}).encode(), "paused must be true or false"),
    ("follow", json.dumps({"code": "{code}", "state": {"tab": "draw", "x": 1}}).encode(), "unknown key 'x'"),
    ("follow", b'{"code": "{code}", "state": {"sliders": [NaN]}}', "sliders must be"),
    ("follow", json.dumps({"code": "{code}", "state": {"lesson": "y" * 4000}}).encode(), "lesson must be"),
    ("challenge", json.dumps({"code": "{code}", "challenge": {"kind": "read_as", "target": 12}}).encode(), "0 to 9"),
    ("challenge", json.dumps({"code": "{code}", "challenge": "read 3"}).encode(), "a challenge is an object"),
    ("spotlight", json.dumps({"code": "{code}", "drawing_id": "1"}).encode(), "drawing_id must be"),
    ("remove", json.dumps({"code": "{code}"}).encode(), "drawing_id must be"),
    ("remove", json.dumps({"code": "{code}", "drawing_id": 2 ** 70}).encode(), "drawing_id must be"),
]


@pytest.mark.parametrize("path, body, message", MALFORMED)
def test_a_malformed_body_is_400_with_a_message(http, lesson, path, body, message):
    code, token, student = lesson
    body = body.replace(b"{code}", code.encode()).replace(b"{student}", student.encode())
    answer = http.post(url(path), content=body, headers={"content-type": "application/json", **teacher(token)})
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]


def test_the_board_asks_for_the_invitation_and_the_reconstructions(http, lesson):
    code, token, student = lesson
    invite = http.get(url("invite"), params={"code": code, "address": "http://10.0.0.5:7860/"}, headers=teacher(token))
    assert invite.status_code == 200 and invite.headers["cache-control"] == "no-store"
    assert invite.json()["link"] == f"http://10.0.0.5:7860/?class={code}"
    assert invite.json()["qr"].startswith("data:image/svg+xml")
    drawn = http.post(url("drawing"), json={"student_token": student, "payload": PAYLOAD}).json()
    rebuilt = http.get(url("rebuild"), params={"code": code, "drawing_id": drawn["id"]}, headers=teacher(token))
    assert rebuilt.status_code == 200 and [item["model"] for item in rebuilt.json()["images"]] == ["AE", "VAE"]
    gone = http.get(url("rebuild"), params={"code": code, "drawing_id": drawn["id"] + 1}, headers=teacher(token))
    assert gone.status_code == 404 and f"has no drawing {drawn['id'] + 1}" in gone.json()["error"]


@pytest.mark.parametrize("path, params, message", [
    ("invite", {}, "address must be"),
    ("invite", {"address": "javascript:alert(1)//"}, "address must be"),
    ("invite", {"address": "http://host:7860"}, "address must be"),
    ("rebuild", {}, "drawing_id must be"),
    ("rebuild", {"drawing_id": "-1"}, "drawing_id must be"),
    ("rebuild", {"drawing_id": "1e3"}, "drawing_id must be"),
    ("rebuild", {"drawing_id": "9" * 30}, "drawing_id must be"),
])
def test_bad_invite_and_rebuild_queries_are_400(http, lesson, path, params, message):
    code, token, _ = lesson
    answer = http.get(url(path), params={"code": code, **params}, headers=teacher(token))
    assert answer.status_code == 400 and message in answer.json()["error"]


def test_bad_query_values_are_400(http, lesson):
    code, token, _ = lesson
    answer = http.get(url("export"), params={"code": code, "what": "pdf"}, headers=teacher(token))
    assert answer.status_code == 400 and "zip, csv or board" in answer.json()["error"]
    answer = http.get(url("board"), headers=teacher(token))
    assert answer.status_code == 400 and "send the class code" in answer.json()["error"]


def test_auth_covers_every_class_route(tmp_path, monkeypatch):
    """With --auth, a request without the login cookie is refused before it reaches the class mode."""
    import gradio as gr
    import httpx

    from genexplorer.ui import launch

    monkeypatch.setenv("GENEXPLORER_CLASSES", str(tmp_path))
    monkeypatch.setenv("GENEXPLORER_LIVE_PROCESS", "0")   # no child process for the live drawings: not used here
    with gr.Blocks() as locked:
        gr.Markdown("locked")
    _, address, _ = launch(locked, block=False, server_name="127.0.0.1", quiet=True, auth=("teacher", "secret"))
    try:
        with httpx.Client(base_url=address.rstrip("/"), timeout=30) as client:
            for path, (method, _, _) in ROUTES.items():
                answer = client.request(method, url(path), json={} if method == "POST" else None)
                assert answer.status_code == 401, path
    finally:
        locked.close()
    assert not any(tmp_path.iterdir()), "nothing reached the store"
