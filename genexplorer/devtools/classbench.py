"""Class mode at scale (issue 23): students drawing and dragging as in the classroom bench (classroom.py), all in
one class, with the teacher's board open, against `python app.py`. ``python -m genexplorer.bench --only class``
(and ``--only class-memory`` for the long class).

What the pages do (ui/classbar.py, ui/classtab.py), done here by HTTP clients, each student with their own:
- a student's bar sends each pen-up's drawing to ``POST /genexplorer/class/drawing``, one at a time (a newer
  drawing waiting replaces an older one; after a failure it waits ``RETRY_S`` and sends the newest), and asks
  ``GET /genexplorer/class/state`` as a long poll (``since`` its last answer's version, ``wait`` ``STATE_WAIT_S``)
  right after each answer (``RETRY_S`` while the app does not answer);
- the teacher's board asks ``GET /genexplorer/class/board`` as a long poll ``BOARD_GAP_S`` after each answer, and
  the map (the Gradio event ``class_map``) when the stars changed, at most every ``MAP_MIN_S``, one at a time;
- the teacher pushes follow me (``POST /genexplorer/class/follow``) every ``FOLLOW_EVERY_S``.

Measured: pen-up -> the first board answer that holds the drawing; a follow push (its POST leaving) -> each
student's first state answer with its version; every request's latency, the live draw and slide among them.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass, field

from .classroom import Record, call_event, student

# As the page does it: ui/classbar.py's STATE_WAIT_S and RETRY_MS, ui/classtab.py's BOARD_WAIT_S, BOARD_GAP_MS,
# BOARD_POLL_MS and MAP_MIN_MS (tests/test_class_bench.py holds them equal).
STATE_WAIT_S = 20
RETRY_S = 2.0
BOARD_WAIT_S = 20
BOARD_GAP_S = 0.15
BOARD_POLL_S = 0.7
MAP_MIN_S = 3.0
FOLLOW_EVERY_S = 5.0
# "class state" and "class board" are long polls: their time is mostly the wait for a change, not latency.
CLASS_KINDS = ("live draw", "live slide", "draw event", "slide event", "class drawing", "class state",
               "class board", "board map", "follow push")
API = "/genexplorer/class/"


def follow_state(i: int) -> dict:
    """The i-th state the teacher pushes: the Latent sliders at new values, or another tab."""
    if i % 3 == 2:
        return {"tab": "draw", "dataset": "mnist"}
    return {"tab": "sliders", "dataset": "mnist", "model": "mnist-vae", "seed": i,
            "sliders": [round(((i * 7 + k) % 11) / 5 - 1, 3) for k in range(16)]}


@dataclass
class ClassLog:
    """What happened, on one clock (time.monotonic())."""
    records: list[Record] = field(default_factory=list)
    pen_ups: dict[int, float] = field(default_factory=dict)       # drawing id -> its pen-up
    on_board: dict[int, float] = field(default_factory=dict)      # drawing id -> the first board answer with it
    pushes: dict[int, float] = field(default_factory=dict)        # follow version -> its push left
    seen: dict[tuple[int, int], float] = field(default_factory=dict)   # (student, version) -> first state with it
    acked: list[tuple[int, float]] = field(default_factory=list)  # (drawing id, answered at), each drawing taken
    answered: dict[int, list[float]] = field(default_factory=dict)    # student -> times its state answers came
    board_answers: list[float] = field(default_factory=list)      # when the board's answers came
    stop: float = float("inf")


def _answer(response) -> tuple[bool, str]:
    if response is None:
        return False, "no answer"
    return response.status_code == 200, "" if response.status_code == 200 else f"HTTP {response.status_code}"


async def _request(http, method: str, url: str, kind: str, log: ClassLog, **options):
    """One class request, recorded -> the response, or None when the app did not answer."""
    start = time.perf_counter()
    try:
        response = await http.request(method, url, **options)
    except Exception:  # noqa: BLE001 - the app down (killed, restarting) is a result to count
        response = None
    ok, note = _answer(response)
    log.records.append(Record(kind, time.perf_counter() - start, ok, note=note))
    return response


def _wait_until(deadline: float, most: float) -> float:
    """A long poll's wait, ending by the class's end (the pages wait ``most``)."""
    return round(min(most, max(0.0, deadline - time.monotonic())), 1)


class Seat:
    """One student's class bar: sharing pen-ups, asking for the class state."""

    def __init__(self, index: int, http, url: str, token: str, payloads: list[str], log: ClassLog):
        self.index, self.http, self.url, self.token, self.payloads, self.log = index, http, url, token, payloads, log
        self.next: tuple[str, float] | None = None
        self.sender: asyncio.Task | None = None
        self.until = 0.0
        self.version = None
        self.answered = None       # the last state answer's version (the long poll's since)

    def pen_up(self, variant: int) -> None:
        self.next = (self.payloads[variant], time.monotonic())
        if self.sender is None or self.sender.done():
            self.sender = asyncio.ensure_future(self.send())

    async def send(self) -> None:
        while self.next is not None and time.monotonic() < self.log.stop:
            await asyncio.sleep(max(0.0, self.until - time.monotonic()))
            (payload, pen_up), self.next = self.next, None
            response = await _request(self.http, "POST", self.url + API + "drawing", "class drawing", self.log,
                                      json={"student_token": self.token, "payload": payload})
            if response is not None and response.status_code == 200:
                drawing = response.json()["id"]
                self.log.pen_ups[drawing] = pen_up
                self.log.acked.append((drawing, time.monotonic()))
            elif response is None or response.status_code in (429, 500, 502, 503, 504) or (
                    response.status_code == 404 and "error" not in response.text):   # the routes not added yet
                wait = float(response.headers.get("retry-after", RETRY_S)) if response is not None else RETRY_S
                self.until = time.monotonic() + wait
                self.next = self.next or (payload, pen_up)

    async def poll(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            asked = {} if self.answered is None else {
                "since": self.answered, "wait": _wait_until(deadline, STATE_WAIT_S)}
            response = await _request(self.http, "GET", self.url + API + "state", "class state", self.log,
                                      headers={"X-Student-Token": self.token}, params=asked)
            wait = RETRY_S
            if response is not None and response.status_code == 200:
                now, state = time.monotonic(), response.json()
                self.log.answered.setdefault(self.index, []).append(now)
                self.answered = state["version"]
                if state["follow_version"] != self.version:
                    self.version = state["follow_version"]
                    self.log.seen.setdefault((self.index, self.version), now)
                wait = 0.0
            await asyncio.sleep(wait)


async def board(http, url: str, code: str, token: str, log: ClassLog, deadline: float) -> None:
    """The teacher's board: polled, and its map asked when the stars changed (at most every MAP_MIN_S)."""
    map_task, map_key, map_asked = None, None, 0.0
    session, answered = f"teacher-{os.getpid()}", None
    while time.monotonic() < deadline:
        asked = {"code": code} if answered is None else {
            "code": code, "since": answered, "wait": _wait_until(deadline, BOARD_WAIT_S)}
        response = await _request(http, "GET", url + API + "board", "class board", log, params=asked,
                                  headers={"X-Teacher-Token": token})
        wait = RETRY_S
        if response is not None and response.status_code == 200:
            now, data = time.monotonic(), response.json()
            answered = data["version"]
            log.board_answers.append(now)
            for drawing in [s["latest"]["id"] for s in data["students"] if s["latest"]] + [
                    star["drawing_id"] for star in data["stars"]]:
                log.on_board.setdefault(drawing, now)
            key = tuple(star["drawing_id"] for star in data["stars"])
            if key != map_key and now - map_asked >= MAP_MIN_S and (map_task is None or map_task.done()):
                map_key, map_asked = key, now
                map_task = asyncio.ensure_future(_map(http, url, code, token, len(key), session, log))
            wait = BOARD_GAP_S
        await asyncio.sleep(wait)
    if map_task is not None:
        await map_task


async def _map(http, url: str, code: str, token: str, stars: int, session: str, log: ClassLog) -> None:
    start = time.perf_counter()
    try:
        ok, outputs = await call_event(http, url, "class_map",
                                       [json.dumps({"code": code, "token": token, "stars": stars})], session)
    except Exception as exc:  # noqa: BLE001
        ok, outputs = False, repr(exc)
    log.records.append(Record("board map", time.perf_counter() - start, ok, note="" if ok else str(outputs)[:120]))


async def follow(http, url: str, code: str, token: str, log: ClassLog, deadline: float) -> None:
    """Follow me: a new state every FOLLOW_EVERY_S, the last one early enough for every student to see it."""
    i = 0
    await asyncio.sleep(FOLLOW_EVERY_S / 2)
    while time.monotonic() < deadline - 2.0:
        sent = time.monotonic()
        response = await _request(http, "POST", url + API + "follow", "follow push", log,
                                  json={"code": code, "state": follow_state(i)}, headers={"X-Teacher-Token": token})
        if response is not None and response.status_code == 200:
            log.pushes[response.json()["follow_version"]] = sent
        i += 1
        await asyncio.sleep(max(0.0, sent + FOLLOW_EVERY_S - time.monotonic()))


def open_class(url: str, students: int) -> tuple[str, str, list[str]]:
    """A class started and ``students`` joined (before the clock) -> (code, teacher token, student tokens)."""
    import httpx

    with httpx.Client(timeout=60) as http:
        started = http.post(url + API + "start", json={"dataset": "mnist"})
        started.raise_for_status()
        code, teacher = started.json()["code"], started.json()["teacher_token"]
        tokens = []
        for i in range(students):
            joined = http.post(url + API + "join", json={"code": code, "name": f"bench {i + 1}"})
            joined.raise_for_status()
            tokens.append(joined.json()["student_token"])
    return code, teacher, tokens


async def run_class_async(url: str, code: str, teacher: str, tokens: list[str], seconds: float, traffic,
                          log: ClassLog, *, during=None) -> None:
    """The class for ``seconds``: each student's gestures, bar and poll; the teacher's board and follow me.
    ``during(log)``: a coroutine run beside them (the kill and restart, the memory samples); the class ends when it
    returns, if that is before ``seconds``."""
    import httpx

    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    payloads = [events[0] for events in traffic.draw_events]
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(httpx.AsyncClient(timeout=120, limits=limits))
                   for _ in range(len(tokens) + 1)]
        seats = [Seat(i, clients[i], url, token, payloads, log) for i, token in enumerate(tokens)]
        deadline = time.monotonic() + seconds
        log.stop = deadline + 10.0   # a drawing still waiting then is not sent
        work = [student(i, clients[i], url, traffic, deadline, log.records, pen_up=seat.pen_up)
                for i, seat in enumerate(seats)]
        work += [seat.poll(deadline) for seat in seats]
        work += [board(clients[-1], url, code, teacher, log, deadline + 3 * BOARD_POLL_S),
                 follow(clients[-1], url, code, teacher, log, deadline)]
        tasks = [asyncio.ensure_future(task) for task in work]
        if during is not None:
            await during(log)
            for task in tasks:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        senders = [seat.sender for seat in seats if seat.sender is not None]
        if senders:
            await asyncio.wait(senders, timeout=15)


