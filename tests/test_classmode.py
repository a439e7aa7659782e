"""The class mode's store and requests (genexplorer/classmode), with a fake Judge: no checkpoints, no Gradio."""
import base64
import csv
import io
import json
import signal
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from genexplorer.classmode import (Challenge, ChallengeError, ClassError, ClassRoom, ClassStore, Conflict, Ended,
                                   Forbidden, Limits, NotFound, Reading, TooFast, check_follow_state)
from genexplorer.classmode.export import safe_cell
from genexplorer.classmode.store import CODE_ALPHABET

REPO = Path(__file__).resolve().parent.parent


class FakeJudge:
    """Reads every drawing as the test says: set ``probabilities``, ``error``, ``position``, ``distance``."""

    def __init__(self):
        self.probabilities = [0.01] * 10
        self.probabilities[7] = 0.91
        self.error, self.position, self.distance = 0.02, (1.0, -0.5), 0.25
        self.calls = 0

    def read(self, picture):
        assert picture.shape == (28, 28) and picture.dtype == np.uint8
        self.calls += 1
        best = int(np.argmax(self.probabilities))
        return str(best), list(self.probabilities)

    def rebuild_error(self, picture):
        return self.error

    def map_position(self, picture):
        return self.position

    def nearest_distance(self, x, y):
        return self.distance

    def rebuilds(self, picture):
        return [("AE", 255 - picture), ("VAE", picture)]


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


def drawn_seven(size=112):
    picture = Image.new("L", (size, size), 0)
    ImageDraw.Draw(picture).line([(30, 20), (80, 20), (45, 95)], fill=255, width=8)
    return np.asarray(picture)


def reading(**changes) -> Reading:
    fields = {"label": "7", "probabilities": tuple([0.01] * 7 + [0.91] + [0.01] * 2), "rebuild_error": 0.02,
              "map_x": 1.0, "map_y": -0.5, "emptiness": 0.25}
    return Reading(**{**fields, **changes})


PICTURE = np.zeros((28, 28), np.uint8)
PICTURE[5:20, 10:14] = 255


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    store = ClassStore(tmp_path, clock=clock)
    yield store
    store.close()


@pytest.fixture
def judge():
    return FakeJudge()


@pytest.fixture
def room(store, judge):
    return ClassRoom(store, lambda dataset: judge)


def start(room):
    answer = room.start({})
    return answer["code"], answer["teacher_token"]


# ------------------------------------------------------------------ a lesson from start to end

def test_a_class_from_start_to_export(room, judge, clock):
    code, teacher = start(room)
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    ada = room.join({"code": f"  {code.lower()} ", "name": "Ada"})
    bob = room.join({"code": code, "name": ""})
    assert (ada["name"], bob["name"]) == ("Ada", "student 2")
    drawn = room.draw(ada["student_token"], drawn_seven())
    assert drawn["label"] == "7" and drawn["probability"] == pytest.approx(0.91)
    assert drawn["image"].startswith("data:image/png;base64,") and drawn["map"] == [1.0, -0.5]
    assert drawn["score"] is None and judge.calls == 1

    board = room.board(code, teacher)
    assert [s["name"] for s in board["students"]] == ["Ada", "student 2"]
    assert board["students"][0]["latest"]["id"] == drawn["id"] and board["students"][1]["latest"] is None
    assert board["stars"] == [{"drawing_id": drawn["id"], "student_id": drawn["student_id"], "x": 1.0, "y": -0.5,
                               "label": "7"}]
    assert (board["shown"], board["total"], board["note"]) == (2, 2, None)

    clock.now += 60
    ended = room.end({"code": code}, teacher)
    assert ended["ended"] == clock.now
    with pytest.raises(Ended, match="has ended"):
        room.draw(ada["student_token"], drawn_seven())
    with pytest.raises(Ended):
        room.join({"code": code, "name": "Cy"})
    with pytest.raises(Ended):
        room.state(ada["student_token"])
    with pytest.raises(Ended):
        room.follow({"code": code, "state": {"tab": "draw"}}, teacher)
    assert room.end({"code": code}, teacher)["ended"] == ended["ended"], "ending twice changes nothing"
    assert room.board(code, teacher)["ended"] == ended["ended"], "the teacher still sees the board"
    data, media_type, name = room.export(code, teacher, "zip")
    assert media_type == "application/zip" and name == f"class-{code}.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["board.png", "drawings.csv", f"drawings/{drawn['id']:05d}-Ada.png"]


