"""Answer functions for tests/test_batching.py's child processes: importable, and light (no torch, no Gradio)."""
import os

WARMED = []


def squares(items):
    """Each number squared; a negative one is that item's error."""
    return [ValueError(f"negative: {x}") if x < 0 else x * x for x in items]


def refuse(items):
    raise RuntimeError("the whole batch failed")


def pid(items):
    return [os.getpid() for _ in items]


def warm():
    WARMED.append(True)


def warmed(items):
    return [bool(WARMED) for _ in items]


def unpicklable(items):
    return [lambda: item for item in items]
