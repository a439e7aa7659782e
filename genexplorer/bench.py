"""``python -m genexplorer.bench``: the benchmark's command, kept where README and BENCHMARKS.md name it.
The benchmark is genexplorer/devtools/bench.py, which the app never imports."""
import sys

if __name__ == "__main__":
    from genexplorer.devtools.bench import main

    sys.exit(main())
