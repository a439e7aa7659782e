"""A class at once: browser-like traffic from many students against one running app.

What a page sends (ui/canvas.py, ui/live.py): while a stroke goes on, the canvas posts the drawing to
``/genexplorer/live/draw`` every 60 ms with one request in flight, and at pointer-up the Gradio "draw"
event runs; while a slider is dragged, each input posts to ``/genexplorer/live/slide`` (one in flight,
the newest value next), and at release the Gradio "slide" event runs. Between gestures a student
pauses 1 to 3 s. The Gradio events go through the queue's HTTP API (POST /gradio_api/call/<name>, then
its result stream), not gradio_client, whose own cost would swamp the app's. Each student sends one session
hash with every event, as a page does for as long as it is open: without one, Gradio makes a new session per
event, and building a session's state copies every component's config (13 % of the app's CPU at 30 students).

Every request's body is prepared before the clock starts (the students share the app's two cores), and
every answer is checked against the answer to the same request sent alone beforehand: a student who gets
another student's picture is counted as cross-talk. ``python -m genexplorer.bench --classroom`` runs it.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

KINDS = ("live draw", "live slide", "draw event", "slide event", "GAN lab frame")
DRAW_EVERY_S = 0.06          # the canvas's send interval while drawing
SLIDE_EVERY_S = 0.016        # input events of a dragged slider come once per frame
STROKE_POINTS = 12           # live posts per stroke
DRAG_STEPS = 15              # live posts per drag
VARIANTS = 8                 # different strokes and drags, so neighbours' answers differ
SLIDER_MODEL = "mnist-vae"
LAB_EVERY_S = 0.05           # a playing GAN lab page asks for its next frame at most 20 times a second
LAB_SPEED = 5                # generator steps per frame, the page's default speed


# ------------------------------------------------------------------ what students send

def _stroke_frames(variant: int) -> list[np.ndarray]:
    """A digit-like stroke drawn point by point on the 112x112 canvas copy: the picture after each point."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(variant)
    start = rng.uniform(20, 45, 2)
    points = [start + np.array([6.0 * i, 5.5 * i * (1 if variant % 2 else -0.4) + 4 * np.sin(i + variant)])
              for i in range(STROKE_POINTS)]
    points = [np.clip(p, 8, 104) for p in points]
    canvas = Image.new("L", (112, 112), 0)
    pen = ImageDraw.Draw(canvas)
    frames = []
    for a, b in zip([points[0]] + points[:-1], points):
        pen.line([tuple(a), tuple(b)], fill=255, width=8 + variant % 3)
        frames.append(np.asarray(canvas).copy())
    return frames


@dataclass
class Traffic:
    """The request bodies of every variant, prepared once."""
    draw_bodies: list[list[bytes]]            # per variant: one live-draw body per stroke point
    draw_events: list[list]                    # per variant: the draw event's data at pointer-up
    slide_bodies: list[list[bytes]]            # per variant: one live-slide body per drag step
    slide_events: list[list]                   # per variant: the slide event's data at release
    expected: dict[bytes, bytes] = field(default_factory=dict)   # body -> the answer it must get


def make_traffic() -> Traffic:
    from ..canvas_payload import encode_payload

    draw_bodies, draw_events, slide_bodies, slide_events = [], [], [], []
    for variant in range(VARIANTS):
        payloads = [encode_payload(frame) for frame in _stroke_frames(variant)]
        draw_bodies.append([json.dumps({"payload": p, "dataset": "mnist", "cvae_class": -1}).encode() for p in payloads])
        draw_events.append([payloads[-1], "mnist", -1])
        rng = np.random.default_rng(100 + variant)
        values = np.round(rng.uniform(-1.5, 1.5, 16), 2)
        bodies = []
        for step in range(DRAG_STEPS):
            values = values.copy()
            values[variant % 16] = round(-2.5 + 5 * step / (DRAG_STEPS - 1), 2)
            bodies.append(json.dumps({"model": SLIDER_MODEL, "label": None, "latent": [0.0] * 16,
                                      "values": values.tolist()}).encode())
        slide_bodies.append(bodies)
        slide_events.append([SLIDER_MODEL, None, *values.tolist()])
    return Traffic(draw_bodies, draw_events, slide_bodies, slide_events)


