import os
import sys
import time
import warnings

import pytest
import torch

os.environ.setdefault("NUMBA_CACHE_DIR", "/tmp/genexplorer-numba-cache")
torch.set_num_threads(1)

# Tiny settings per kind: fast on CPU, still exercising every layer.
TINY = {
    "ae": {"latent_dim": 4, "channels": 4, "hidden": 8},
    "dae": {"latent_dim": 4, "channels": 4, "hidden": 8},
    "vae": {"latent_dim": 3, "channels": 4, "hidden": 8},
    "cvae": {"latent_dim": 3, "channels": 4, "hidden": 8},
    "gan": {"latent_dim": 8, "width": 8},
    "cgan": {"latent_dim": 8, "width": 8, "projection": True},
    "wgan": {"latent_dim": 8, "width": 8},
    "wgan-gp": {"latent_dim": 8, "width": 8},
    "pca": {"latent_dim": 4},
}


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: a worker a core, at most four: each may launch the app and a browser (~1 GB apiece)."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


def page_job_manager():
    """The page's job manager, if this process built the page and made one (else None)."""
    return getattr(sys.modules.get("genexplorer.ui.training"), "_manager", None)


@pytest.fixture(scope="module", autouse=True)
def no_run_outlives_its_file(request):
    """A page training run a test file started and left going is cancelled when the file ends: a run queued by
    the next file (in the same app: the same worker under -n) would otherwise wait for it, and the next file's
    timings would depend on which files happened to run before it."""
    yield
    manager = page_job_manager()
    if manager is None:
        return

    def going():
        return [job for job in manager.jobs() if job.state in ("queued", "running")]
    left = going()
    if left:   # the warnings summary names the file, so its test can be made to wait for or cancel its run
        warnings.warn(f"{request.module.__name__} left {', '.join(job.name for job in left)} going: cancelled")
    for job in left:
        manager.cancel(job.id)
    deadline = time.monotonic() + 120
    while going() and time.monotonic() < deadline:
        time.sleep(0.5)


@pytest.fixture(params=sorted(TINY))
def kind(request):
    return request.param


@pytest.fixture
def images():
    torch.manual_seed(0)
    return torch.rand(5, 1, 28, 28), torch.tensor([0, 1, 2, 3, 9])


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """The real app, launched once for the API and browser tests, on a copy of the
    shipped checkpoints (training from the page writes there, not into the repository)."""
    import shutil

    from genexplorer import checkpoints

    copy = tmp_path_factory.mktemp("checkpoints")
    for name in checkpoints.list_checkpoints():
        shutil.copytree(checkpoints.checkpoints_dir() / name, copy / name,
                        ignore=shutil.ignore_patterns(checkpoints.TRAINING_STATE_FILE))
    os.environ["GENEXPLORER_CHECKPOINTS"] = str(copy)
    os.environ["GENEXPLORER_RUNS"] = str(tmp_path_factory.mktemp("runs"))
    # the class mode's store too: tests never write into the project's runs/classes/
    os.environ.setdefault("GENEXPLORER_CLASSES", str(tmp_path_factory.mktemp("classes")))
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    # A file run earlier in this process (in its worker, under -n) may have built the page and with it the job
    # manager, on the project's own runs/ and checkpoints/: page runs would then train into the repository, and
    # queue behind whatever an earlier suite left there. The launched app makes a fresh one on the copies.
    if page_job_manager() is not None:
        page_job_manager().close()
        sys.modules["genexplorer.ui.training"]._manager = None
    import app

    from genexplorer.devtools.measuring import free_port

    # a port of its own: two workers launching at once must not both take Gradio's first free one
    _, url, _ = app.launch(app.demo, block=False, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield url.rstrip("/")
    app.demo.close()


@pytest.fixture
def client(app_url):
    from gradio_client import Client

    return Client(app_url, analytics_enabled=False, verbose=False)


def _previews_in(monkeypatch, setting: str):
    from genexplorer import precision

    monkeypatch.setenv(precision.ENVIRONMENT_VARIABLE, setting)
    precision.live_bfloat16.cache_clear()
    yield
    precision.live_bfloat16.cache_clear()   # the next test decides again, with the environment restored


@pytest.fixture
def float32_previews(monkeypatch):
    """Live previews in float32: then they equal the end-of-gesture events' pictures exactly (precision.py)."""
    yield from _previews_in(monkeypatch, "0")


@pytest.fixture
def bfloat16_previews(monkeypatch):
    """Live previews in bfloat16, as on a CPU that has it natively (emulated, slower, on one that has not)."""
    yield from _previews_in(monkeypatch, "1")
