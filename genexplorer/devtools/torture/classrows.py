"""Class mode's routes in the torture run (ui/class_routes.py, README "The class API"): every route with every
malformed body or query, every refusal the issue names (403 without the teacher's token, a student token only in
its own class, a wrong or ended class), then the caps (drawings a minute, students per class and the board, classes
at once) and ``--auth``.

Each row is data: a method, a route, a body or query and a token, with ``{placeholders}`` the lesson fills in (the
classes, tokens and a drawing made first), and the status and words the answer must have. Outcomes as the
catalogue's: a clear error (the status and a message that says the words), handled (a 2xx that says them), wrong,
or a crash (a 5xx, no answer, an error without a message).
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

from ...canvas_payload import encode_payload
from ...classmode.room import body_cap
from .bad_files import drawn_digit
from .catalogue import Outcome

CLASS = "/genexplorer/class/"
POSTS = ("start", "join", "drawing", "pause", "follow", "challenge", "spotlight", "remove", "end")
GETS = ("state", "board", "export", "invite", "rebuild")
TEACHER_ROUTES = {   # route -> a body (POST) or a query (GET) that the teacher of class {a} may send
    "board": {"code": "{a}"}, "export": {"code": "{a}"}, "invite": {"code": "{a}", "address": "http://10.0.0.2:7860/"},
    "rebuild": {"code": "{a}", "drawing_id": "{drawing}"},
    "follow": {"code": "{a}", "state": {"tab": "draw"}}, "challenge": {"code": "{a}", "challenge": None},
    "spotlight": {"code": "{a}", "drawing_id": None}, "remove": {"code": "{a}", "drawing_id": "{drawing}"},
    "end": {"code": "{a}"},
}
# Tokens a teacher route is sent with instead of class {a}'s teacher's: none, a guess, class {b}'s teacher's, a
# student's of class {a}.
NOT_THE_TEACHER = (("no token", None), ("a guessed token", "guess-" + "x" * 30), ("class B's teacher token", "{tb}"),
                   ("a student's token", "{sa}"))
MALFORMED = (("empty body", "", 0, "."), ("not JSON", "{not json", 400, "not JSON"),
             ("JSON null", "null", 400, "JSON object"), ("a number", "42", 400, "JSON object"),
             ("a string", '"hello"', 400, "JSON object"), ("a list", "[1, 2]", 400, "JSON object"),
             ("nested 5,000 deep", "[" * 5_000 + "]" * 5_000, 400, "not JSON"))


@dataclass(frozen=True)
class ClassRow:
    name: str
    route: str
    body: object = None            # POST: a dict (sent as JSON) or raw text; GET: the query (a dict)
    teacher: str | None = None     # the X-Teacher-Token header
    student: str | None = None     # the X-Student-Token header
    status: int = 400              # 0: any 2xx or 4xx with a message
    match: str = "."
    within_s: float | None = None  # the answer must come sooner (a refused long poll must not wait first)


def _post(route: str) -> bool:
    return route in POSTS


def malformed_rows() -> list[ClassRow]:
    """Every POST route with every malformed body shape; every GET route with a broken query."""
    rows = [ClassRow(f"class {route}: {what}", route, body, teacher="{ta}", status=status, match=match)
            for route in POSTS for what, body, status, match in MALFORMED
            if not (route == "start" and what == "empty body")]   # an empty start is a class: the caps' rows count them
    rows += [ClassRow(f"class {route}: a body past its cap", route, " " * (cap + 1), teacher="{ta}", status=413,
                      match="larger than") for route in POSTS for cap in [body_cap(route)]]
    rows += [ClassRow(f"class {route}: an empty object", route, {}, teacher="{ta}", status=400, match=match)
             for route, match in (("join", "class code"), ("drawing", "payload"), ("pause", "paused must be"),
                                  ("follow", "state must be"), ("challenge", "class code"), ("spotlight", "class code"),
                                  ("remove", "drawing_id"), ("end", "class code"))]
    rows += [ClassRow(f"class {route}: no code", route, {}, teacher="{ta}", match="class code")
             for route in ("board", "export", "invite", "rebuild")]
    for route in ("board", "export", "invite", "rebuild"):
        rows += [ClassRow(f"class {route}: code '../../etc'", route, {"code": "../../etc"}, teacher="{ta}", status=404,
                          match="no class"),
                 ClassRow(f"class {route}: code of 10,000 characters", route, {"code": "A" * 10_000}, teacher="{ta}",
                          status=404, match="no class")]
    rows += [
        ClassRow("class export: what 'exe'", "export", {"code": "{a}", "what": "exe"}, teacher="{ta}",
                 match="zip, csv or board"),
        ClassRow("class invite: address 'javascript:alert(1)'", "invite", {"code": "{a}", "address": "javascript:alert(1)"},
                 teacher="{ta}", match="address must be"),
        ClassRow("class invite: no address", "invite", {"code": "{a}"}, teacher="{ta}", match="address must be"),
        *[ClassRow(f"class rebuild: drawing_id {value!r}", "rebuild", {"code": "{a}", "drawing_id": value},
                   teacher="{ta}", status=status, match=match)
          for value, status, match in (("-1", 400, "drawing_id"), ("1e3", 400, "drawing_id"), ("x", 400, "drawing_id"),
                                       ("9" * 30, 400, "drawing_id"), ("999999", 404, "no drawing"))],
        ClassRow("class start: dataset '../../etc'", "start", {"dataset": "../../etc"}, match="unknown dataset"),
        ClassRow("class join: name of 25 characters", "join", {"code": "{a}", "name": "n" * 25}, match="at most 24"),
        ClassRow("class join: name with a NUL", "join", {"code": "{a}", "name": "a\x00b"}, match="printable"),
        ClassRow("class join: name as a number", "join", {"code": "{a}", "name": 7}, match="name must be text"),
        ClassRow("class join: name '<script>' (kept, escaped)", "join", {"code": "{a}", "name": "<script>x"},
                 status=200, match="&lt;script&gt;x"),
        ClassRow("class join: a name taken (any case)", "join", {"code": "{a}", "name": "ADA"}, status=409,
                 match="already called"),
        ClassRow("class drawing: payload as an object", "drawing", {"student_token": "{sa}", "payload": {"w": 8}},
                 match="payload must be"),
        ClassRow("class drawing: canvas 10^9 x 10^9", "drawing",
                 {"student_token": "{sa}", "payload": json.dumps({"w": 10 ** 9, "h": 10 ** 9, "data": ""})},
                 match="wrong size"),
        ClassRow("class drawing: a blank canvas", "drawing",
                 {"student_token": "{sa}", "payload": encode_payload(drawn_digit() * 0)}, match="empty|blank"),
        ClassRow("class pause: paused 'yes'", "pause", {"student_token": "{sa}", "paused": "yes"},
                 match="paused must be"),
        ClassRow("class follow: an unknown key", "follow", {"code": "{a}", "state": {"script": "alert(1)"}},
                 teacher="{ta}", match="unknown key"),
        ClassRow("class follow: 1,025 numbers past the sliders", "follow",
                 {"code": "{a}", "state": {"rest": [0.0] * 1025}}, teacher="{ta}", match="at most 1024"),
        ClassRow("class follow: a state over 12 kB", "follow",
                 {"code": "{a}", "state": {"rest": [-9.87654321] * 1024}}, teacher="{ta}", match="larger than"),
        ClassRow("class follow: sliders NaN", "follow", '{"code": "{a}", "state": {"sliders": [NaN]}}',
                 teacher="{ta}", match="sliders must be"),
        ClassRow("class challenge: kind 'rm -rf'", "challenge", {"code": "{a}", "challenge": {"kind": "rm -rf"}},
                 teacher="{ta}", match="kind"),
        ClassRow("class challenge: read as class 99", "challenge",
                 {"code": "{a}", "challenge": {"kind": "read_as", "target": 99}}, teacher="{ta}", match="target"),
        ClassRow("class spotlight: drawing_id 'x'", "spotlight", {"code": "{a}", "drawing_id": "x"}, teacher="{ta}",
                 match="drawing_id"),
    ]
    return rows


def waiting_rows() -> list[ClassRow]:
    """The long polls' ``since`` and ``wait`` (GET state and board): a bad wait is refused at once, a refused token
    is refused before any waiting, an unknown ``since`` answers at once, the current one after the wait."""
    rows = []
    for route, auth in (("state", {"student": "{sa}"}), ("board", {"teacher": "{ta}"})):
        code = {"code": "{a}"} if route == "board" else {}
        rows += [ClassRow(f"class {route}: wait {wait!r}", route, {**code, "wait": wait}, **auth, match="wait must be",
                          within_s=2.0)
                 for wait in ("-1", "NaN", "inf", "26", "1e400", "x", "")]
        rows += [
            ClassRow(f"class {route}: wait 25 without a token", route, {**code, "wait": "25", "since": "x"},
                     status=403, match="token|only the teacher", within_s=2.0),
            ClassRow(f"class {route}: a since of 10,000 characters answers at once", route,
                     {**code, "wait": "25", "since": "v" * 10_000}, **auth, status=200, match='"version"',
                     within_s=5.0),
            ClassRow(f"class {route}: the current since answers after the wait, unchanged", route,
                     {**code, "wait": "1", "since": "{%s_version}" % route}, **auth, status=200,
                     match='"version": "{%s_version}"' % route, within_s=6.0),
        ]
    return rows


def token_rows() -> list[ClassRow]:
    """403 without the teacher's token; a student token only in its own class; a wrong or ended class."""
    rows = [ClassRow(f"class {route} with {what}", route, body, teacher=token, status=403, match="only the teacher")
            for route, body in TEACHER_ROUTES.items() for what, token in NOT_THE_TEACHER]
    rows += [
        ClassRow("class state without a token", "state", {}, status=403, match="student token"),
        ClassRow("class state with a guessed token", "state", {}, student="guess-" + "y" * 30, status=403,
                 match="belongs to no class"),
        ClassRow("class state with the teacher's token", "state", {}, student="{ta}", status=403,
                 match="belongs to no class"),
        ClassRow("class state in the query (?student_token=)", "state", {"student_token": "{sa}"}, status=200,
                 match='"code": "{a}"'),
        ClassRow("class state: a student of B sees B, never A", "state", {}, student="{sb}", status=200,
                 match='"code": "{b}"'),
        ClassRow("class drawing with a guessed token", "drawing", {"student_token": "guess", "payload": "{payload}"},
                 status=403, match="belongs to no class"),
        ClassRow("class drawing with the teacher's token", "drawing", {"student_token": "{ta}", "payload": "{payload}"},
                 status=403, match="belongs to no class"),
        ClassRow("class pause with no token", "pause", {"paused": True}, status=403, match="student token"),
        ClassRow("class spotlight: class A, a drawing of class B", "spotlight", {"code": "{a}", "drawing_id": "{drawing_b}"},
                 teacher="{ta}", status=404, match="has no drawing"),
        ClassRow("class remove: class A, a drawing of class B", "remove", {"code": "{a}", "drawing_id": "{drawing_b}"},
                 teacher="{ta}", status=404, match="has no drawing"),
        ClassRow("class rebuild: class A, a drawing of class B", "rebuild", {"code": "{a}", "drawing_id": "{drawing_b}"},
                 teacher="{ta}", status=404, match="has no drawing"),
        ClassRow("class board: class B's drawings are not on A's", "board", {"code": "{a}"}, teacher="{ta}", status=200,
                 match="^(?!.*\"drawing_id\": {drawing_b},)"),
        ClassRow("class join: a code with letters it never uses", "join", {"code": "ZZZZZZ"}, status=404,
                 match="no class"),
        ClassRow("class join: a code nobody started", "join", {"code": "{unknown}"}, status=404, match="no class"),
        ClassRow("class join: a code of 7 letters", "join", {"code": "ACDEFGH"}, status=404, match="no class"),
        ClassRow("class join: an ended class", "join", {"code": "{c}"}, status=410, match="has ended"),
        ClassRow("class drawing in an ended class", "drawing", {"student_token": "{sc}", "payload": "{payload}"},
                 status=410, match="has ended"),
        ClassRow("class state of an ended class", "state", {}, student="{sc}", status=410, match="has ended"),
        ClassRow("class pause in an ended class", "pause", {"student_token": "{sc}", "paused": True}, status=410,
                 match="has ended"),
        *[ClassRow(f"class {route} on an ended class", route, {"code": "{c}", **extra}, teacher="{tc}", status=410,
                   match="has ended")
          for route, extra in (("follow", {"state": {"tab": "draw"}}), ("challenge", {"challenge": None}),
                               ("spotlight", {"drawing_id": None}))],
        ClassRow("class board of an ended class (its teacher still sees it)", "board", {"code": "{c}"}, teacher="{tc}",
                 status=200, match='"ended": [0-9]'),
        ClassRow("class export of an ended class", "export", {"code": "{c}", "what": "csv"}, teacher="{tc}",
                 status=200, match="."),
        ClassRow("class end, again", "end", {"code": "{c}"}, teacher="{tc}", status=200, match="ended"),
        ClassRow("GET on a POST route", "join", None, status=405, match="."),
    ]
    return rows