def _pictures(content: bytes) -> list[np.ndarray]:
    """A live answer's pictures: the PNG itself, or each data URL of a JSON answer."""
    import base64
    import io

    from PIL import Image

    if content.startswith(b"\x89PNG"):
        blobs = [content]
    else:
        blobs = [base64.b64decode(url.split(",", 1)[1]) for url in json.loads(content)["images"].values() if url]
    return [np.asarray(Image.open(io.BytesIO(blob)), dtype=np.int16) for blob in blobs]


def same_answer(content: bytes, expected: bytes | None) -> bool:
    """The answer a request got alone, byte for byte, or the same pictures within one grey level: a batch of
    many students' pictures may round a pixel the other way. Another student's picture differs far more."""
    if expected is None or content == expected:
        return True
    try:
        got, want = _pictures(content), _pictures(expected)
    except Exception:  # noqa: BLE001 - not pictures at all: not the answer
        return False
    return len(got) == len(want) and all(a.shape == b.shape and int(np.abs(a - b).max()) <= 1 for a, b in zip(got, want))


# ------------------------------------------------------------------ the students

@dataclass
class Record:
    kind: str
    seconds: float
    ok: bool
    handler_ms: float | None = None     # the app's own time, from the Server-Timing header (live routes)
    note: str = ""


async def call_event(http, url: str, name: str, data: list, session: str | None = None) -> tuple[bool, object]:
    """A Gradio event through the queue's HTTP API, in the page's session ``session`` (None: a session of its
    own): -> (completed without error, outputs or message)."""
    response = await http.post(f"{url}/gradio_api/call/{name}", json={"data": data, "session_hash": session})
    if response.status_code != 200:
        return False, f"HTTP {response.status_code}"
    event_id = response.json()["event_id"]
    stream = await http.get(f"{url}/gradio_api/call/{name}/{event_id}")
    event = None
    for line in stream.text.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            payload = json.loads(line.split(":", 1)[1].strip() or "null")
            return event == "complete", payload
    return False, "no result in the stream"


def server_timing_ms(response) -> float | None:
    """A live answer's Server-Timing header -> the app's own time for it in ms (the batch it joined), or None."""
    timing = response.headers.get("server-timing", "")
    if "dur=" not in timing:
        return None
    try:
        return float(timing.split("dur=", 1)[1].split(",")[0].split(";")[0])
    except ValueError:
        return None


async def _live(http, url: str, kind: str, route: str, body: bytes, expected: bytes | None,
                records: list[Record]) -> None:
    """One live request; right when answered 200 with ``expected`` (None: any answer)."""
    start = time.perf_counter()
    try:
        response = await http.post(f"{url}/genexplorer/live/{route}", content=body,
                                   headers={"content-type": "application/json"})
    except Exception as exc:  # noqa: BLE001 - a refused or dropped request is a result to count
        records.append(Record(kind, time.perf_counter() - start, False, note=repr(exc)[:120]))
        return
    elapsed = time.perf_counter() - start
    right = response.status_code == 200 and same_answer(response.content, expected)
    note = "" if right else (f"HTTP {response.status_code}" if response.status_code != 200 else "another answer")
    records.append(Record(kind, elapsed, right, server_timing_ms(response), note))


async def _event(http, url: str, kind: str, name: str, data: list, check, records: list[Record],
                 session: str) -> None:
    start = time.perf_counter()
    try:
        ok, outputs = await call_event(http, url, name, data, session)
    except Exception as exc:  # noqa: BLE001
        records.append(Record(kind, time.perf_counter() - start, False, note=repr(exc)[:120]))
        return
    right = ok and check(outputs)
    records.append(Record(kind, time.perf_counter() - start, right, note="" if right else str(outputs)[:120]))


