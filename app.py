"""Start genexplorer: python app.py [--host 127.0.0.1] [--port 7860] [--share] [--auth user:pass]"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".numba-cache"))

import torch  # noqa: E402

# One thread per request: interactive work is many tiny tensors, where extra threads
# only add synchronisation; concurrent users spread over the cores instead.
torch.set_num_threads(1)

from genexplorer.ui import LAUNCH_OPTIONS, build_demo, launch  # noqa: E402,F401

# The live previews' child process (genexplorer/batching.py, started with multiprocessing's "spawn") runs
# this file again under the name __mp_main__; it needs none of the page, which takes seconds to build.
if __name__ != "__mp_main__":
    demo = build_demo()
    demo.queue(default_concurrency_limit=4)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="genexplorer: see how generative models work")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="make a public link through Gradio's servers")
    parser.add_argument("--auth", default=os.environ.get("GENEXPLORER_AUTH"),
                        help="user:password required to open the page (or set GENEXPLORER_AUTH)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            sys.exit("--auth must look like user:password")
        auth = (user, password)
    if args.share or args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: genexplorer will be reachable from other machines ({'public share link' if args.share else args.host})."
              + ("" if auth else " Consider --auth user:password."), file=sys.stderr)
    launch(demo, server_name=args.host, server_port=args.port, share=args.share, auth=auth)


if __name__ == "__main__":
    main()