# ---------------------------------------------------------------- sending them

class Lesson:
    """Classes A and B running, C ended, a student in each and a drawing in A and in B: the placeholders' values."""

    def __init__(self, http):
        self.http = http
        self.values: dict[str, str] = {"payload": encode_payload(drawn_digit()), "unknown": "ACDEFG"}
        for name, student in (("a", "Ada"), ("b", "Bea"), ("c", "Cy")):
            started = self.ok("start", {"dataset": "mnist"})
            self.values[name], self.values[f"t{name}"] = started["code"], started["teacher_token"]
            self.values[f"s{name}"] = self.ok("join", {"code": started["code"], "name": student})["student_token"]
        self.values["drawing"] = str(self.ok("drawing", {"student_token": self.values["sa"],
                                                         "payload": self.values["payload"]})["id"])
        self.values["drawing_b"] = str(self.ok("drawing", {"student_token": self.values["sb"],
                                                           "payload": self.values["payload"]})["id"])
        self.ok("end", {"code": self.values["c"]}, teacher=self.values["tc"])
        # The rows before change class A's board: its version is read when a row asks for it.
        self.lazy = {"state_version": lambda: self.version("state", {}, {"X-Student-Token": self.values["sa"]}),
                     "board_version": lambda: self.version("board", {"code": self.values["a"]},
                                                           {"X-Teacher-Token": self.values["ta"]})}

    def version(self, route: str, query: dict, headers: dict) -> str:
        response = self.http.get(CLASS + route, params=query, headers=headers)
        response.raise_for_status()
        return response.json()["version"]

    def fill_versions(self, row: "ClassRow") -> None:
        """The current versions of the ones ``row`` names, read now."""
        for key, read in self.lazy.items():
            if "{" + key + "}" in repr(row):
                self.values[key] = read()

    def ok(self, route: str, body: dict, *, teacher: str | None = None) -> dict:
        response = self.http.post(CLASS + route, json=body, headers={"X-Teacher-Token": teacher} if teacher else {})
        response.raise_for_status()
        return response.json()

    def fill(self, text: str) -> str:
        for key, value in self.values.items():
            text = text.replace("{" + key + "}", value)
        return text