# ------------------------------------------------------------------ what the class measured

def summarize(log: ClassLog, students: int) -> dict:
    """-> {"kinds": per request kind (classroom.kind_stats), "board": pen-up -> on the board, "follow": push -> each
    student, each {"n", "p50", "p95", ...} in ms}."""
    import statistics

    from .classroom import kind_stats, p95

    def stats(ms: list[float], **more) -> dict:
        ms = sorted(ms)
        return {"n": len(ms), "p50": statistics.median(ms) if ms else None, "p95": p95(ms) if ms else None, **more}

    last_board = log.board_answers[-1] if log.board_answers else float("-inf")
    due = [drawing for drawing, acked in log.acked if acked < last_board - BOARD_POLL_S]
    board_ms = [1000 * (log.on_board[d] - log.pen_ups[d]) for d in log.pen_ups if d in log.on_board]
    follow_ms = [1000 * (seen - log.pushes[version]) for (_, version), seen in log.seen.items()
                 if version in log.pushes]
    return {"students": students, "kinds": kind_stats(log.records, CLASS_KINDS),
            "board": stats(board_ms, taken=len(log.acked), missing=sum(d not in log.on_board for d in due)),
            "follow": stats(follow_ms, pushes=len(log.pushes), missed=len(log.pushes) * students - len(follow_ms))}


