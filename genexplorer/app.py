"""Start the page: the ``genexplorer`` command (``pip install .``), and ``python app.py`` in the checkout.

    genexplorer [--host 127.0.0.1] [--port 7860] [--share] [--auth user:pass]

The page serves a *home* folder: its checkpoints/ (the shipped models, and those trained from the page),
its assets/ (the shipped datasets) and its runs/. They stay in the source checkout; ``pip install .``
installs the code only. Home is the first of: $GENEXPLORER_HOME, the folder around the package (the
checkout, or an editable install), the current folder; with none, the command says so and stops.
$GENEXPLORER_CHECKPOINTS, $GENEXPLORER_ASSETS and $GENEXPLORER_RUNS still move one folder elsewhere.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .checkpoints import CHECKPOINTS_ENV_VAR
from .data import ASSETS_ENV_VAR

HOME_ENV_VAR = "GENEXPLORER_HOME"
RUNS_ENV_VAR = "GENEXPLORER_RUNS"
AUTH_ENV_VAR = "GENEXPLORER_AUTH"
PACKAGE_HOME = Path(__file__).resolve().parent.parent   # the checkout, when the package runs from one
HOME_FOLDERS = ("checkpoints", "assets")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class HomeError(RuntimeError):
    """No folder with checkpoints/ and assets/ was found; the message says where to point."""


def _missing(folder: Path) -> list[str]:
    return [name for name in HOME_FOLDERS if not (folder / name).is_dir()]


def find_home(*, cwd: str | os.PathLike | None = None) -> Path:
    """The folder whose checkpoints/ and assets/ the page serves (see the module docstring)."""
    explicit = os.environ.get(HOME_ENV_VAR)
    if explicit:
        folder = Path(explicit).expanduser().resolve()
        missing = _missing(folder)
        if missing:
            raise HomeError(f"${HOME_ENV_VAR}={explicit} has no {' or '.join(f'{m}/' for m in missing)} folder: "
                            "point it at the genexplorer checkout (the folder with checkpoints/ and assets/)")
        return folder
    for folder in (PACKAGE_HOME, Path(cwd or os.getcwd()).resolve()):
        if not _missing(folder):
            return folder
    raise HomeError("found no checkpoints/ and assets/ folders. The shipped models and datasets stay in the source "
                    "checkout (pip install . installs the code only): run genexplorer inside the checkout, or set "
                    f"{HOME_ENV_VAR}=/path/to/the/checkout")


def configure(home: Path) -> None:
    """Point this process and its children (the live previews' child process, training runs) at ``home``,
    before the page is built; one thread per request (see below)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    limit_malloc_arenas()
    os.environ.setdefault("NUMBA_CACHE_DIR", str(home / ".numba-cache"))
    if home != PACKAGE_HOME:   # the package's own defaults already point at its checkout
        os.environ.setdefault(CHECKPOINTS_ENV_VAR, str(home / "checkpoints"))
        os.environ.setdefault(ASSETS_ENV_VAR, str(home / "assets"))
        os.environ.setdefault(RUNS_ENV_VAR, str(home / "runs" / "app"))
        os.environ.setdefault("GENEXPLORER_CLASSES", str(home / "runs" / "classes"))   # the class mode's store
    import torch

    # One thread per request: interactive work is many tiny tensors, where extra threads
    # only add synchronisation; concurrent users spread over the cores instead.
    torch.set_num_threads(1)


MALLOC_ARENAS = 2
M_ARENA_MAX = -8      # glibc's mallopt parameter number


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """At most ``arenas`` glibc malloc arenas in this process and its children (the live previews' child).

    Why: glibc gives threads that allocate at once arenas of their own, up to 8 per core; the app runs ~85 threads
    (Starlette's pool, Gradio's, torch's), and freed memory stays spread over their half-empty arenas. Under a class
    of 60 the app's resident memory then crept up while its Python objects did not (558,139 -> 560,750 objects
    over 4.5 minutes, +47 MB resident); with two arenas it started 82 MB lower and grew +21 MB over the same
    minutes (BENCHMARKS.md, "Class mode: memory"). False where this is not glibc (the setting is then left alone)."""
    os.environ.setdefault("MALLOC_ARENA_MAX", str(arenas))      # read by the children's glibc when they start
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas))   # this process, from now on
    except (OSError, AttributeError):
        return False


def build_page():
    """The whole page, its queue set: a gradio Blocks ready for ``launch``. Call ``configure`` first."""
    from .ui import build_demo, gradio_fixes

    with gradio_fixes.one_web_app():   # launch() builds the web app it serves; nothing before it needs one
        demo = build_demo()
        demo.queue(default_concurrency_limit=4)
    return demo


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="genexplorer", description="genexplorer: see how generative models work")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="make a public link through Gradio's servers")
    parser.add_argument("--auth", default=os.environ.get(AUTH_ENV_VAR),
                        help=f"user:password required to open the page (or set {AUTH_ENV_VAR})")
    return parser.parse_args(argv)


def launch_settings(argv=None) -> dict:
    """The command line -> launch()'s keyword arguments (server_name, server_port, share, auth); a malformed
    --auth stops here, and opening the page to other machines without a password warns."""
    args = parse_args(argv)
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            sys.exit("--auth must look like user:password")
        auth = (user, password)
    if args.share or args.host not in LOCAL_HOSTS:
        reach = "public share link" if args.share else args.host
        print(f"warning: genexplorer will be reachable from other machines ({reach})."
              + ("" if auth else " Consider --auth user:password."), file=sys.stderr)
    return {"server_name": args.host, "server_port": args.port, "share": args.share, "auth": auth}


def main(argv=None) -> None:
    """The ``genexplorer`` command: the options first (--help answers at once), then the home, the page, the server."""
    settings = launch_settings(argv)
    try:
        configure(find_home())
    except HomeError as exc:
        sys.exit(f"genexplorer: {exc}")
    from .ui import launch

    launch(build_page(), **settings)


if __name__ == "__main__":
    main()
