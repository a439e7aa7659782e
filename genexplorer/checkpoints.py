"""The ONLY place that saves or loads weights.

A checkpoint is a folder: ``config.json`` (plain JSON: kind, dataset, model config,
training settings, metrics, version) beside ``model.safetensors`` (tensors only, so
loading never unpickles anything). Optional: ``training_state.safetensors``
(optimizer moments, for --resume), ``latent_map.safetensors`` (precomputed 2-D maps
of the test set) and ``samples.png``. Saving writes a temporary folder and renames it,
so a run killed half way never leaves a half-written checkpoint behind.
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .version import __version__
from .models import GenerativeModel, build

CHECKPOINTS_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
CHECKPOINTS_ENV_VAR = "GENEXPLORER_CHECKPOINTS"
FORMAT = "genexplorer-checkpoint"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TRAINING_STATE_FILE = "training_state.safetensors"
LATENT_MAP_FILE = "latent_map.safetensors"
# Checkpoint names are what users type and what requests carry: keep them boring.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt or foreign; the message names the folder."""


def checkpoints_dir() -> Path:
    return Path(os.environ.get(CHECKPOINTS_ENV_VAR) or CHECKPOINTS_DIR)


def list_checkpoints(root: str | os.PathLike | None = None) -> list[str]:
    """Names of the checkpoint folders under ``root`` (default checkpoints/), sorted."""
    root = Path(root) if root is not None else checkpoints_dir()
    if not root.is_dir():
        return []
    return sorted(
        d.name for d in root.iterdir()
        if d.is_dir() and NAME_PATTERN.match(d.name) and (d / CONFIG_FILE).is_file() and (d / WEIGHTS_FILE).is_file()
    )


def resolve(name_or_path: str | os.PathLike, root: str | os.PathLike | None = None, *,
            allow_paths: bool = True) -> Path:
    """A checkpoint name (a folder in checkpoints/) or an explicit folder path -> folder.

    With allow_paths=False (what the app uses for anything a request carries) only a
    bare name matching NAME_PATTERN is accepted, so no '../' or absolute path can walk
    out of the checkpoints folder.
    """
    text = str(name_or_path)
    looks_like_path = isinstance(name_or_path, Path) or "/" in text or os.sep in text or text.startswith(".")
    if looks_like_path and allow_paths:
        folder = Path(text)
    else:
        if not NAME_PATTERN.match(text):
            raise CheckpointError(f"{text!r} is not a valid checkpoint name (letters, digits, '-', '_', '.')")
        folder = (Path(root) if root is not None else checkpoints_dir()) / text
    _recover_interrupted_replace(folder)
    if not folder.is_dir():
        known = ", ".join(list_checkpoints(root)) or "none"
        raise CheckpointError(f"no checkpoint folder {folder} (available: {known})")
    return folder


def read_config(folder: str | os.PathLike) -> dict:
    folder = Path(folder)
    path = folder / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{folder} is not a genexplorer checkpoint: {CONFIG_FILE} is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is corrupt: not valid JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{folder} is not a genexplorer checkpoint: {CONFIG_FILE} lacks \"format\": \"{FORMAT}\"")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{folder} was written by a newer genexplorer (format {config['format_version']})")
    for key in ("kind", "dataset", "model_config"):
        if key not in config:
            raise CheckpointError(f"{path} is incomplete: no {key!r}")
    return config


def load(name_or_path, *, device: str | torch.device = "cpu", root=None, allow_paths: bool = True) -> GenerativeModel:
    """Rebuild a model from its checkpoint, in eval mode, on ``device``."""
    folder = resolve(name_or_path, root, allow_paths=allow_paths)
    config = read_config(folder)
    try:
        model = build(config["kind"], config["model_config"])
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{folder / CONFIG_FILE} describes a model that cannot be built: {exc}") from None
    try:
        state = load_file(str(folder / WEIGHTS_FILE))
    except FileNotFoundError:
        raise CheckpointError(f"{folder} has no {WEIGHTS_FILE}") from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{folder / WEIGHTS_FILE} is corrupt or not a safetensors file: {exc}") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else "shape mismatch"
        raise CheckpointError(f"{folder} weights do not match its config.json: {first_line}") from None
    model.dataset = config["dataset"]
    model.class_names = tuple(config.get("class_names") or model.class_names)
    model.checkpoint_config = config
    return model.to(device).eval()