def send(http, lesson: Lesson, row: ClassRow):
    """-> the response (or the exception)."""
    headers = {key: lesson.fill(value) for key, value in (("X-Teacher-Token", row.teacher),
                                                          ("X-Student-Token", row.student)) if value}
    if _post(row.route) and row.body is not None:
        body = lesson.fill(row.body) if isinstance(row.body, str) else json.dumps(_filled(row.body, lesson))
        return http.post(CLASS + row.route, content=body.encode("utf-8", "surrogatepass"),
                         headers={"content-type": "application/json", **headers})
    query = {key: lesson.fill(value) for key, value in (row.body or {}).items()}
    return http.get(CLASS + row.route, params=query, headers=headers)


def _filled(value, lesson: Lesson):
    """A body with the lesson's values in its placeholders; a drawing's number as a number."""
    if isinstance(value, dict):
        return {key: _filled(item, lesson) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, lesson) for item in value]
    if value in ("{drawing}", "{drawing_b}"):
        return int(lesson.fill(value))
    return lesson.fill(value) if isinstance(value, str) else value


def judge(row: ClassRow, response, lesson: Lesson, seconds: float) -> Outcome:
    """A row's outcome from its answer (see the module's docstring)."""
    if isinstance(response, Exception):
        return Outcome(row.name, f"class {row.route}", "crash", f"no answer: {response!r}"[:300], seconds)
    try:
        answer = response.json()
        text, message = json.dumps(answer), answer.get("error") or answer.get("detail")
    except (ValueError, AttributeError):
        text, message = response.text[:2000], None
    status, match = response.status_code, lesson.fill(row.match)
    said = re.search(match, text if status < 300 else str(message or ""), re.I | re.S) is not None
    if status >= 500:
        outcome = "crash"
    elif status >= 400 and not message:
        outcome = "crash"
    elif row.status and status != row.status or not said:
        outcome = "wrong"
    elif row.within_s is not None and seconds > row.within_s:
        outcome = "wrong"
        message = f"answered after {seconds:.1f} s, not within {row.within_s:.0f} s: {message or ''}"
    else:
        outcome = "handled" if status < 300 else "clear error"
    detail = f"HTTP {status}: {message or text[:160]}" + ("" if outcome != "wrong" else f" (wanted {row.status} /{match}/)")
    return Outcome(row.name, f"class {row.route}", outcome, detail[:400], seconds)


