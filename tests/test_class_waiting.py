"""The class state and board as long polls (genexplorer/ui/class_routes.py): ?since=<the last answer's version>
&wait=<s> answers at once when something changed, else when this process writes a change (a follow-me push, a
drawing), else after ``wait`` with the same answer. Through Starlette's TestClient; the waiting request runs in a
thread while the test writes."""
import threading
import time

import pytest

from genexplorer.ui.class_routes import MAX_WAIT_S
from test_classmode_api import PAYLOAD, clock, http, lesson, teacher, url  # noqa: F401 - fixtures


class Waiting(threading.Thread):
    """One GET in a thread: .answer and .seconds once joined."""

    def __init__(self, http, path, **asked):
        super().__init__(daemon=True)
        self.http, self.path, self.asked = http, path, asked

    def run(self):
        started = time.monotonic()
        self.answer = self.http.get(url(self.path), **self.asked)
        self.seconds = time.monotonic() - started


def state(http, student, **params):
    return http.get(url("state"), headers={"X-Student-Token": student}, params=params)


def waiting_student(http, student, settle_s: float):
    """A student's state answer, then the same student waiting for a change (started, ``settle_s`` in)."""
    first = state(http, student).json()
    waiting = Waiting(http, "state", headers={"X-Student-Token": student},
                      params={"since": first["version"], "wait": 10})
    waiting.start()
    time.sleep(settle_s)
    return first, waiting


def test_a_follow_me_push_wakes_a_waiting_student_at_once(http, lesson):
    code, token, student = lesson
    first, waiting = waiting_student(http, student, 0.5)
    assert waiting.is_alive(), "nothing changed: it waits"
    pushed = time.monotonic()
    http.post(url("follow"), json={"code": code, "state": {"tab": "sliders"}}, headers=teacher(token))
    waiting.join(10)
    assert waiting.answer.status_code == 200 and waiting.answer.json()["follow_version"] == 1
    assert time.monotonic() - pushed < 1.0, "woken by the push, not by the 2 s recheck"
    assert waiting.answer.json()["version"] != first["version"]


def test_a_drawing_wakes_the_waiting_board(http, lesson):
    code, token, student = lesson
    first = http.get(url("board"), params={"code": code}, headers=teacher(token)).json()
    waiting = Waiting(http, "board", headers=teacher(token),
                      params={"code": code, "since": first["version"], "wait": 10})
    waiting.start()
    time.sleep(0.3)
    assert waiting.is_alive()
    drawn = http.post(url("drawing"), json={"student_token": student, "payload": PAYLOAD}).json()
    waiting.join(10)
    board = waiting.answer.json()
    assert board["students"][0]["latest"]["id"] == drawn["id"] and board["version"] != first["version"]
    assert waiting.seconds < 1.5


def test_an_unchanged_answer_comes_after_the_wait_and_a_changed_one_at_once(http, lesson):
    code, token, student = lesson
    first = state(http, student).json()
    started = time.monotonic()
    same = state(http, student, since=first["version"], wait=0.6).json()
    assert 0.55 < time.monotonic() - started < 3.0 and same == first
    started = time.monotonic()
    assert state(http, student, since="an older version", wait=10).json() == first
    assert time.monotonic() - started < 1.0
    board = http.get(url("board"), params={"code": code, "since": "x", "wait": 10}, headers=teacher(token))
    assert board.status_code == 200 and board.json()["version"]


def test_a_change_by_another_process_is_seen_at_the_recheck(http, lesson, tmp_path):
    """Several app processes share one store: a write this process did not make wakes nobody, and shows within
    the recheck (2 s for the students)."""
    from genexplorer.classmode import ClassStore
    code, token, student = lesson
    _, waiting = waiting_student(http, student, 0.3)
    other = ClassStore(tmp_path)     # the same SQLite file, as another process opens it
    other.set_follow(code, token, {"tab": "draw"})
    other.close()
    waiting.join(10)
    assert waiting.answer.json()["follow_version"] == 1 and waiting.seconds < 3.5


@pytest.mark.parametrize("wait", ["soon", "-1", str(MAX_WAIT_S + 1), "nan", "inf"])
def test_a_bad_wait_is_400(http, lesson, wait):
    code, token, student = lesson
    for answer in (state(http, student, wait=wait),
                   http.get(url("board"), params={"code": code, "wait": wait}, headers=teacher(token))):
        assert answer.status_code == 400 and "wait must be a number of seconds" in answer.json()["error"]


def test_waiting_never_skips_the_token_checks(http, lesson):
    code, token, student = lesson
    started = time.monotonic()
    assert state(http, "guess", since="x", wait=10).status_code == 403
    assert http.get(url("board"), params={"code": code, "since": "x", "wait": 10},
                    headers=teacher(student)).status_code == 403
    http.post(url("end"), json={"code": code}, headers=teacher(token))
    assert state(http, student, since="x", wait=10).status_code == 410
    assert time.monotonic() - started < 2.0