def test_wal_is_on_and_a_second_store_sees_committed_drawings(tmp_path, room, store):
    code, teacher = start(room)
    token = room.join({"code": code, "name": "Ada"})["student_token"]
    room.draw(token, drawn_seven())
    assert store.journal_mode() == "wal"
    other = ClassStore(tmp_path)
    try:
        assert len(other.drawings(other.teacher(code, teacher).id)) == 1
        other.add_drawing(token, PICTURE, reading())
        assert len(store.drawings(store.teacher(code, teacher).id)) == 2, "and the first sees the second's"
    finally:
        other.close()


def _run(script: str, *args, timeout=60):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


WRITER = """
    import os, signal, sys
    import numpy as np
    from genexplorer.classmode import ClassStore, Limits, Reading
    store = ClassStore(sys.argv[1], limits=Limits(drawings_per_minute=1000))
    picture = np.full((28, 28), 9, np.uint8)
    read = Reading("3", tuple([0.1] * 10), 0.05, 0.0, 0.0, 1.0)
    for _ in range(int(sys.argv[3])):
        drawing = store.add_drawing(sys.argv[2], picture, read)
        print(drawing.id, flush=True)
    if sys.argv[4] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)   # no close, no clean exit
"""


def test_a_killed_process_loses_no_committed_drawing(tmp_path, room, store):
    code, teacher = start(room)
    token = room.join({"code": code, "name": "Ada"})["student_token"]
    done = _run(WRITER, tmp_path, token, 12, "kill")
    assert done.returncode == -signal.SIGKILL, done.stderr
    committed = [int(line) for line in done.stdout.split()]
    assert len(committed) == 12
    reopened = ClassStore(tmp_path)
    try:
        assert [d.id for d in reopened.drawings(reopened.teacher(code, teacher).id)] == committed
    finally:
        reopened.close()


def test_two_processes_share_one_file_and_its_caps(tmp_path, clock):
    limits = Limits(students_per_class=10, drawings_per_minute=1000)
    store = ClassStore(tmp_path, limits=limits)
    try:
        info, teacher = store.start()
        joiner = """
            import sys
            from genexplorer.classmode import ClassStore, Conflict, Limits
            store = ClassStore(sys.argv[1], limits=Limits(students_per_class=10))
            for i in range(10):
                try:
                    store.join(sys.argv[2], f"child {i}")
                except Conflict:
                    print("full", flush=True)
        """
        child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(joiner), str(tmp_path), info.code], cwd=REPO,
                                 stdout=subprocess.PIPE, text=True)
        refused = 0
        for i in range(10):
            try:
                store.join(info.code, f"parent {i}")
            except Conflict:
                refused += 1
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        assert refused + out.split().count("full") == 10, "exactly ten joined across both processes"
        assert store.board(info).total_students == 10

        other, _ = store.start()   # the first class is full: a second one for the drawings
        student_token = store.join(other.code, "Ada")[1]
        writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(tmp_path), student_token, "40",
                                   "exit"], cwd=REPO, stdout=subprocess.PIPE, text=True)
        for _ in range(40):
            store.add_drawing(student_token, PICTURE, reading())
        writer.communicate(timeout=60)
        assert writer.returncode == 0
        assert len(store.drawings(other.id)) == 80
    finally:
        store.close()


def test_threads_of_one_store_write_at_once(store):
    info, _ = store.start()
    tokens = [store.join(info.code, f"s{i}")[1] for i in range(4)]
    errors = []

    def draw(token):
        try:
            for _ in range(10):
                store.add_drawing(token, PICTURE, reading())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=draw, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(store.drawings(info.id)) == 40


# ------------------------------------------------------------------ caps and their messages