def save(model: GenerativeModel, folder, *, training: dict | None = None, metrics: dict | None = None,
         complete: bool = True, epochs_done: int = 0, optimizer_state: dict | None = None,
         extra_tensors: dict[str, dict[str, torch.Tensor]] | None = None, files: dict[str, bytes] | None = None) -> Path:
    """Write a checkpoint atomically: everything goes into a temporary sibling folder,
    which then replaces ``folder``. If the process dies at any point, ``folder`` is
    either the old checkpoint or the new one, never a mix.

    extra_tensors: {"latent_map.safetensors": {"pca": tensor, ...}} and the like.
    files: other small files by name, e.g. {"samples.png": png_bytes}.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": model.kind,
        "dataset": model.dataset,
        "class_names": list(model.class_names),
        "model_config": model.config.to_dict(),
        "training": training or {},
        "epochs_done": epochs_done,
        "complete": complete,
        "metrics": metrics or {},
        "package_version": __version__,
    }
    _remove_abandoned_temporaries(folder.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-{os.getpid()}-", dir=folder.parent))
    try:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_FILE), metadata={"kind": model.kind})
        if optimizer_state is not None:
            tensors, meta = flatten_optimizer_state(optimizer_state)
            save_file(tensors, str(tmp / TRAINING_STATE_FILE), metadata={"json": json.dumps(meta)})
        for name, tensors in (extra_tensors or {}).items():
            save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp / name))
        for name, data in (files or {}).items():
            (tmp / name).write_bytes(data)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=_json_default) + "\n", encoding="utf-8")
        _fsync_dir(tmp)
        # mkdtemp makes a private folder; a checkpoint is meant to be shared and read.
        os.chmod(tmp, 0o755)
        for path in tmp.iterdir():
            os.chmod(path, 0o644)
        _replace_dir(tmp, folder)
    except SafetensorError as exc:
        # safetensors reports a failed write (disk full, file too large) as its own error type;
        # make it the OSError it is, so callers handle every write failure alike.
        shutil.rmtree(tmp, ignore_errors=True)
        code = re.search(r"os error (\d+)", str(exc))
        errno_ = int(code.group(1)) if code else errno.EIO
        raise OSError(errno_, os.strerror(errno_), str(folder)) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _replace_dir(new: Path, target: Path) -> None:
    """Put ``new`` where ``target`` is. A directory cannot be renamed over a non-empty
    one, so the old folder first steps aside; it is deleted only once the new one is in place."""
    if not target.exists():
        os.rename(new, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _remove_abandoned_temporaries(parent: Path) -> None:
    """Delete the temporary folders of saves whose process was killed mid-write (SIGKILL,
    power cut): their names carry the writer's pid, and that process is gone."""
    for tmp in parent.glob(".*.tmp-*-*"):
        found = re.search(r"\.tmp-(\d+)-[^/]*$", tmp.name)
        if found and tmp.is_dir() and not _process_exists(int(found.group(1))):
            shutil.rmtree(tmp, ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True   # someone else's process
    status = Path(f"/proc/{pid}/status")
    try:   # a killed process nobody has reaped yet is a zombie: gone for our purposes
        return "\nState:\tZ" not in status.read_text()
    except OSError:
        return True


def _recover_interrupted_replace(folder: Path) -> None:
    """If a save died between its two renames, the old checkpoint sits in
    '.<name>.old-<pid>' and <name> is missing: put it back."""
    if folder.exists() or not folder.parent.is_dir():
        return
    for old in sorted(folder.parent.glob(f".{folder.name}.old-*")):
        if (old / CONFIG_FILE).is_file():
            os.rename(old, folder)
            return


def _fsync_dir(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as f:
            os.fsync(f.fileno())


def _json_default(value):
    if isinstance(value, (torch.Tensor,)):
        return value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in config.json")


def load_tensors(folder, filename: str) -> dict[str, torch.Tensor] | None:
    """An optional tensor file of a checkpoint (e.g. the latent map), or None if absent."""
    path = Path(folder) / filename
    if not path.is_file():
        return None
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is corrupt: {exc}") from None


# ---------------------------------------------------------- optimizer state

def flatten_optimizer_state(state_dict: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """torch optimizer state_dict(s) -> (tensors, JSON-able rest), so no pickle is needed.

    state_dict may be one optimizer's state or a dict of them by name ({"g": ..., "d": ...}).
    """
    tensors, meta = {}, {}
    for opt_name, opt_state in state_dict.items():
        plain = {"param_groups": opt_state["param_groups"], "state": {}}
        for param_id, param_state in opt_state["state"].items():
            plain["state"][str(param_id)] = {}
            for key, value in param_state.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"{opt_name}.{param_id}.{key}"] = value.detach().cpu().contiguous()
                    plain["state"][str(param_id)][key] = {"tensor": f"{opt_name}.{param_id}.{key}"}
                else:
                    plain["state"][str(param_id)][key] = value
        meta[opt_name] = plain
    return tensors, meta


def load_optimizer_state(folder) -> dict | None:
    """Inverse of flatten_optimizer_state for a checkpoint folder; None if it has none."""
    path = Path(folder) / TRAINING_STATE_FILE
    if not path.is_file():
        return None
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads(f.metadata()["json"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, KeyError, ValueError) as exc:
        raise CheckpointError(f"{path} is corrupt: {exc}") from None
    out = {}
    for opt_name, plain in meta.items():
        state = {}
        for param_id, param_state in plain["state"].items():
            state[int(param_id)] = {
                k: tensors[v["tensor"]] if isinstance(v, dict) and "tensor" in v else v
                for k, v in param_state.items()
            }
        out[opt_name] = {"state": state, "param_groups": plain["param_groups"]}
    return out