def run_class_rows(http) -> list[Outcome]:
    """Every row, then the caps (each an outcome of its own), through ``http``: an httpx.Client with the running
    app's address as its base_url (or Starlette's TestClient of an app with the class routes)."""
    import httpx

    lesson = Lesson(http)
    results = []
    for row in malformed_rows() + waiting_rows() + token_rows():
        lesson.fill_versions(row)
        started = time.perf_counter()
        try:
            response = send(http, lesson, row)
        except httpx.HTTPError as exc:
            response = exc
        results.append(judge(row, response, lesson, time.perf_counter() - started))
    for cap in (drawings_a_minute, a_full_class_and_its_board, classes_at_once):
        started = time.perf_counter()
        outcome, detail = cap(http, lesson)
        results.append(Outcome(f"class cap: {cap.__doc__.splitlines()[0]}", "class caps", outcome, detail[:400],
                               time.perf_counter() - started))
    return results


def _refused(response, status: int, words: str) -> tuple[str, str]:
    message = ""
    if response.headers.get("content-type", "").startswith("application/json"):
        answer = response.json()
        message = str(answer.get("error") or answer.get("detail") or "")
    if response.status_code >= 500:
        return "crash", f"HTTP {response.status_code}: {message}"
    if response.status_code == status and re.search(words, message, re.I):
        return "clear error", f"HTTP {status}: {message}"
    return "wrong", f"HTTP {response.status_code}: {message or response.text[:120]} (wanted {status} /{words}/)"