def test_caps_have_clear_messages(tmp_path, clock, judge):
    limits = Limits(students_per_class=2, classes_at_once=2, drawings_per_minute=3, drawings_per_class=5,
                    board_size=1)
    store = ClassStore(tmp_path, limits=limits, clock=clock)
    room = ClassRoom(store, lambda dataset: judge)
    code, teacher = start(room)
    start(room)
    with pytest.raises(Conflict, match="2 classes are running on this app, its most at once"):
        start(room)
    ada = room.join({"code": code, "name": "Ada"})["student_token"]
    bob = room.join({"code": code})["student_token"]
    with pytest.raises(Conflict, match=f"class {code} is full: it has 2 students"):
        room.join({"code": code, "name": "Cy"})
    for _ in range(3):
        room.draw(ada, drawn_seven())
    calls = judge.calls
    with pytest.raises(TooFast, match="at most 3 drawings a minute") as refused:
        room.draw(ada, drawn_seven())
    assert refused.value.status == 429 and 1 <= refused.value.retry_after_s <= 60
    assert judge.calls == calls, "a refused drawing costs no model time"
    clock.now += 61
    room.draw(ada, drawn_seven())
    room.draw(bob, drawn_seven())
    with pytest.raises(Conflict, match="has 5 drawings, the most one class keeps"):
        room.draw(bob, drawn_seven())
    board = room.board(code, teacher)
    assert (board["shown"], board["total"]) == (1, 2)
    assert board["note"] == "the board shows the first 1 of 2 students"
    room.end({"code": code}, teacher)
    start(room)  # an ended class frees its place
    store.close()


def test_a_class_nobody_ended_ends_by_itself(tmp_path, clock, judge):
    store = ClassStore(tmp_path, limits=Limits(classes_at_once=1, class_hours=2), clock=clock)
    room = ClassRoom(store, lambda dataset: judge)
    code, teacher = start(room)
    clock.now += 2 * 3600 + 1
    with pytest.raises(Ended):
        room.join({"code": code, "name": "Ada"})
    start(room)
    store.close()


@pytest.mark.parametrize("name, message", [
    ("x" * 25, "at most 24 characters"),
    ("line\nbreak", "printable"),
    ("tab\there", "printable"),
    ("bidi\u202eoverride", "printable"),
    (42, "name must be text"),
])
def test_bad_names_are_refused(room, name, message):
    code, _ = start(room)
    with pytest.raises(ClassError, match=message):
        room.join({"code": code, "name": name})


def test_names_are_kept_as_typed_escaped_on_output_and_unique(room):
    code, teacher = start(room)
    evil = '<img src=x onerror="alert(1)">'
    joined = room.join({"code": code, "name": evil[:24]})
    assert joined["name"] == "&lt;img src=x onerror=&quot;aler"
    with pytest.raises(Conflict, match="already called"):
        room.join({"code": code, "name": evil[:24].upper()})
    room.join({"code": code, "name": "student 2"})
    assert room.join({"code": code, "name": "  "})["name"] == "student 3", "a taken 'student N' is skipped"
    drawing = room.draw(joined["student_token"], drawn_seven())
    room.challenge({"code": code, "challenge": {"kind": "read_as", "target": 7}}, teacher)
    room.draw(joined["student_token"], drawn_seven())
    room.spotlight({"code": code, "drawing_id": drawing["id"]}, teacher)
    board = room.board(code, teacher)
    state = room.state(joined["student_token"])
    shown = [board["students"][0]["name"], board["ranking"][0]["name"], board["spotlight"]["name"],
             state["you"]["name"], state["spotlight"]["name"]]
    assert all(name == joined["name"] for name in shown)
    assert "<img" not in str(board) and "<img" not in str(state)


def test_unknown_and_malformed_codes(room):
    with pytest.raises(NotFound, match="there is no class"):
        room.join({"code": "ACDEFG", "name": "Ada"})
    with pytest.raises(NotFound, match="there is no class"):
        room.join({"code": "0O1IL!", "name": "Ada"})
    with pytest.raises(ClassError, match="send the class code"):
        room.join({"name": "Ada"})
    with pytest.raises(ClassError, match="send the class code"):
        room.join({"code": ["ACDEFG"]})


# ------------------------------------------------------------------ tokens: one class each

