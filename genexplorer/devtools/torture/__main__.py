"""python -m genexplorer.torture: the whole run."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .app import App, copy_checkpoints, listening_addresses
from .bad_files import plant_broken_checkpoints
from .catalogue import run_bad_inputs, summarise_bad_inputs
from .classrows import run_auth_rows, run_class_rows
from .faults import (fault_app_restart, fault_disk_full, fault_disk_full_real, fault_failures, fault_kill_training,
                     fault_kill_live_child, fault_missing_fashion, fault_queue_cap)
from .load import print_load, run_load




def class_rows(app: App, workdir: Path) -> list:
    """Class mode's rows (classrows.py): against the app, then every route against a second app started with --auth."""
    import httpx

    with httpx.Client(base_url=app.url, timeout=120) as http:
        results = run_class_rows(http)
    locked = App(workdir / "app-auth", checkpoints_dir=app.checkpoints_dir, extra_args=("--auth", "teacher:torture"))
    try:
        locked.start(timeout=600)
        with httpx.Client(base_url=locked.url, timeout=120) as http:
            results += run_auth_rows(http)
    finally:
        locked.stop()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genexplorer.torture", description="the torture suite: bad inputs, many users at once and faults, against a real running app")
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2, help="load rounds one after the other (memory over time)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["bad", "load", "faults"])
    parser.add_argument("--workdir", help="keep the app's folders here (default: a temporary folder, removed)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="genexplorer-torture-"))
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count()}
    failures = []
    try:
        checkpoints_dir = copy_checkpoints(workdir / "checkpoints")
        marker = workdir / "pwned"
        plant_broken_checkpoints(checkpoints_dir, marker)
        (workdir / "outside").mkdir(exist_ok=True)
        (workdir / "outside" / "secret.txt").write_text("must stay as it is")
        with App(workdir / "app", checkpoints_dir=checkpoints_dir, no_fashion=True) as app:
            listening = listening_addresses(app.port)
            report["listens_on"] = listening
            print(f"app pid {app.pid} at {app.url}, listening on {listening}")
            if any(address not in ("127.0.0.1", "::1") for address in listening):
                failures.append(f"the app listens on {listening}")
            if "bad" not in args.skip:
                results = run_bad_inputs(app, watch=(workdir / "outside",), marker=marker)
                results += class_rows(app, workdir)
                summary = summarise_bad_inputs(results)
                report["bad_inputs"] = summary
                report["bad_input_results"] = [r.__dict__ for r in results]
                for r in results:
                    print(f"  {r.outcome:12s} {r.endpoint:14s} {r.name}: {r.detail[:120]}")
                print(f"BAD INPUTS: {summary['tried']} tried, {summary['clear error']} clear errors, "
                      f"{summary['handled']} handled normally, {summary['wrong']} wrong answers, {summary['crash']} crashes")
                if summary["crash"] or summary["wrong"]:
                    failures.append("bad inputs: crashes or wrong answers")
            if "load" not in args.skip:
                # Twice: the first minute includes warm-up (sessions, allocator arenas, caches);
                # memory that still climbs in the second is a leak.
                report["load"] = []
                for round_ in range(1, args.rounds + 1):
                    load = run_load(app, users=args.users, seconds=args.seconds)
                    report["load"].append(load)
                    print_load(load, round_)
                    if load["errors"] or load["crosstalk"]:
                        failures.append(f"load round {round_}: errors or cross-talk")
            if "faults" not in args.skip:
                faults = report["faults"] = {}
                faults["missing_fashion"] = fault_missing_fashion(app)
                print(f"FAULT missing Fashion-MNIST: {faults['missing_fashion']}")
                faults["kill_training"] = fault_kill_training(
                    app, moments=("mid-epoch", "mid-epoch", "mid-epoch", "mid-save", "mid-save"))
                print(f"FAULT kill training: {faults['kill_training']}")
                faults["disk_full"] = fault_disk_full(app)
                print(f"FAULT disk full (page): {faults['disk_full']}")
                faults["disk_full_os"] = fault_disk_full_real(workdir / "fsize")
                print(f"FAULT disk full (RLIMIT_FSIZE): {faults['disk_full_os']}")
                faults["queue_cap"] = fault_queue_cap(app)
                print(f"FAULT queue cap: {faults['queue_cap']}")
                faults["kill_live_child"] = fault_kill_live_child(app)
                print(f"FAULT live child killed: {faults['kill_live_child']}")
                faults["app_restart"] = fault_app_restart(app)
                print(f"FAULT app restart: {faults['app_restart']}")
                failures += fault_failures(faults)
            crashes = app.crashes_in_log()
            print(f"crashes in the app log over the whole run: {len(crashes)} {crashes[:3]}")
            if crashes:
                failures.append("crashes in the app log")
    finally:
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2, default=str))
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print("FAILURES: " + "; ".join(failures) if failures else "all torture checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
