"""Start genexplorer from the checkout: python app.py [--host 127.0.0.1] [--port 7860] [--share] [--auth user:pass]

The same page and options as the installed ``genexplorer`` command (genexplorer/app.py), on this checkout's
checkpoints/ and assets/. Importing this file builds the page as ``demo`` (the tests launch it).
"""
from __future__ import annotations

from genexplorer.app import PACKAGE_HOME, build_page, configure, launch_settings, parse_args  # noqa: F401

configure(PACKAGE_HOME)

from genexplorer.ui import LAUNCH_OPTIONS, launch  # noqa: E402,F401

# The live previews' child process (genexplorer/batching.py, started with multiprocessing's "spawn") runs
# this file again under the name __mp_main__; it needs none of the page, which takes seconds to build.
if __name__ != "__mp_main__":
    demo = build_page()


def main(argv=None) -> None:
    launch(demo, **launch_settings(argv))


if __name__ == "__main__":
    main()