def test_tokens_work_only_in_their_own_class(room):
    code_a, teacher_a = start(room)
    code_b, teacher_b = start(room)
    ada = room.join({"code": code_a, "name": "Ada"})["student_token"]
    bob = room.join({"code": code_b, "name": "Bob"})["student_token"]
    in_b = room.draw(bob, drawn_seven())
    for token in (None, "", "guess", teacher_b, ada, teacher_a + "x", 7):
        with pytest.raises(Forbidden, match="only the teacher who started this class"):
            room.board(code_a, token)
    for token in (None, "", "guess", teacher_a, 7):
        with pytest.raises(Forbidden):
            room.state(token)
    with pytest.raises(Forbidden):
        room.follow({"code": code_a, "state": {}}, teacher_b)
    with pytest.raises(Forbidden):
        room.end({"code": code_a}, ada)
    with pytest.raises(Forbidden):
        room.export(code_a, teacher_b)
    # Two classes never see each other's drawings.
    board_a = room.board(code_a, teacher_a)
    assert board_a["stars"] == [] and all(s["latest"] is None for s in board_a["students"])
    with pytest.raises(NotFound, match=f"class {code_a} has no drawing {in_b['id']}"):
        room.spotlight({"code": code_a, "drawing_id": in_b["id"]}, teacher_a)
    with pytest.raises(NotFound):
        room.remove({"code": code_a, "drawing_id": in_b["id"]}, teacher_a)
    assert room.state(ada)["you"]["drawings"] == 0 and room.state(bob)["you"]["drawings"] == 1
    assert room.state(ada)["code"] == code_a
    assert room.export(code_a, teacher_a, "csv")[0].decode("utf-8-sig").count("\r\n") == 1, "the header only"


def test_only_hashes_of_tokens_are_stored(room, store):
    code, teacher = start(room)
    student = room.join({"code": code, "name": "Ada"})["student_token"]
    raw = store.path.read_bytes() + Path(str(store.path) + "-wal").read_bytes()
    assert teacher.encode() not in raw and student.encode() not in raw


# ------------------------------------------------------------------ challenges and scores

@pytest.mark.parametrize("spec, score", [
    ({"kind": "read_as", "target": 3}, 0.3),
    ({"kind": "fool", "drawn": 4, "target": 9}, 0.05),
    ({"kind": "rebuild", "goal": "worst"}, 0.02),
    ({"kind": "rebuild", "goal": "best"}, 0.98),
    ({"kind": "empty_map"}, 0.25),
])
def test_each_challenge_scores_the_reading(spec, score):
    probabilities = (0.05, 0.05, 0.05, 0.3, 0.05, 0.05, 0.05, 0.3, 0.05, 0.05)
    challenge = Challenge.from_request(spec, tuple("0123456789"))
    assert challenge.score(reading(probabilities=probabilities)) == pytest.approx(score)
    assert Challenge(**challenge.fields()) == challenge


def test_prompts():
    names = tuple("0123456789")
    assert Challenge("fool", target=9, drawn=4).prompt(names) == "Fool the classifier: draw a 4 it reads as 9"
    assert Challenge("rebuild", goal="worst").prompt(names) == "Draw something the VAE rebuilds worst"


@pytest.mark.parametrize("spec, message", [
    ("read 3", "a challenge is an object"),
    ({"kind": "guess"}, "unknown challenge kind"),
    ({"kind": "read_as"}, "target must be a class number from 0 to 9"),
    ({"kind": "read_as", "target": 10}, "from 0 to 9"),
    ({"kind": "read_as", "target": True}, "from 0 to 9"),
    ({"kind": "read_as", "target": 3, "goal": "best"}, "takes target, not goal"),
    ({"kind": "fool", "drawn": 4, "target": 4}, "must differ"),
    ({"kind": "rebuild", "goal": "average"}, "goal must be one of worst, best"),
])
def test_bad_challenges_are_refused(spec, message):
    with pytest.raises(ChallengeError, match=message):
        Challenge.from_request(spec, tuple("0123456789"))


