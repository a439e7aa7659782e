"""Training past one process: `torchrun ... -m genexplorer.train` with gloo on two CPU processes."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genexplorer.train_form import start_arguments

from genexplorer import checkpoints
from genexplorer.jobs import JobError, JobManager

ROOT = Path(__file__).resolve().parent.parent
VAE = ["--model", "vae", "--dataset", "mnist", "--epochs", "2", "--latent-dim", "4", "--width", "8",
       "--batch-size", "64", "--seed", "0", "--no-latent-maps"]


def train(tmp_path: Path, name: str, args: list[str], processes: int = 1) -> tuple[Path, str]:
    out, logs = tmp_path / name, tmp_path / f"{name}-log"
    if processes > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    else:
        launcher = [sys.executable]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(launcher + ["-m", "genexplorer.train", *args, "--out", str(out), "--log-dir", str(logs),
                                      "--threads", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out, done.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("distributed")
    one, _ = train(tmp, "mnist-one", VAE)
    two, log = train(tmp, "mnist-two", VAE, processes=2)
    return one, two, log


def test_two_processes_finish_with_one_checkpoint_written_by_rank_0(runs):
    _one, two, log = runs
    config = checkpoints.read_config(two)
    assert config["complete"] is True and config["training"]["world_size"] == 2
    # only rank 0 logs and writes: one line per epoch in the log and in progress.jsonl
    assert log.count("epoch 1/2 done") == 1 and log.count("saved ") == 1
    progress = (two.parent / "mnist-two-log" / "progress.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in progress] == [1, 2]
    assert not list(two.parent.glob(".mnist-two*")), "no staging folder left behind"
    assert checkpoints.load(two).kind == "vae"


def test_two_processes_land_close_to_one(runs):
    """Each process takes half of every batch of 64 and DDP averages the gradients, so each step is the
    one-process step on the same number of images; only which images (the sampler's shuffle) and the
    noise of the reparameterisation differ. Over two epochs the test -ELBO lands within 3 %."""
    one, two, _ = runs
    a = checkpoints.read_config(one)["metrics"]["test_neg_elbo_nats"]
    b = checkpoints.read_config(two)["metrics"]["test_neg_elbo_nats"]
    assert checkpoints.read_config(one)["training"]["world_size"] == 1
    assert abs(a - b) / a < 0.03, (a, b)


def test_a_conditional_gan_trains_both_networks_under_torchrun(tmp_path):
    out, log = train(tmp_path, "mnist-cgan", ["--model", "cgan", "--dataset", "mnist", "--epochs", "1",
                                               "--max-steps", "3", "--width", "8", "--latent-dim", "8"], processes=2)
    model = checkpoints.load(out)
    assert model.kind == "cgan" and checkpoints.read_config(out)["training"]["world_size"] == 2
    assert log.count("saved ") == 1


def test_the_job_manager_runs_a_two_process_job(tmp_path):
    manager = JobManager(tmp_path / "runs", tmp_path / "checkpoints", poll_s=0.2)
    settings = dict(model="vae", dataset="mnist", latent_dim=2, width=4, epochs=1, batch_size=64, device="cpu",
                    seed=0, latent_maps=False, max_steps=4)
    with pytest.raises(JobError, match="processes"):
        manager.submit("mnist-toomany", settings, processes=10_000)
    job = manager.submit("mnist-ddpjob", settings, processes=2)
    import time

    deadline = time.time() + 180
    while time.time() < deadline and manager.get(job.id).state in ("queued", "running"):
        time.sleep(0.5)
    job = manager.get(job.id)
    assert job.state == "done", (job.state, job.message, manager.log_tail(job.id) if hasattr(manager, "log_tail") else "")
    assert job.processes == 2
    assert checkpoints.read_config(tmp_path / "checkpoints" / "mnist-ddpjob")["training"]["world_size"] == 2


def test_two_app_processes_share_one_checkpoints_and_runs_folder(tmp_path):
    """Serving past one process: a run started through one app is watched and its checkpoint served by the
    other, and only one of them started it (the runs folder's lock)."""
    import shutil
    import urllib.request

    from gradio_client import Client

    from genexplorer.devtools import bench

    shared = tmp_path / "checkpoints"
    shared.mkdir()
    shutil.copytree(checkpoints.checkpoints_dir() / "mnist-vae", shared / "mnist-vae",
                    ignore=shutil.ignore_patterns(checkpoints.TRAINING_STATE_FILE))
    env = dict(os.environ, GENEXPLORER_CHECKPOINTS=str(shared), GENEXPLORER_RUNS=str(tmp_path / "runs"),
               GRADIO_ANALYTICS_ENABLED="False")
    ports = [bench.free_port(), bench.free_port()]
    apps = [subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    try:
        for port in ports:
            bench.wait_ready(port)
        first, second = (Client(f"http://127.0.0.1:{port}", analytics_enabled=False, verbose=False) for port in ports)
        run, message = first.predict(*start_arguments(name="mnist-shared", family="ae", latent_dim=2),
                                     api_name="/train_start")
        assert "Queued" in message
        run = run["value"] if isinstance(run, dict) else run
        import time

        deadline = time.time() + 240
        progress = ""
        while time.time() < deadline and "data-state='done'" not in progress:
            progress = second.predict(run, api_name="/train_status")[0]   # the other app watches it
            assert "data-state='failed'" not in progress, progress
            time.sleep(1)
        assert "data-state='done'" in progress
        body = json.dumps({"model": "mnist-shared", "label": None, "latent": [0.0, 0.0], "values": [0.5, -0.5]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{ports[1]}/genexplorer/live/slide", data=body, method="POST",
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:   # served by the app that did not train it
            assert response.status == 200 and response.headers["content-type"] == "image/png"
        log = next((tmp_path / "runs").glob("*/log.txt")).read_text()
        assert log.count("device: ") == 1, "exactly one app process started the run"
    finally:
        for app in apps:
            app.terminate()
        for app in apps:
            app.wait(30)