async def student(index: int, http, url: str, traffic: Traffic, deadline: float, records: list[Record], *,
                  pen_up=None) -> None:
    """Alternately draw a stroke and drag a slider, pausing 1-3 s between gestures, until the deadline.
    ``pen_up(variant)``: called at each pointer-up, beside the draw event (class mode's bar sends the drawing to
    the class then, without holding the page up)."""
    rng = random.Random(index)
    variant = index % VARIANTS
    session = f"student-{index}-{os.getpid()}"    # one open page
    await asyncio.sleep(rng.uniform(0, 2.0))     # a class does not start in lockstep
    gesture = index % 2
    while time.monotonic() < deadline:
        if gesture % 2 == 0:
            for body in traffic.draw_bodies[variant]:
                sent = time.perf_counter()
                await _live(http, url, "live draw", "draw", body, traffic.expected.get(body), records)
                await asyncio.sleep(max(0.0, DRAW_EVERY_S - (time.perf_counter() - sent)))
            if pen_up is not None:
                pen_up(variant)
            await _event(http, url, "draw event", "draw", traffic.draw_events[variant],
                         lambda out: isinstance(out, list) and len(out) >= 6 and "nats" in str(out[-1]), records, session)
        else:
            for body in traffic.slide_bodies[variant]:
                sent = time.perf_counter()
                await _live(http, url, "live slide", "slide", body, traffic.expected.get(body), records)
                await asyncio.sleep(max(0.0, SLIDE_EVERY_S - (time.perf_counter() - sent)))
            await _event(http, url, "slide event", "slide", traffic.slide_events[variant],
                         lambda out: isinstance(out, list) and len(out) == 1 and out[0], records, session)
        gesture += 1
        await asyncio.sleep(rng.uniform(1.0, 3.0))


async def lab_player(index: int, http, url: str, deadline: float, records: list[Record]) -> None:
    """A student with the GAN lab playing: a toy made through the page's event, then frames back to back (one
    in flight, at most 20 a second) until the deadline. Toy training shares one CPU slot (budget.py) however
    many play, so the draw and slide answers keep the other core."""
    ok, outputs = await call_event(http, url, "lab_reset",
                                   ["ring_2d", "nonsaturating", 1, 1e-3, 1e-3, 0.01, 10, index, ""],
                                   f"lab-player-{index}-{os.getpid()}")
    if not ok:
        records.append(Record("GAN lab frame", 0.0, False, note=f"no toy: {str(outputs)[:100]}"))
        return
    body = json.dumps({"toy": outputs[0], "action": "play", "speed": LAB_SPEED}).encode()
    while time.monotonic() < deadline:
        sent = time.perf_counter()
        start = len(records)
        await _live(http, url, "GAN lab frame", "lab", body, None, records)
        if len(records) > start and not records[-1].ok and "limit" in records[-1].note:
            await asyncio.sleep(1.0)      # past the cap the page waits too
        await asyncio.sleep(max(0.0, LAB_EVERY_S - (time.perf_counter() - sent)))


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    with open(f"/proc/{pid}/stat") as file:
        return file.read().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):   # gone meanwhile
                continue
    return found


def _summed_with_children(pid: int, measure) -> float:
    """``measure`` of a process plus its children's: the app's live-preview child process counts as the app.
    A process that ends meanwhile counts nothing."""
    total = 0
    for process in [pid, *children(pid)]:
        try:
            total += measure(process)
        except (OSError, StopIteration):
            continue
    return total


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as file:
        return next(int(line.split()[1]) for line in file if line.startswith("VmRSS:"))


def _cpu_ticks(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12])