def class_table(results: list[tuple[str, dict]]) -> str:
    """Markdown: the two class targets, then every kind of request, per class run."""
    lines = ["| class | what | count | p50 (ms) | p95 (ms) | target p95 | failed or missing |", "|---|---|---|---|---|---|---|"]
    cell = lambda v: "" if v is None else f"{v:.0f}"  # noqa: E731
    for who, result in results:
        board, follow = result["board"], result["follow"]
        lines.append(f"| {who} | **pen-up -> on the teacher's board** | {board['n']} of {board['taken']} drawings | "
                     f"{cell(board['p50'])} | {cell(board['p95'])} | 1000 | {board['missing']} |")
        lines.append(f"| {who} | **follow-me push -> a student has it** | {follow['n']} ({follow['pushes']} pushes) | "
                     f"{cell(follow['p50'])} | {cell(follow['p95'])} | 1000 | {follow['missed']} |")
        for kind, k in result["kinds"].items():
            target = {"live draw": "150", "live slide": "60"}.get(kind, "") if result["students"] <= 30 else ""
            notes = f" ({'; '.join(k['notes'])})" if k["wrong"] and k["notes"] else ""
            lines.append(f"| {who} | {kind} | {k['answers']} | {k['p50']:.0f} | {k['p95']:.0f} | {target} | "
                         f"{k['wrong']}{notes} |")
    return "\n".join(lines)


