import json
import os
import pickle

import pytest
import torch

import genexplorer as gx
from genexplorer import checkpoints
from genexplorer.models import build

from conftest import TINY


@pytest.fixture
def saved(tmp_path):
    model = build("vae", TINY["vae"]).eval()
    model.dataset = "mnist"
    folder = checkpoints.save(model, tmp_path / "mnist-tiny", metrics={"test_psnr": 12.0})
    return model, folder


def test_config_is_plain_json_with_everything_needed(saved):
    _, folder = saved
    config = json.loads((folder / "config.json").read_text())
    assert config["format"] == "genexplorer-checkpoint" and config["kind"] == "vae"
    assert config["model_config"]["latent_dim"] == 3 and config["dataset"] == "mnist"
    assert config["package_version"] == gx.__version__ and config["complete"] is True
    assert oct(folder.stat().st_mode & 0o777) == oct(0o755)


def test_list_checkpoints_skips_hidden_and_incomplete_folders(saved, tmp_path):
    (tmp_path / ".mnist-tiny.incomplete").mkdir()
    (tmp_path / "empty").mkdir()
    assert gx.list_checkpoints(tmp_path) == ["mnist-tiny"]
    assert gx.load("mnist-tiny", root=tmp_path).kind == "vae"


@pytest.mark.parametrize("name", ["../../etc", "/etc", "..", "a/b", "mnist-vae\x00", "", "x" * 200])
def test_request_names_cannot_leave_the_checkpoints_folder(name, tmp_path):
    with pytest.raises(gx.CheckpointError, match="not a valid checkpoint name"):
        gx.load(name, root=tmp_path, allow_paths=False)


def test_explicit_foreign_folder_is_named_in_the_error(tmp_path):
    with pytest.raises(gx.CheckpointError, match="not a genexplorer checkpoint"):
        gx.load(tmp_path)
    with pytest.raises(gx.CheckpointError, match="no checkpoint folder"):
        gx.load("nothing-here", root=tmp_path)


def test_corrupt_config(saved):
    _, folder = saved
    (folder / "config.json").write_text("{not json")
    with pytest.raises(gx.CheckpointError, match=f"{folder.name}.*not valid JSON"):
        gx.load(folder)
    (folder / "config.json").write_text(json.dumps({"kind": "vae"}))
    with pytest.raises(gx.CheckpointError, match="lacks"):
        gx.load(folder)


def test_weights_that_do_not_match_the_config(saved):
    _, folder = saved
    config = json.loads((folder / "config.json").read_text())
    config["model_config"]["latent_dim"] = 7
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(gx.CheckpointError, match="do not match its config"):
        gx.load(folder)
    config["model_config"]["nonsense"] = 1
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(gx.CheckpointError, match="cannot be built"):
        gx.load(folder)


class Exploit:
    """Unpickling this would create a marker file: loading must never do it."""
    marker = None

    def __reduce__(self):
        return (open, (Exploit.marker, "w"))


def test_a_pickle_in_place_of_the_weights_never_runs(saved, tmp_path):
    _, folder = saved
    Exploit.marker = str(tmp_path / "pwned")
    (folder / "model.safetensors").write_bytes(pickle.dumps({"state": Exploit()}))
    torch.save({"x": Exploit()}, folder / "model.pt")
    with pytest.raises(gx.CheckpointError, match="corrupt or not a safetensors"):
        gx.load(folder)
    assert not os.path.exists(Exploit.marker)


def test_truncated_weights(saved):
    _, folder = saved
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(gx.CheckpointError, match="corrupt"):
        gx.load(folder)


def test_failed_save_leaves_the_old_checkpoint_intact(saved, monkeypatch, tmp_path):
    model, folder = saved
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    other = build("vae", TINY["vae"])
    other.dataset = "mnist"

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoints, "save_file", disk_full)
    with pytest.raises(OSError, match="No space"):
        checkpoints.save(other, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist-tiny"], "no temporary folder may be left"
    z = torch.randn(2, 3)
    assert torch.equal(gx.load(folder).decode(z), model.decode(z))


def test_save_replaces_an_existing_checkpoint(saved, tmp_path):
    _, folder = saved
    other = build("vae", TINY["vae"])
    other.dataset = "fashion"
    checkpoints.save(other, folder)
    assert gx.load(folder).dataset == "fashion"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist-tiny"]


def test_a_save_killed_between_renames_is_recovered(saved, tmp_path):
    model, folder = saved
    os.rename(folder, tmp_path / ".mnist-tiny.old-4242")  # what a kill at that instant leaves
    assert gx.load("mnist-tiny", root=tmp_path).kind == "vae"
    assert folder.is_dir()


def test_optimizer_state_round_trip(tmp_path):
    model = build("gan", TINY["gan"])
    model.dataset = "mnist"
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.loss(torch.rand(4, 1, 28, 28))["loss"].backward()
    optimizer.step()
    folder = checkpoints.save(model, tmp_path / "g", optimizer_state={"g": optimizer.state_dict()})
    restored = checkpoints.load_optimizer_state(folder)["g"]
    fresh = torch.optim.Adam(model.parameters(), lr=1e-3)
    fresh.load_state_dict(restored)
    for a, b in zip(optimizer.state.values(), fresh.state.values()):
        assert torch.equal(a["exp_avg"], b["exp_avg"]) and torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])


def test_shipping_a_run_in_half_precision_loads_as_float32_and_draws_the_same(tmp_path):
    """tools/ship.py --half: weights stored as float16 (half the bytes), loaded into float32 parameters."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("ship", Path(__file__).parent.parent / "tools" / "ship.py")
    ship = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ship)
    torch.manual_seed(0)
    model = build("cgan", TINY["cgan"]).eval()
    model.dataset = "mnist"
    run = checkpoints.save(model, tmp_path / "run", complete=True, epochs_done=1)
    (run / "training_state.safetensors").write_bytes(b"optimiser state")
    shipped = ship.ship(run, "mnist-tiny-cgan", half=True, root=tmp_path / "checkpoints")
    assert not (shipped / "training_state.safetensors").exists()
    assert (shipped / checkpoints.WEIGHTS_FILE).stat().st_size < 0.6 * (run / checkpoints.WEIGHTS_FILE).stat().st_size
    loaded = checkpoints.load(shipped)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    z, y = torch.randn(8, 8), torch.arange(8)
    with torch.no_grad():
        assert float((loaded.decode(z, y) - model.decode(z, y)).abs().max()) < 0.01
    incomplete = checkpoints.save(model, tmp_path / "stopped", complete=False, epochs_done=1)
    with pytest.raises(SystemExit, match="not a complete run"):
        ship.ship(incomplete, "mnist-stopped", root=tmp_path / "checkpoints")
    # an encoder's run trained with --no-latent-maps gets its maps of the test set on the way (the Latent map tab)
    encoder = build("dae", TINY["dae"]).eval()
    encoder.dataset = "mnist"
    plain = checkpoints.save(encoder, tmp_path / "dae-run", complete=True, epochs_done=1)
    (plain / "live_generator.safetensors").write_bytes(b"only --resume needs it")
    shipped = ship.ship(plain, "mnist-tiny-dae", root=tmp_path / "checkpoints")
    assert not (shipped / "live_generator.safetensors").exists()
    maps = checkpoints.load_tensors(shipped, checkpoints.LATENT_MAP_FILE)
    assert maps["pca"].shape == (len(gx.load_dataset("mnist", "test")[1]), 2)
