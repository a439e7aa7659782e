"""Many users at once, each checked against their own answers from a quiet reference pass."""
from __future__ import annotations

import os
import random
import statistics
import threading
import time
from dataclasses import dataclass

import numpy as np

from ...canvas_payload import encode_payload
from .app import App, client


# ================================================================ load

@dataclass
class UserPlan:
    """One simulated user's own inputs: a drawing, a GAN latent walk seed, slider values
    and an interpolation target, all different from every other user's."""
    index: int
    payload: str
    walk_seed: int
    sliders: tuple
    target: str
    target_index: int


def user_plans(users: int) -> list[UserPlan]:
    from ...explore import examples

    pictures = [image for image, _ in examples("mnist", per_class=max(1, -(-users // 10)), offset=5)]
    plans = []
    for index in range(users):
        rng = np.random.default_rng(1000 + index)
        drawing = np.kron(pictures[index % len(pictures)], np.ones((4, 4), np.uint8))   # 28 -> 112
        plans.append(UserPlan(index, encode_payload(drawing), 100 + index, tuple(np.round(rng.uniform(-2, 2, 16), 2).tolist()),
                              str((index + 3) % 10), index % 7))
    return plans


def _image(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as picture:
        return np.asarray(picture.convert("L"))


def user_session(url: str, plan: UserPlan):
    """-> (client, {action: expected picture}) after the user's first draw and walk start."""
    session = client(url)
    seen = session.predict(plan.payload, "mnist", -1, api_name="/draw")[0]
    start = session.predict("mnist-gan", "random", plan.walk_seed, None, api_name="/slider_start")
    return session, {"draw": _image(seen), "start": _image(start[0])}


ACTIONS = ("draw", "slide", "interpolate")


def _act(session, plan: UserPlan, action: str) -> np.ndarray:
    if action == "draw":
        return _image(session.predict(plan.payload, "mnist", -1, api_name="/draw")[0])
    if action == "slide":
        return _image(session.predict("mnist-gan", None, *plan.sliders, api_name="/slide"))
    return _image(session.predict("drawing", 0, plan.target, plan.target_index, 8, "mnist", api_name="/interpolate")[0])


def reference_answers(app: App, plans: list, log=print) -> tuple[dict, dict]:
    """Each user's answers, one user at a time, with nobody else around: -> (answers by user, distinct answers per
    action)."""
    reference = {}
    for plan in plans:
        session, expected = user_session(app.url, plan)
        for action in ACTIONS:
            expected[action] = _act(session, plan, action)
        reference[plan.index] = expected
    distinct = {action: len({reference[i][action].tobytes() for i in reference}) for action in ACTIONS}
    log(f"reference pass done: distinct answers per action {distinct} for {len(plans)} users")
    return reference, distinct


def latency_summary(values) -> dict:
    values = sorted(values)
    if not values:
        return {"n": 0, "median_ms": float("nan"), "p95_ms": float("nan")}
    return {"n": len(values), "median_ms": statistics.median(values),
            "p95_ms": values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]}


def run_load(app: App, *, users: int = 30, seconds: float = 60.0, think_s: float = 0.2, log=print) -> dict:
    """N users at once for ``seconds``; each answer must equal the user's own reference."""
    plans = user_plans(users)
    reference, distinct = reference_answers(app, plans, log)

    latencies: dict[str, list[float]] = {action: [] for action in (*ACTIONS, "start")}
    errors: list[str] = []
    crosstalk: list[str] = []
    lock = threading.Lock()
    samples: list[tuple[float, float, int]] = []
    barrier = threading.Barrier(users + 1)
    deadline = [0.0]

    def user(plan: UserPlan):
        rng = random.Random(plan.index)
        try:
            barrier.wait(120)
        except threading.BrokenBarrierError:
            return
        try:
            started = time.perf_counter()
            session, first = user_session(app.url, plan)
            with lock:
                latencies["start"].append((time.perf_counter() - started) * 1000)
            if not np.array_equal(first["start"], reference[plan.index]["start"]):
                with lock:
                    crosstalk.append(f"user {plan.index}: latent walk start")
            while time.time() < deadline[0]:
                action = rng.choice(ACTIONS)
                started = time.perf_counter()
                try:
                    got = _act(session, plan, action)
                except Exception as exc:  # noqa: BLE001 - every failure is counted
                    with lock:
                        errors.append(f"user {plan.index} {action}: {type(exc).__name__}: {str(exc)[:200]}")
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies[action].append(elapsed)
                    if not np.array_equal(got, reference[plan.index][action]):
                        crosstalk.append(f"user {plan.index}: {action}")
                time.sleep(rng.uniform(0, 2 * think_s))
        except Exception as exc:  # noqa: BLE001
            with lock:
                errors.append(f"user {plan.index} session: {type(exc).__name__}: {str(exc)[:200]}")

    threads = [threading.Thread(target=user, args=(plan,), daemon=True) for plan in plans]
    for thread in threads:
        thread.start()
    rss_start, files_start, cpu_start = app.rss_mb(), app.temp_files(), app.cpu_s()
    deadline[0] = time.time() + seconds
    barrier.wait(120)
    t0 = time.time()
    while any(thread.is_alive() for thread in threads) and time.time() < deadline[0] + 120:
        samples.append((time.time() - t0, app.rss_mb(), app.temp_files()))
        time.sleep(1.0)
    for thread in threads:
        thread.join(1)
    rss_end, files_end, cpu_used = app.rss_mb(), app.temp_files(), app.cpu_s() - cpu_start
    middle = min(samples, key=lambda s: abs(s[0] - seconds / 2)) if samples else (0, rss_start, files_start)
    all_ms = sorted(ms for values in latencies.values() for ms in values)

    # Memory "growth": the second half of the run against the first (warm-up allocations
    # land early; a leak keeps climbing).
    half = [s[1] for s in samples if s[0] >= seconds / 2] or [rss_end]
    first = [s[1] for s in samples if s[0] < seconds / 2] or [rss_start]
    return {
        "users": users, "seconds": seconds, "requests": len(all_ms), "requests_per_s": len(all_ms) / max(seconds, 1e-9),
        "app_cpu_ms_per_request": 1000 * cpu_used / max(len(all_ms), 1), "machine_load_average": os.getloadavg(),
        "errors": len(errors), "error_examples": errors[:5], "crosstalk": len(crosstalk), "crosstalk_examples": crosstalk[:5],
        "latency": latency_summary(all_ms),
        "by_action": {action: latency_summary(values) for action, values in latencies.items()},
        "rss_mb": {"start": rss_start, "middle": middle[1], "end": rss_end, "max": max([s[1] for s in samples] or [rss_end]),
                   "first_half_max": max(first), "second_half_max": max(half)},
        "temp_files": {"start": files_start, "middle": middle[2], "end": files_end},
        "distinct_reference_answers": distinct,
    }


def print_load(load: dict, round_: int = 1) -> None:
    print(f"LOAD (round {round_}): {load['users']} users for {load['seconds']:.0f} s: {load['requests']} requests "
          f"({load['requests_per_s']:.1f}/s), {load['errors']} errors, {load['crosstalk']} cross-talk; "
          f"latency median {load['latency']['median_ms']:.0f} ms, p95 {load['latency']['p95_ms']:.0f} ms; "
          f"app CPU {load['app_cpu_ms_per_request']:.0f} ms per request; load average {load['machine_load_average'][0]:.1f}")
    for action, stats in load["by_action"].items():
        print(f"  {action:12s} n={stats['n']:5d} median {stats['median_ms']:7.0f} ms  p95 {stats['p95_ms']:7.0f} ms")
    rss, files = load["rss_mb"], load["temp_files"]
    print(f"  app RSS MB start/middle/end/max: {rss['start']:.0f} / {rss['middle']:.0f} / {rss['end']:.0f} / {rss['max']:.0f}; "
          f"temp files start/middle/end: {files['start']} / {files['middle']} / {files['end']}")
    for example in load["error_examples"] + load["crosstalk_examples"]:
        print(f"  ! {example}")