def test_the_board_ranks_drawings_made_under_the_current_challenge(room, judge):
    code, teacher = start(room)
    ada, bob, cy = (room.join({"code": code, "name": n})["student_token"] for n in ("Ada", "Bob", "Cy"))
    judge.probabilities = [0.0] * 9 + [0.99]
    room.draw(cy, drawn_seven())          # before the challenge: does not count
    answer = room.challenge({"code": code, "challenge": {"kind": "fool", "drawn": 4, "target": 9}}, teacher)
    assert answer["challenge"]["prompt"] == "Fool the classifier: draw a 4 it reads as 9"
    for token, p in ((ada, 0.4), (bob, 0.8), (ada, 0.6)):
        judge.probabilities = [0.0] * 9 + [p]
        assert room.draw(token, drawn_seven())["score"] == pytest.approx(p)
    board = room.board(code, teacher)
    ranking = [(r["rank"], r["name"], round(r["score"], 2)) for r in board["ranking"]]
    assert ranking == [(1, "Bob", 0.8), (2, "Ada", 0.6)]
    you = room.state(ada)["you"]
    assert (round(you["score"], 2), you["rank"], you["ranked"]) == (0.6, 2, 2)
    assert room.state(cy)["you"]["score"] is None
    room.challenge({"code": code, "challenge": None}, teacher)
    assert room.board(code, teacher)["ranking"] == [] and room.board(code, teacher)["challenge"] is None


# ------------------------------------------------------------------ follow-me, spotlight, moderation, pause

def test_follow_me_state_is_checked_and_versioned(room):
    code, teacher = start(room)
    token = room.join({"code": code, "name": "Ada"})["student_token"]
    state = {"tab": "sliders", "dataset": "mnist", "model": "mnist-vae", "label": 3, "sliders": [0.5, -1.0],
             "seed": 7, "lesson": "a ring of 8: mode collapse?", "playing": True}
    assert room.follow({"code": code, "state": state}, teacher) == {"follow_version": 1}
    assert room.follow({"code": code, "state": {"tab": "draw"}}, teacher) == {"follow_version": 2}
    seen = room.state(token)
    assert (seen["follow"], seen["follow_version"]) == ({"tab": "draw"}, 2)


@pytest.mark.parametrize("state, message", [
    (["draw"], "state must be an object"),
    ({"tab": "draw", "script": "alert(1)"}, "unknown key 'script'"),
    ({"tab": "<b>"}, "tab must be a tab id"),
    ({"dataset": "cifar"}, "dataset must be one of mnist, fashion"),
    ({"sliders": [float("nan")]}, "sliders must be a list"),
    ({"sliders": [0.0] * 65}, "at most 64"),
    ({"sliders": [11]}, "between -10 and 10"),
    ({"rest": [0.0] * 1025}, "rest must be a list of at most 1024"),
    ({"rest": [float("inf")]}, "rest must be a list"),
    ({"rest": "0,1"}, "rest must be a list"),
    ({"label": 3.5}, "label must be a class number"),
    ({"label": True}, "label must be a class number"),
    ({"playing": "yes"}, "playing must be true or false"),
    ({"seed": -1}, "seed must be"),
    ({"lesson": ""}, "lesson must be"),
    ({"lesson": "x" * 81}, "1-80 printable characters"),
    ({"lesson": "two\nlines"}, "lesson must be"),
])
def test_bad_follow_states_are_refused(state, message):
    with pytest.raises(ClassError, match=message):
        check_follow_state(state)


def test_the_whole_code_of_the_widest_model_its_class_and_seed_can_be_followed():
    """A shipped model's code past its 16 sliders (up to 1,024 numbers, 3 decimals as the page sends them) fits
    the state, with the class and the seed; the state has a size cap all the same."""
    from genexplorer.ui.class_routes import MAX_BODY_BYTES

    rest = [round(-9.999 + i / 100, 3) for i in range(1024 - 16)]
    state = {"tab": "sliders", "dataset": "fashion", "model": "fashion-ae-sparse", "label": 9, "seed": 2 ** 31 - 1,
             "sliders": [-2.345] * 16, "rest": rest, "lesson": "x" * 80, "playing": False}
    assert check_follow_state(state) == state
    assert len(json.dumps({"code": "ACDEFG", "state": state})) < MAX_BODY_BYTES
    with pytest.raises(ClassError, match="larger than 12288 bytes"):
        check_follow_state({**state, "sliders": [-2.3456789] * 64, "rest": [-9.87654321] * 1024})


def test_every_gan_lab_lesson_can_be_followed():
    """The page pushes the GAN lab's lesson by its name, as its dropdown shows it."""
    from genexplorer import toy

    for lesson in toy.PRESETS:
        assert check_follow_state({"tab": "ganlab", "lesson": lesson, "playing": False})["lesson"] == lesson


