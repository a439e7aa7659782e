"""The torture suite, short version: every bad input, five users for ten seconds, and the
faults, against the real app running as a subprocess on a copy of the checkpoints.
`python -m genexplorer.torture` runs the full one (30 users for a minute)."""
import pickle
from types import SimpleNamespace

import pytest

from genexplorer import checkpoints
from genexplorer.devtools import torture


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    work = tmp_path_factory.mktemp("torture")
    checkpoints_dir = torture.copy_checkpoints(work / "checkpoints")
    marker = work / "pwned"
    torture.plant_broken_checkpoints(checkpoints_dir, marker)
    outside = work / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("must stay as it is")
    # Started without the full Fashion-MNIST, as on a machine that never installed it.
    app = torture.App(work / "app", checkpoints_dir=checkpoints_dir, no_fashion=True).start()
    # Fault runs train on a tiny uploaded .zip (an epoch takes a second), through the page all the same.
    data_zip = torture.tiny_dataset_zip(work / "tiny.zip")
    yield SimpleNamespace(app=app, marker=marker, outside=outside, work=work, data_zip=data_zip)
    app.stop()


def test_the_app_listens_on_this_machine_only(world):
    assert set(torture.listening_addresses(world.app.port)) <= {"127.0.0.1", "::1"}


def test_every_bad_input_gets_a_clear_message_and_changes_nothing(world):
    results = torture.run_bad_inputs(world.app, watch=(world.outside,), marker=world.marker)
    summary = torture.summarise_bad_inputs(results)
    print(f"\nbad inputs: {summary}")
    failed = [f"{r.outcome}: {r.endpoint} {r.name}: {r.detail}" for r in results if r.outcome in ("crash", "wrong")]
    assert not failed, "\n".join(failed)
    assert summary["tried"] >= 40 and summary["crash"] == 0
    assert not world.marker.exists(), "loading a checkpoint ran the code in its pickle"
    assert world.app.crashes_in_log() == []


def test_every_class_route_refuses_what_it_should_on_the_real_app(world):
    """Class mode's rows (torture/classrows.py): malformed bodies and queries on every route, tokens, ended and
    unknown classes, the caps, on the app with the shipped models reading the drawings."""
    import httpx

    with httpx.Client(base_url=world.app.url, timeout=120) as http:
        results = torture.run_class_rows(http)
    failed = [f"{r.outcome}: {r.name}: {r.detail}" for r in results if r.outcome in ("crash", "wrong")]
    assert not failed, "\n".join(failed)
    assert len(results) >= 150 and world.app.crashes_in_log() == []


def test_auth_covers_every_class_route_of_the_real_app(world):
    import httpx

    locked = torture.App(world.work / "app-auth", checkpoints_dir=world.app.checkpoints_dir,
                         extra_args=("--auth", "teacher:torture"))
    try:
        locked.start(timeout=600)
        with httpx.Client(base_url=locked.url, timeout=120) as http:
            results = torture.run_auth_rows(http)
    finally:
        locked.stop()
    assert [r.outcome for r in results] == ["clear error"] * len(results), results


def test_the_pickle_checkpoint_would_run_code_if_anything_unpickled_it(tmp_path, world):
    """The control for the test above: the planted pickle is live."""
    marker = tmp_path / "ran"
    pickle.loads(torture.pickle_bomb(marker))
    assert marker.exists()
    with pytest.raises(checkpoints.CheckpointError, match="not a safetensors"):
        checkpoints.load(world.app.checkpoints_dir / "mnist-zpickle")
    assert not world.marker.exists()


def test_five_users_at_once_each_get_their_own_results_and_memory_stays_flat(world):
    load = torture.run_load(world.app, users=5, seconds=10)
    print(f"\nload: {load}")
    assert load["errors"] == 0, load["error_examples"]
    assert load["crosstalk"] == 0, load["crosstalk_examples"]
    # the check can see cross-talk: every user's answers differ from every other user's
    assert all(count == 5 for count in load["distinct_reference_answers"].values())
    assert load["requests"] >= 20
    rss = load["rss_mb"]
    assert rss["second_half_max"] <= rss["first_half_max"] + 40, rss
    files = load["temp_files"]
    assert files["end"] <= files["middle"] + 10, files


def test_a_missing_dataset_says_how_to_install_it_and_the_rest_works(world):
    result = torture.fault_missing_fashion(world.app)
    assert result["train_outcome"] == "error" and "apt-get install dataset-fashion-mnist" in result["train_message"]
    assert all(outcome == "ok" for _, outcome in result["other_tabs"]), result


def test_killed_training_keeps_the_old_checkpoint_and_the_next_run_works(world):
    result = torture.fault_kill_training(world.app, moments=("mid-epoch", "mid-save"), data_zip=world.data_zip)
    for kill in result["kills"]:
        assert kill["page_state"] == "failed", kill
        assert "killed by signal 9" in kill["message"], kill
        assert kill["old_checkpoint_intact"] and kill["loads"], kill
    assert result["temporary_folders_left"] == []
    assert result["next_run"] == "done" and result["next_run_loads"]