def run_class(url: str, students: int, seconds: float, traffic, *, during=None) -> tuple[dict, ClassLog, str]:
    """One class of ``students`` for ``seconds`` -> (its summary, its log, its code)."""
    code, teacher, tokens = open_class(url, students)
    log = ClassLog()
    asyncio.run(run_class_async(url, code, teacher, tokens, seconds, traffic, log,
                                during=None if during is None else (lambda log: during(log, code, teacher))))
    return summarize(log, students), log, code


def load_note() -> str:
    """What else the machine was doing: the load average and the training runs sharing it."""
    runs = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                with open(f"/proc/{entry}/cmdline", "rb") as file:
                    args = file.read().split(b"\0")
                with open(f"/proc/{entry}/stat", "rb") as file:
                    stopped = file.read().rsplit(b")", 1)[1].split()[0] == b"T"   # paused (SIGSTOP) for the bench
                runs += b"python" in args[0] and b"genexplorer.train" in args and not stopped
    return (f"load average {os.getloadavg()[0]:.1f} at the start; {runs} training process"
            f"{'es' if runs != 1 else ''} (`python -m genexplorer.train`) ran on the same cores throughout")


# ------------------------------------------------------------------ the sections of BENCHMARKS.md

CLASS_BEGIN, CLASS_END = "<!-- class: begin -->", "<!-- class: end -->"
MEMORY_BEGIN, MEMORY_END = "<!-- class-memory: begin -->", "<!-- class-memory: end -->"
MEMORY_CSV, MEMORY_PNG = "docs/class-memory.csv", "docs/class-memory.png"
MEMORY_EVERY_S = 15.0


def _header(title: str, command: str) -> str:
    import datetime

    from .measuring import machine

    return (f"## {title}\n\nCommand: `{command}`  \nDate: {datetime.date.today()}  \nMachine: {machine()}  \n"
            f"Load: {load_note()}\n\n")