def test_the_invitation_link_and_its_qr_code(room):
    import segno

    code, teacher = start(room)
    invite = room.invite(code, teacher, "http://192.168.1.20:7860/")
    assert invite["link"] == f"http://192.168.1.20:7860/?class={code}"
    assert invite["qr"] == segno.make(invite["link"], error="m").svg_data_uri(border=2, omitsize=True)
    assert invite["qr"].startswith("data:image/svg+xml")
    behind_a_proxy = room.invite(code.lower(), teacher, "https://school.example/genexplorer/")
    assert behind_a_proxy["link"] == f"https://school.example/genexplorer/?class={code}"
    for address in (None, "", "javascript:alert(1)//", "http://host:7860", "http://host/?x=1/", "ftp://host/",
                    'http://host/"onload=alert(1)/', "http://" + "a" * 300 + "/", "http://host /"):
        with pytest.raises(ClassError, match="address must be the page's address"):
            room.invite(code, teacher, address)
    with pytest.raises(Forbidden):
        room.invite(code, "guess", "http://host/")


def test_each_models_reconstruction_of_a_drawing_on_demand(room):
    code, teacher = start(room)
    token = room.join({"code": code, "name": "Ada"})["student_token"]
    drawn = room.draw(token, drawn_seven())
    rebuilt = room.rebuild(code, teacher, str(drawn["id"]))
    assert rebuilt["drawing_id"] == drawn["id"] and [item["model"] for item in rebuilt["images"]] == ["AE", "VAE"]
    pictures = [np.asarray(Image.open(io.BytesIO(base64.b64decode(item["image"].split(",", 1)[1]))))
                for item in rebuilt["images"]]
    assert pictures[0].shape == (28, 28) and (pictures[0] == 255 - pictures[1]).all()
    other_code, other_teacher = start(room)
    for asked, error in (((other_code, other_teacher, drawn["id"]), NotFound), ((code, other_teacher, drawn["id"]),
                         Forbidden), ((code, teacher, "seven"), ClassError), ((code, teacher, None), ClassError),
                         ((code, teacher, drawn["id"] + 1), NotFound)):
        with pytest.raises(error):
            room.rebuild(*asked)
    room.remove({"code": code, "drawing_id": drawn["id"]}, teacher)
    with pytest.raises(NotFound, match=f"has no drawing {drawn['id']}"):
        room.rebuild(code, teacher, drawn["id"])


def test_spotlight_remove_and_pause(room, store):
    code, teacher = start(room)
    token = room.join({"code": code, "name": "Ada"})["student_token"]
    first = room.draw(token, drawn_seven())
    second = room.draw(token, drawn_seven())
    spot = room.spotlight({"code": code, "drawing_id": first["id"]}, teacher)["spotlight"]
    assert spot["id"] == first["id"] and spot["name"] == "Ada"
    assert room.state(token)["spotlight"]["id"] == first["id"]
    room.remove({"code": code, "drawing_id": first["id"]}, teacher)
    assert room.state(token)["spotlight"] is None, "a removed drawing leaves the spotlight"
    assert [star["drawing_id"] for star in room.board(code, teacher)["stars"]] == [second["id"]]
    assert [d.id for d in store.drawings(store.teacher(code, teacher).id)] == [second["id"]]
    assert not store.drawing(first["id"]).picture.any(), "the picture itself is deleted"
    with pytest.raises(NotFound):
        room.remove({"code": code, "drawing_id": first["id"]}, teacher)
    room.remove({"code": code, "drawing_id": second["id"]}, teacher)
    assert room.board(code, teacher)["students"][0]["latest"] is None
    assert room.pause({"student_token": token, "paused": True}) == {"paused": True}
    with pytest.raises(Conflict, match="you paused sharing"):
        room.draw(token, drawn_seven())
    assert room.board(code, teacher)["students"][0]["paused"] is True
    room.pause({"student_token": token, "paused": False})
    room.draw(token, drawn_seven())
    with pytest.raises(ClassError, match="paused must be true or false"):
        room.pause({"student_token": token, "paused": "no"})


def test_empty_and_blank_drawings_are_refused(room, judge):
    code, _ = start(room)
    token = room.join({"code": code, "name": "Ada"})["student_token"]
    with pytest.raises(ClassError, match="the canvas is empty"):
        room.draw(token, None)
    faint = np.zeros((112, 112), np.uint8)
    faint[50, 50] = 3
    with pytest.raises(ClassError, match="blank"):
        room.draw(token, faint)
    assert judge.calls == 0