def drawings_a_minute(http, lesson: Lesson) -> tuple[str, str]:
    """the 31st drawing in a minute is 429 with Retry-After"""
    token = lesson.ok("join", {"code": lesson.values["a"], "name": "Rapid"})["student_token"]
    for sent in range(1, 40):
        response = http.post(CLASS + "drawing", json={"student_token": token, "payload": lesson.values["payload"]})
        if response.status_code != 200:
            break
    outcome, detail = _refused(response, 429, "at most 30 drawings a minute")
    if outcome == "clear error" and (sent != 31 or not response.headers.get("retry-after", "").isdigit()):
        outcome, detail = "wrong", f"refused at drawing {sent}, Retry-After {response.headers.get('retry-after')!r}"
    return outcome, f"{detail} (drawing {sent}, Retry-After {response.headers.get('retry-after')} s)"


def a_full_class_and_its_board(http, lesson: Lesson) -> tuple[str, str]:
    """the 201st student is 409; a full class's board holds all 200"""
    started = lesson.ok("start", {"dataset": "fashion"})
    code, teacher = started["code"], started["teacher_token"]
    for joined in range(1, 202):
        response = http.post(CLASS + "join", json={"code": code})
        if response.status_code != 200:
            break
    outcome, detail = _refused(response, 409, "is full")
    if outcome == "clear error" and joined != 201:
        outcome, detail = "wrong", f"refused at student {joined}: {detail}"
    board = http.get(CLASS + "board", params={"code": code}, headers={"X-Teacher-Token": teacher})
    shown = len(board.json().get("students", [])) if board.status_code == 200 else None
    if outcome == "clear error" and (shown != 200 or board.json().get("note")):
        outcome, detail = "wrong", f"the full class's board: HTTP {board.status_code}, {shown} students shown"
    lesson.ok("end", {"code": code}, teacher=teacher)
    return outcome, f"{detail}; its board: {shown} students, {len(board.content) // 1024} kB"


def classes_at_once(http, lesson: Lesson) -> tuple[str, str]:
    """starting classes past 20 at once is 409 (the ones started here are ended after)"""
    started = []
    for _ in range(25):
        response = http.post(CLASS + "start", json={})
        if response.status_code != 200:
            break
        started.append(response.json())
    outcome, detail = _refused(response, 409, "classes are running on this app")
    for info in started:
        lesson.ok("end", {"code": info["code"]}, teacher=info["teacher_token"])
    return outcome, f"{detail} (after {len(started)} more starts)"


def run_auth_rows(http) -> list[Outcome]:
    """An app started with --auth (``http`` as run_class_rows'): every class route without the login is 401,
    before the class mode sees it."""
    results = []
    for route in (*POSTS, *GETS):
        started = time.perf_counter()
        response = http.post(CLASS + route, json={}) if _post(route) else http.get(CLASS + route)
        outcome, detail = _refused(response, 401, "not authenticated")
        results.append(Outcome(f"class {route} without the --auth login", f"class {route}", outcome, detail,
                               time.perf_counter() - started))
    return results
