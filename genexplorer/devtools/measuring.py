"""What every benchmark section uses: timing summaries, `python app.py` started on a free port and waited for, the
tables the sections print, and the machine they ran on."""
from __future__ import annotations

import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def summary(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"n": len(ordered), "median": statistics.median(ordered), "p95": p95}


def measured(sample, repeats: int, warmup: int = 3) -> dict:
    """summary() of ``repeats`` calls of ``sample``, each returning one measurement in ms, after ``warmup`` calls."""
    for _ in range(warmup):
        sample()
    return summary([sample() for _ in range(repeats)])


def timed(function, repeats: int, warmup: int = 3) -> dict:
    """How long ``function()`` takes here, in ms."""
    def sample() -> float:
        start = time.perf_counter()
        function()
        return (time.perf_counter() - start) * 1000
    return measured(sample, repeats, warmup)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, output=subprocess.DEVNULL) -> subprocess.Popen:
    """`python app.py --port PORT`; ``output``: a file its stdout and stderr go to (default: nowhere)."""
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=output, stderr=subprocess.STDOUT if output is not subprocess.DEVNULL else output)


def wait_ready(port: int, timeout: float = 120.0) -> float:
    """Seconds until the app answers: its page config, and its live routes, which app.launch adds a moment
    after Gradio's server is up (a request in between gets 404)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=2) as response:
                if response.status == 200:
                    request = urllib.request.Request(f"http://127.0.0.1:{port}/genexplorer/live/draw", data=b"{}",
                                                     method="POST", headers={"content-type": "application/json"})
                    try:
                        urllib.request.urlopen(request, timeout=5).close()
                    except urllib.error.HTTPError as exc:
                        if exc.code == 404:
                            raise OSError("live routes not added yet") from None
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the app did not start")


@contextlib.contextmanager
def running_app():
    """`python app.py` on a free port, ready: yields (its URL, its process); stopped afterwards."""
    port = free_port()
    process = start_app(port)
    try:
        wait_ready(port)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(30)


def browser_table(rows: list[tuple[str, dict]], count: str, worst: str) -> str:
    """A section's Chromium measurements as a markdown table: what, how many, median, the worst."""
    return (f"### In a real browser (headless Chromium)\n\n| what | {count} | median | {worst} |\n|---|---|---|---|\n"
            + "\n".join(f"| {name} | {stats['n']} | {stats['median']:.1f} | {stats['p95']:.1f} |" for name, stats in rows))


def table(rows: list[tuple[str, dict]], unit: str = "ms") -> str:
    lines = [f"| what | runs | median ({unit}) | p95 ({unit}) |", "|---|---|---|---|"]
    for name, stats in rows:
        lines.append(f"| {name} | {stats['n']} | {stats['median']:.1f} | {stats['p95']:.1f} |")
    return "\n".join(lines)


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"torch {torch.__version__}, CUDA {'yes: ' + torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no'}")