def class_section(*, quick: bool, browser: bool = True) -> str:
    """Classes of 30 and 60 (quick: 3) with the teacher's board open, then a class killed and started again."""
    from . import classkill, classroom

    sizes, seconds = ((3,), 10.0) if quick else ((30, 60), 60.0)
    kill_students, kill_after, after_s = (3, 12.0, 20.0) if quick else (60, 40.0, 45.0)
    header = _header("Class mode: a class of 60 with the teacher's board open",
                     "python -m genexplorer.bench --only class" + (" --quick" if quick else ""))
    traffic = classroom.make_traffic()
    results = []
    with _class_folder(), classkill.started_app("classes") as (url, _process):
        asyncio.run(classroom.expected_answers(url, traffic))
        for students in sizes:
            print(f"class: {students} students for {seconds:.0f} s...", flush=True)
            results.append((f"{students} students", run_class(url, students, seconds, traffic)[0]))
    print(f"class: {kill_students} students, the app killed after {kill_after:.0f} s...", flush=True)
    try:
        with _class_folder():
            found = classkill.kill_and_restart(kill_students, kill_after, traffic, browser=browser, after_s=after_s)
        results.append((f"{kill_students} students, killed and restarted", found["summary"]))
        killed = classkill.kill_report(found)
    except Exception as exc:  # noqa: BLE001 - the section says what went wrong, the classes above stand
        killed = f"The run failed: {type(exc).__name__}: {str(exc)[:1500]}"
    return (f"{CLASS_BEGIN}\n{header}{CLASS_INTRO.format(seconds=seconds, follow=FOLLOW_EVERY_S)}\n\n"
            f"{class_table(results)}\n\n### Killed mid-class (SIGKILL) and started again on the same class store\n\n"
            f"{KILL_INTRO}\n\n{killed}\n{CLASS_END}")


KILL_INTRO = """A class on a fresh app; once it has run 40 s and the app has taken drawings, the app and its live child
process are killed with SIGKILL and `python app.py` is started again on the same port and class store while the
students keep going (what fails is sent again 2 s later, as the pages do); the class goes on 45 s after the app
answers again. One more student is a real page in Chromium (the class bar's own reconnect). The board is read after
the restart."""


CLASS_INTRO = """Each student draws and drags as in the classroom bench above (live draw and slide posts, the Gradio events),
and is in one class: at each pen-up their bar sends the drawing to the class (one at a time, the newest waiting
one next), and it asks for the class state as a long poll (the app answers when the state changes, or after 20 s)
right after each answer (2 s while the app does not answer), as ui/classbar.py does. The teacher's board asks for
the board as a long poll 0.15 s after each answer and for its map (the Gradio event `class_map`) when the stars
changed, at most every 3 s (*class state* and *class board* times are mostly the wait for a change); follow me
pushes a new state every {follow:.0f} s (the Latent sliders at new values, or the Draw tab). {seconds:.0f} s per
class, HTTP clients on the same cores as the app. *pen-up -> on the teacher's board*: from the pen-up to the first
board answer holding the drawing (a page then draws the tile within a frame); *follow-me push -> a student has it*:
from the push leaving the teacher to the student's first state answer with it (a page then switches its tab,
measured in Chromium by tests/test_class_page.py). 'missing': drawings taken that no later board answer held, and
(student, push) pairs a student never saw. The live draw and slide targets (p95 150 and 60 ms) are the classroom
bench's, set for 30 students."""


@contextlib.contextmanager
def _class_folder():
    """The app's class store in a folder of its own for the run (runs/classes/ holds the teachers' classes)."""
    import tempfile

    before = os.environ.get("GENEXPLORER_CLASSES")
    with tempfile.TemporaryDirectory(prefix="genexplorer-bench-classes-") as folder:
        os.environ["GENEXPLORER_CLASSES"] = folder
        try:
            yield folder
        finally:
            if before is None:
                os.environ.pop("GENEXPLORER_CLASSES", None)
            else:
                os.environ["GENEXPLORER_CLASSES"] = before


