"""Class mode's crash: mid-class, the app is killed (SIGKILL, no clean exit) and started again on the same class
store (issue 23). The students (classbench.py's HTTP clients, and one real student page in Chromium) go on as
pages do: what failed is sent again after ``RETRY_S``.

Checked: every drawing the app had taken before the kill is on the board after the restart; every student's state
requests are answered again (how long after the app was back); the browser student's bar says 'reconnecting...'
while the app is down, clears by itself once it is back, and its next pen-up reaches the board.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
import threading
import time

from .classbench import API, RETRY_S, run_class
from .classroom import children, p95
from .measuring import CHROMIUM_ARGS, free_port, start_app, wait_ready

CHROMIUM = "/usr/bin/chromium"
MIDCLASS_DRAWINGS = 10
APP_LOG = "/tmp/genexplorer-class-kill-{}.log"   # each start's output: the first run and the restart
SEVEN = [(90, 60), (190, 60), (120, 230)]
STATUS = "document.querySelector('#ge-class-bar .ge-cb-status').textContent"


def kill(process) -> int:
    """SIGKILL the app and then the processes it started (its live child would linger): -> how many were killed."""
    family = [process.pid, *children(process.pid)]
    for pid in family:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(30)
    return len(family)


class BrowserStudent(threading.Thread):
    """One student in Chromium (Playwright's sync API, in a thread of its own): joins, draws, and reports when the
    bar says 'reconnecting...' after ``killed`` and when it clears after ``back``; then draws again."""

    def __init__(self, url: str, code: str, killed: threading.Event, back: threading.Event):
        super().__init__(name="browser-student", daemon=True)
        self.url, self.code, self.killed, self.back = url, code, killed, back
        self.ready = threading.Event()
        self.times: dict[str, float] = {}
        self.error: str | None = None
        self.step = "opening the page"

    def run(self) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            self.error = "playwright is not installed"
            self.ready.set()
            return
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    self._lesson(browser.new_page(viewport={"width": 1280, "height": 800}))
                finally:
                    browser.close()
        except Exception as exc:  # noqa: BLE001 - reported in the section, the bench goes on
            self.error = f"{type(exc).__name__} while {self.step}: {str(exc)[:300]}"
        finally:
            self.ready.set()

    def _draw(self, page) -> None:
        # Step away from follow me first, as a student who wants to draw would: the teacher pushes a new tab every
        # few seconds here, and a push arriving mid-stroke took the canvas away (the drawing never went out).
        if page.evaluate("window.geClass.seat.following"):
            page.click("#ge-class-bar .ge-cb-follow")
            page.wait_for_function("!window.geClass.seat.following", timeout=10_000)
        if not page.locator("#ge-canvas canvas").is_visible():
            page.get_by_role("tab", name="Draw", exact=True).first.click()
            page.wait_for_selector("#ge-canvas canvas", state="visible", timeout=60_000)
        box = page.locator("#ge-canvas canvas").bounding_box()
        page.mouse.move(box["x"] + SEVEN[0][0], box["y"] + SEVEN[0][1])
        page.mouse.down()
        for x, y in SEVEN[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
        page.mouse.up()
        page.wait_for_function(f"{STATUS}.startsWith('sent: read as')", timeout=240_000)

    def _lesson(self, page) -> None:
        page.goto(f"{self.url}/?class={self.code}", timeout=120_000)
        page.wait_for_selector("#ge-class-bar .ge-cb-name", timeout=120_000)
        page.wait_for_selector("#ge-canvas canvas", timeout=120_000)
        page.fill("#ge-class-bar .ge-cb-name", "in Chromium")
        page.click("#ge-class-bar .ge-cb-join-go")
        page.wait_for_selector("#ge-class-bar .ge-cb-you:not([hidden])", timeout=60_000)
        self.step = "sending its first drawing"
        self._draw(page)
        self.ready.set()
        self.killed.wait()
        self.step = "waiting for 'reconnecting...'"
        page.wait_for_function(f"{STATUS} === 'reconnecting...'", timeout=30_000, polling=50)
        self.times["reconnecting"] = time.monotonic()
        self.back.wait()
        self.step = "waiting for the bar to reconnect"
        page.wait_for_function(f"{STATUS} !== 'reconnecting...'", timeout=240_000, polling=50)
        self.times["reconnected"] = time.monotonic()
        self.step = "sending a drawing after the restart"
        self._draw(page)
        self.times["sent again"] = time.monotonic()


class Crash:
    """The kill and the restart, run beside the class (classbench.run_class's ``during``)."""

    def __init__(self, port: int, process, kill_after: float, *, browser: bool, after_s: float = 45.0):
        self.port, self.process, self.kill_after, self.browser, self.after_s = port, process, kill_after, browser, after_s
        self.killed, self.back = threading.Event(), threading.Event()
        self.found: dict = {}

    async def __call__(self, log, code: str, teacher: str) -> None:
        student = None
        if self.browser:
            student = BrowserStudent(f"http://127.0.0.1:{self.port}", code, self.killed, self.back)
            student.start()
        started = time.monotonic()
        await asyncio.get_running_loop().run_in_executor(None, lambda: student and student.ready.wait(300))
        # mid-class: past kill_after, and once the class has drawings on the board (the first wait for the models)
        while time.monotonic() < started + 300 and (time.monotonic() < started + self.kill_after
                                                    or len(log.acked) < MIDCLASS_DRAWINGS):
            await asyncio.sleep(0.5)
        taken = [drawing for drawing, _ in log.acked]
        self.found["killed processes"] = kill(self.process)
        killed_at = time.monotonic()
        self.killed.set()
        self.process = start_logged(self.port, "restart")
        await asyncio.get_running_loop().run_in_executor(None, ready, self.process, self.port, "restart", 900.0)
        back_at = time.monotonic()
        self.back.set()
        self.found.update(taken_before=taken, killed_at=killed_at, back_at=back_at, code=code, teacher=teacher)
        await asyncio.sleep(self.after_s)   # the class goes on: reconnecting, drawing again
        if student is not None:
            await asyncio.get_running_loop().run_in_executor(None, student.join, 300)
            self.found["browser"] = {"error": student.error, "times": dict(student.times)}


def start_logged(port: int, name: str):
    with open(APP_LOG.format(name), "w") as output:
        return start_app(port, output)


def ready(process, port: int, name: str, timeout: float = 300.0) -> None:
    """Wait for the app; if it exits or never answers, say what its output said."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            wait_ready(port, 10.0)
            return
        except RuntimeError:
            continue
    with open(APP_LOG.format(name)) as output:
        raise RuntimeError(f"the app ({name}) did not start (exit status {process.poll()}): {output.read()[-2000:]}")


@contextlib.contextmanager
def started_app(name: str):
    """`python app.py` on a free port, ready (a loaded machine may take minutes): yields (its URL, its process)."""
    port = free_port()
    process = start_logged(port, name)
    try:
        ready(process, port, name, timeout=900.0)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(30)


def board_ids(url: str, code: str, teacher: str) -> set[int]:
    import httpx

    response = httpx.get(url + API + "board", params={"code": code}, headers={"X-Teacher-Token": teacher}, timeout=60)
    response.raise_for_status()
    return {star["drawing_id"] for star in response.json()["stars"]}


def kill_and_restart(students: int, kill_after: float, traffic, *, browser: bool, after_s: float = 45.0) -> dict:
    """A class of ``students`` on a fresh app, killed mid-class (``kill_after`` s in, once it has drawings) and
    started again; the class goes on ``after_s`` after the app is back -> what was found."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    crash = Crash(port, start_logged(port, "first"), kill_after, browser=browser, after_s=after_s)
    try:
        ready(crash.process, port, "first", timeout=900.0)
        summary, log, _ = run_class(url, students, 3600.0, traffic, during=crash)
        found = crash.found
        on_board = board_ids(url, found["code"], found["teacher"])
    finally:
        crash.process.terminate()
        crash.process.wait(30)
    back_at = found["back_at"]
    again = [min(t for t in times if t > back_at) - back_at for times in log.answered.values()
             if any(t > back_at for t in times)]
    taken_before = found["taken_before"]
    return {
        "summary": summary, "students": students, "down_s": back_at - found["killed_at"],
        "taken_before": len(taken_before), "lost": sorted(set(taken_before) - on_board),
        "taken_after": sum(acked > back_at for _, acked in log.acked),
        "reconnected": len(again), "reconnect_p50_s": statistics.median(again) if again else None,
        "reconnect_p95_s": p95(sorted(again)) if again else None, "reconnect_max_s": max(again) if again else None,
        "browser": found.get("browser"), "killed_at": found["killed_at"],
    }


def kill_report(found: dict) -> str:
    """Markdown: what the kill and the restart showed."""
    cell = lambda v: "n/a" if v is None else f"{v:.1f}"  # noqa: E731
    lines = ["| what | found |", "|---|---|",
             f"| students | {found['students']} (HTTP clients, as the classroom bench) + 1 page in Chromium |",
             f"| the app down (SIGKILL -> answering again, start-up included) | {found['down_s']:.1f} s |",
             f"| drawings the app had taken before the kill | {found['taken_before']} |",
             f"| **of them missing from the board after the restart** | **{len(found['lost'])}** |",
             f"| drawings taken after the restart | {found['taken_after']} |",
             f"| students whose state requests were answered again | {found['reconnected']} of {found['students']} |",
             f"| app back -> a student's first answer (s, p50 / p95 / max) | {cell(found['reconnect_p50_s'])} / "
             f"{cell(found['reconnect_p95_s'])} / {cell(found['reconnect_max_s'])} (their retry: every {RETRY_S:.0f} s) |"]
    browser = found.get("browser")
    if browser is None:
        lines.append("| the page in Chromium | not run |")
    elif browser["error"]:
        lines.append(f"| the page in Chromium | failed: {browser['error']} |")
    else:
        times = browser["times"]
        lines += [f"| the page's bar says 'reconnecting...' after the kill | {times['reconnecting'] - found['killed_at']:.1f} s |",
                  f"| ... and clears by itself after the app is back | "
                  f"{times['reconnected'] - found['killed_at'] - found['down_s']:.1f} s |",
                  f"| its next pen-up: 'sent: read as ...' after the app is back | "
                  f"{times['sent again'] - found['killed_at'] - found['down_s']:.1f} s |"]
    return "\n".join(lines)
