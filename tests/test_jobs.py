"""The job manager on its own: real training processes on a tiny data set."""
import os
import signal
import time

import pytest

import genexplorer as gx
from genexplorer import checkpoints
from genexplorer.jobs import JobError, JobManager

from test_train import small_dataset  # noqa: F401 - a fixture


def tiny(dataset, **overrides):
    settings = dict(model="vae", dataset=str(dataset), latent_dim=2, width=4, epochs=1, batch_size=32,
                    device="cpu", seed=0, latent_maps=False)
    settings.update(overrides)
    return settings


def wait_for(predicate, timeout=90.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def manager(tmp_path):
    m = JobManager(tmp_path / "runs", tmp_path / "checkpoints", poll_s=0.2)
    yield m
    for job in m.jobs():
        if job.state == "running" and job.pid:
            try:
                os.kill(job.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    m.close()


def test_a_run_goes_from_queued_to_done_with_a_loadable_checkpoint(manager, small_dataset, tmp_path):
    job = manager.submit("digits-vae", tiny(small_dataset, epochs=2))
    done = wait_for(lambda: manager.get(job.id).state in ("done", "failed") and manager.get(job.id), what="the run")
    assert done.state == "done", manager.log_tail(job.id)
    status = manager.status(job.id)
    assert [e["epoch"] for e in status["epochs"]] == [1, 2] and status["curve"]
    assert manager.latest_samples(job.id).name == "epoch_002.png"
    model = gx.load(tmp_path / "checkpoints" / "digits-vae")
    assert model.kind == "vae" and checkpoints.read_config(tmp_path / "checkpoints" / "digits-vae")["complete"]


def test_cancel_keeps_the_last_finished_epoch(manager, small_dataset, tmp_path):
    job = manager.submit("digits-long", tiny(small_dataset, epochs=150))
    wait_for(lambda: len(manager.status(job.id).get("epochs", [])) >= 1, what="the first epoch")
    asked = time.time()
    manager.cancel(job.id)
    wait_for(lambda: manager.get(job.id).state == "cancelled", timeout=20, what="the cancel")
    assert time.time() - asked < 10
    config = checkpoints.read_config(tmp_path / "checkpoints" / "digits-long")
    assert config["complete"] is False and config["epochs_done"] >= 1
    assert not [p for p in (tmp_path / "checkpoints").iterdir() if p.name.startswith(".")], "nothing half written"


def test_a_killed_training_process_is_reported_and_the_next_run_works(manager, small_dataset):
    job = manager.submit("digits-crash", tiny(small_dataset, epochs=150))
    pid = wait_for(lambda: manager.get(job.id).pid, what="the process")
    wait_for(lambda: manager.status(job.id).get("state") == "running", what="training")
    os.kill(pid, signal.SIGKILL)
    failed = wait_for(lambda: manager.get(job.id).state == "failed" and manager.get(job.id), what="the failure")
    assert "killed by signal 9" in failed.message
    again = manager.submit("digits-after", tiny(small_dataset))
    assert wait_for(lambda: manager.get(again.id).state in ("done", "failed") and manager.get(again.id)).state == "done"


def test_one_run_per_device_the_second_waits(manager, small_dataset):
    first = manager.submit("digits-a", tiny(small_dataset, epochs=150))
    second = manager.submit("digits-b", tiny(small_dataset))
    wait_for(lambda: manager.get(first.id).state == "running", what="the first run")
    time.sleep(1.0)
    assert manager.get(second.id).state == "queued"
    manager.cancel(first.id)
    assert wait_for(lambda: manager.get(second.id).state in ("done", "failed") and manager.get(second.id)).state == "done"


def test_a_restarted_app_sees_the_run_and_can_cancel_it(tmp_path, small_dataset):
    first = JobManager(tmp_path / "runs", tmp_path / "checkpoints", poll_s=0.2)
    job = first.submit("digits-survivor", tiny(small_dataset, epochs=150))
    wait_for(lambda: first.status(job.id).get("state") == "running", what="training")
    first.close()  # the app goes away; the run does not
    second = JobManager(tmp_path / "runs", tmp_path / "checkpoints", poll_s=0.2)
    try:
        time.sleep(0.5)
        assert second.get(job.id).state == "running"
        assert second.status(job.id)["progress"]["epochs"] == 150
        second.cancel(job.id)
        wait_for(lambda: second.get(job.id).state == "cancelled", timeout=20, what="the cancel")
    finally:
        second.close()


def test_requests_that_are_refused(manager, small_dataset):
    manager.submit("digits-x", tiny(small_dataset))
    with pytest.raises(JobError, match="already waiting or running|exists"):
        manager.submit("digits-x", tiny(small_dataset))
    for name in ("../evil", "/abs", "", "a b"):
        with pytest.raises(JobError, match="name"):
            manager.submit(name, tiny(small_dataset))
    with pytest.raises(JobError, match="at most 200 epochs"):
        manager.submit("digits-y", tiny(small_dataset, epochs=5000))
    with pytest.raises(JobError, match=r"--lr\) must be a finite number"):
        manager.submit("digits-y", tiny(small_dataset, lr=float("nan")))
    with pytest.raises(JobError, match="not available"):
        manager.submit("digits-y", tiny(small_dataset, device="cuda:7"))
    with pytest.raises(JobError, match="--rm-rf: not an option of"):
        manager.submit("digits-y", {**tiny(small_dataset), "rm_rf": True})
    with pytest.raises(JobError, match="no run"):
        manager.get("../../etc")