def memory_section(*, quick: bool) -> str:
    """A class of 60 for 30 minutes (quick: 3 for 1), the app's memory sampled every MEMORY_EVERY_S: the curve
    (docs/class-memory.csv and .png) and a table of it."""
    from . import classkill, classroom
    from .measuring import ROOT

    students, minutes = (3, 1.0) if quick else (60, 30.0)
    header = _header(f"Class mode: memory over a {minutes:.0f}-minute class of {students}",
                     "python -m genexplorer.bench --only class-memory" + (" --quick" if quick else ""))
    traffic = classroom.make_traffic()
    samples: list[tuple[float, float]] = []
    with _class_folder(), classkill.started_app("memory") as (url, process):
        asyncio.run(classroom.expected_answers(url, traffic))

        async def sample(log, code, teacher):
            start = time.monotonic()
            while time.monotonic() - start < minutes * 60:
                samples.append((time.monotonic() - start, classroom.memory_mb(process.pid)))
                print(f"class memory: {samples[-1][0]:.0f} s {samples[-1][1]:.0f} MB", flush=True)
                await asyncio.sleep(MEMORY_EVERY_S)
            samples.append((time.monotonic() - start, classroom.memory_mb(process.pid)))

        summary = run_class(url, students, minutes * 60, traffic, during=sample)[0]
    out_csv, out_png = (None, None) if quick else (ROOT / MEMORY_CSV, ROOT / MEMORY_PNG)
    if out_csv is not None:
        out_csv.write_text("seconds,app_rss_mb\n" + "".join(f"{t:.0f},{mb:.1f}\n" for t, mb in samples))
        memory_png(samples, out_png, f"app memory, a class of {students} for {minutes:.0f} minutes")
    return (f"{MEMORY_BEGIN}\n{header}Resident memory of the app and its live child process, every "
            f"{MEMORY_EVERY_S:.0f} s, while {students} students draw, drag and share as in the class above"
            + (f" (the whole curve: `{MEMORY_CSV}`, `{MEMORY_PNG}`)" if out_csv else "") + ".\n\n"
            + memory_table(samples) + "\n\nThe same class's requests over the whole run:\n\n"
            + class_table([(f"{students} students, {minutes:.0f} min", summary)]) + f"\n{MEMORY_END}")


def memory_table(samples: list[tuple[float, float]]) -> str:
    """The curve every ~3 minutes (every sample in a short run), and its growth in each half."""
    step = max(1, round(180 / MEMORY_EVERY_S)) if samples and samples[-1][0] > 600 else 1
    shown = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    lines = ["| minute | app memory (MB) |", "|---|---|"] + [f"| {t / 60:.1f} | {mb:.0f} |" for t, mb in shown]
    if len(samples) >= 4:
        half = len(samples) // 2
        first, second = samples[half][1] - samples[0][1], samples[-1][1] - samples[half][1]
        lines.append(f"\nGrowth: {first:+.0f} MB in the first half, {second:+.0f} MB in the second; highest "
                     f"{max(mb for _, mb in samples):.0f} MB.")
    return "\n".join(lines)


def memory_png(samples: list[tuple[float, float]], path, title: str) -> None:
    """The curve as a small line chart (PIL alone: no plotting library in the app's requirements)."""
    from PIL import Image, ImageDraw

    width, height, left, bottom, top, right = 720, 360, 60, 40, 30, 20
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)
    t_max = max(t for t, _ in samples) or 1.0
    low, high = 0.0, max(mb for _, mb in samples) * 1.15
    x = lambda t: left + (width - left - right) * t / t_max  # noqa: E731
    y = lambda mb: height - bottom - (height - bottom - top) * (mb - low) / (high - low)  # noqa: E731
    pen.rectangle([left, top, width - right, height - bottom], outline="black")
    for mb in range(0, int(high) + 1, max(100, int(high / 5) // 100 * 100)):
        pen.line([left - 4, y(mb), left, y(mb)], fill="black")
        pen.text((4, y(mb) - 6), f"{mb} MB", fill="black")
    for minute in range(0, int(t_max / 60) + 1, 5 if t_max > 600 else 1):
        pen.line([x(60 * minute), height - bottom, x(60 * minute), height - bottom + 4], fill="black")
        pen.text((x(60 * minute) - 6, height - bottom + 8), f"{minute}", fill="black")
    pen.text((width // 2 - 20, height - 16), "minutes", fill="black")
    pen.text((left, 8), title, fill="black")
    pen.line([(x(t), y(mb)) for t, mb in samples], fill="#1f77b4", width=2)
    image.save(path)