def test_a_failing_model_gives_a_clear_503(room, judge):
    code, _ = start(room)
    token = room.join({"code": code, "name": "Ada"})["student_token"]
    judge.position = (float("nan"), 0.0)
    with pytest.raises(ClassError, match="not finite") as refused:
        room.draw(token, drawn_seven())
    assert refused.value.status == 503


# ------------------------------------------------------------------ export

@pytest.mark.parametrize("text, cell", [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM", "'@SUM"),
    ("\tx", "'\tx"), ("Ada", "Ada"), ("a=b", "a=b"),
])
def test_csv_cells_never_start_a_formula(text, cell):
    assert safe_cell(text) == cell


def test_export_csv_zip_and_board(room, judge):
    code, teacher = start(room)
    evil = room.join({"code": code, "name": "=cmd|' /C calc'!A0"})["student_token"]
    ada = room.join({"code": code, "name": "Ada"})["student_token"]
    room.challenge({"code": code, "challenge": {"kind": "read_as", "target": 7}}, teacher)
    drawings = [room.draw(token, drawn_seven()) for token in (evil, ada, ada)]
    csv_bytes, media_type, name = room.export(code, teacher, "csv")
    assert media_type.startswith("text/csv") and name == f"class-{code}.csv"
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert [int(row["drawing"]) for row in rows] == [d["id"] for d in drawings]
    assert rows[0]["student"] == "'=cmd|' /C calc'!A0" and rows[1]["student"] == "Ada"
    assert rows[0]["challenge"] == "Draw something the classifier reads as 7" and float(rows[0]["score"]) == 0.91
    assert rows[0]["map_y"] == "-0.5000", "numbers stay numbers"
    with zipfile.ZipFile(io.BytesIO(room.export(code, teacher, "zip")[0])) as archive:
        names = archive.namelist()
        assert f"drawings/{drawings[0]['id']:05d}-cmd-C-calc-A0.png" in names
        assert sum(n.startswith("drawings/") and n.endswith(".png") for n in names) == 3
        picture = np.asarray(Image.open(io.BytesIO(archive.read(f"drawings/{drawings[1]['id']:05d}-Ada.png"))))
        assert picture.shape == (28, 28) and picture.max() == 255
        assert archive.read("drawings.csv") == csv_bytes
    board, media_type, _ = room.export(code, teacher, "board")
    shown = Image.open(io.BytesIO(board))
    assert media_type == "image/png" and shown.width >= 2 * 112 and shown.height > 112
    with pytest.raises(ClassError, match="zip, csv or board"):
        room.export(code, teacher, "pdf")


# ------------------------------------------------------------------ the real models

def test_the_shipped_checkpoints_judge_a_drawn_seven(tmp_path):
    from genexplorer.classmode.judge import CheckpointJudges

    room = ClassRoom(ClassStore(tmp_path), CheckpointJudges(rebuild_roles=(("ae", "AE"), ("cvae", "CVAE"))))
    code, teacher = start(room)
    token = room.join({"code": code, "name": "Ada"})["student_token"]
    room.challenge({"code": code, "challenge": {"kind": "empty_map"}}, teacher)
    drawn = room.draw(token, drawn_seven())
    assert drawn["label"] == "7" and drawn["probability"] > 0.5
    assert sum(drawn["probabilities"]) == pytest.approx(1.0, abs=1e-4)
    assert 0 < drawn["rebuild_error"] < 0.1
    assert all(abs(v) < 10 for v in drawn["map"]) and drawn["score"] == drawn["emptiness"] >= 0
    rebuilt = room.rebuild(code, teacher, drawn["id"])["images"]
    assert [item["model"] for item in rebuilt] == ["AE", "CVAE"]
    assert all(item["image"].startswith("data:image/png;base64,") for item in rebuilt)
    room.store.close()


def test_the_store_opens_lazily_under_its_folder(tmp_path):
    folder = tmp_path / "not yet"
    store = ClassStore(folder)
    assert not folder.exists()
    store.start()
    assert (folder / "classes.sqlite3").is_file()
    store.close()