def test_a_full_disk_while_saving_fails_clearly_and_leaves_nothing_half_written(world):
    result = torture.fault_disk_full(world.app, data_zip=world.data_zip)
    assert result["page_state"] == "failed" and "No space left on device" in result["message"], result
    assert result["old_checkpoint_intact"] and result["loads"] and result["temporary_folders_left"] == []


def test_a_save_killed_mid_write_leaves_a_temporary_folder_the_next_save_removes(tmp_path):
    import os

    from genexplorer.models import build

    from conftest import TINY

    dead = tmp_path / ".mnist-a.tmp-999999999-abc"      # no such process
    alive = tmp_path / f".mnist-b.tmp-{os.getpid()}-abc"  # a save going on right now
    for folder in (dead, alive):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"half")
    model = build("vae", TINY["vae"])
    model.dataset = "mnist"
    checkpoints.save(model, tmp_path / "mnist-c")
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "mnist-c"]


def test_a_real_write_failure_from_the_os_is_reported_too(tmp_path):
    result = torture.fault_disk_full_real(tmp_path)
    assert result["exit_code"] == 2 and result["state"] == "failed", result
    assert "File too large" in result["message"] and not result["traceback"], result
    assert not any(name.startswith(".") for name in result["left_in_checkpoints"]), result


def test_the_queue_is_capped(world):
    result = torture.fault_queue_cap(world.app)
    assert result["accepted"] == 8 and "already waiting or running" in str(result["refused_message"]), result


def test_killing_the_live_child_process_loses_no_drawing(world):
    result = torture.fault_kill_live_child(world.app)
    assert torture.fault_failures({"kill_live_child": result}) == [], result


def test_unpacked_uploads_do_not_pile_up(world):
    """A refused run leaves no unpacked .zip behind, and finished runs' data is deleted by the
    next upload, so one user uploading again and again cannot fill the disk."""
    from gradio_client import handle_file

    session = torture.client(world.app.url)
    for _ in range(3):
        outcome, message = torture.client_outcome(lambda: session.predict(
            *torture.train_args(name="mnist-vae", dataset="zip", zip_file=handle_file(str(world.data_zip))),
            api_name="/train_start"))
        assert outcome == "error" and "exists" in message
    uploads = world.app.runs_dir / "uploads"
    assert not uploads.exists() or sorted(uploads.iterdir()) == []


def test_repeated_exports_do_not_pile_up_files(world):
    session = torture.client(world.app.url)
    for _ in range(4):
        session.predict("1", 0, "7", 0, 8, "mnist", api_name="/interpolate_png")
    exports = world.app.tmp_dir / "genexplorer-exports"
    assert len(list(exports.iterdir())) <= 1


def test_old_sessions_cannot_grow_memory_without_bound():
    """Gradio keeps every session (~0.45 MB each here) up to its capacity, 10,000 by default."""
    from genexplorer.ui import LAUNCH_OPTIONS

    assert LAUNCH_OPTIONS.get("state_session_capacity", 10_000) <= 1000


def test_the_page_shows_a_runs_true_state_after_the_app_restarts(world):
    result = torture.fault_app_restart(world.app, data_zip=world.data_zip)
    assert result == {"page_state_after_restart": "running", "page_state_after_run_died_while_down": "failed"}
    assert world.app.crashes_in_log() == []


# ------------------------------------------------------------ opening the app to others

@pytest.fixture
def launched(monkeypatch):
    import app

    calls = []
    # app.main hands its settings to genexplorer.ui.launch (which starts the server and blocks)
    monkeypatch.setattr(app, "launch", lambda demo, **kwargs: calls.append(kwargs))
    monkeypatch.delenv("GENEXPLORER_AUTH", raising=False)
    return app, calls


def test_it_binds_to_this_machine_by_default(launched, capsys):
    app, calls = launched
    app.main([])
    assert calls[0]["server_name"] == "127.0.0.1" and calls[0]["auth"] is None and not calls[0]["share"]
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--host", "0.0.0.0"], ["--share"]])
def test_opening_it_to_others_warns_and_takes_a_password(launched, capsys, argv, monkeypatch):
    app, calls = launched
    app.main(argv)
    err = capsys.readouterr().err
    assert "warning" in err and "--auth" in err
    app.main(argv + ["--auth", "teacher:s3cret"])
    assert calls[-1]["auth"] == ("teacher", "s3cret")
    monkeypatch.setenv("GENEXPLORER_AUTH", "class:pw")
    app.main(argv)
    assert calls[-1]["auth"] == ("class", "pw")
    with pytest.raises(SystemExit, match="user:password"):
        app.main(argv + ["--auth", "nopassword"])