def memory_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    return _summed_with_children(pid, _rss_kb) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its children (Linux /proc)."""
    return _summed_with_children(pid, _cpu_ticks) / os.sysconf("SC_CLK_TCK")


async def expected_answers(url: str, traffic: Traffic) -> None:
    """Each live body sent once, alone: the answer every student sending it must get."""
    import httpx

    async with httpx.AsyncClient(timeout=60) as http:
        for bodies, route in ((traffic.draw_bodies, "draw"), (traffic.slide_bodies, "slide")):
            for body in (b for variant in bodies for b in variant):
                response = await http.post(f"{url}/genexplorer/live/{route}", content=body,
                                           headers={"content-type": "application/json"})
                response.raise_for_status()
                traffic.expected[body] = response.content


async def _class(url: str, students: int, seconds: float, traffic: Traffic, labs: int = 0) -> list[Record]:
    """Each student with an HTTP client of their own, as each browser has its own connections. One client
    shared by a class spent most of the students' CPU finding a free connection among a hundred (httpx's
    pool scans them all for every request: 15 of 23 s of the students' CPU at 60, cProfile), CPU the app
    shares and needs."""
    import contextlib

    import httpx

    records: list[Record] = []
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(httpx.AsyncClient(timeout=120, limits=limits))
                   for _ in range(students + labs)]
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(student(i, clients[i], url, traffic, deadline, records) for i in range(students)),
                             *(lab_player(i, clients[students + i], url, deadline, records) for i in range(labs)))
    return records


def p95(ordered: list[float]) -> float:
    """The 95th percentile of sorted values (the nearest rank, as measuring.summary)."""
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def kind_stats(records: list[Record], kinds) -> dict:
    """Per kind of request that was made: answers, wrong or failed, latency p50 and p95 (ms), the app's own time."""
    out = {}
    for kind in kinds:
        mine = [r for r in records if r.kind == kind]
        if not mine:
            continue
        ms = sorted(1000 * r.seconds for r in mine)
        handler = [r.handler_ms for r in mine if r.handler_ms is not None]
        out[kind] = {
            "answers": len(mine), "wrong": sum(not r.ok for r in mine), "p50": statistics.median(ms), "p95": p95(ms),
            "handler_p50": statistics.median(handler) if handler else None,
            "notes": sorted({r.note for r in mine if r.note})[:3],
        }
    return out


def run_class(url: str, app_pid: int | None, students: int, seconds: float, traffic: Traffic, *, labs: int = 0) -> dict:
    """One class of ``students`` for ``seconds``, and ``labs`` more students with the GAN lab playing: per kind,
    answers, latency and errors; app CPU per answer."""
    cpu_before = cpu_seconds(app_pid) if app_pid else None
    memory_before = memory_mb(app_pid) if app_pid else None
    wall = time.perf_counter()
    records = asyncio.run(_class(url, students, seconds, traffic, labs))
    wall = time.perf_counter() - wall
    cpu = cpu_seconds(app_pid) - cpu_before if app_pid else None
    out = {"students": students, "labs": labs, "seconds": round(wall, 1), "kinds": {},
           "memory_mb": None if app_pid is None else (memory_before, memory_mb(app_pid))}
    out["kinds"] = kind_stats(records, KINDS)
    answers = len(records)
    out["answers"] = answers
    out["app_cpu_ms_per_answer"] = None if cpu is None or not answers else 1000 * cpu / answers
    live = sum(1 for r in records if r.kind.startswith("live"))
    out["app_cpu_ms_per_live_answer"] = None if cpu is None or not live else 1000 * cpu / live
    out["cross_talk"] = sum(1 for r in records if r.note == "another answer")
    return out


def report(results: list[dict]) -> str:
    """Markdown: the curve, one row per class size and kind."""
    lines = ["| students | kind | answers | p50 (ms) | p95 (ms) | app's own time p50 (ms) | wrong or failed | "
             "app CPU per answer (ms) | app memory before -> after (MB) |", "|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        for kind, k in result["kinds"].items():
            handler = "" if k["handler_p50"] is None else f"{k['handler_p50']:.1f}"
            cpu = result["app_cpu_ms_per_answer"]
            who = (f"{result['students']}" + (f" + {result['labs']} GAN labs" if result.get("labs") else "")
                   + (", again" if result.get("again") else ""))
            memory = result.get("memory_mb")
            memory = "" if memory is None else f"{memory[0]:.0f} -> {memory[1]:.0f}"
            lines.append(f"| {who} | {kind} | {k['answers']} | {k['p50']:.0f} | {k['p95']:.0f} | "
                         f"{handler} | {k['wrong']} | {'' if cpu is None else f'{cpu:.1f}'} | {memory} |")
    return "\n".join(lines)
