"""Class mode: a teacher's class, its students and their drawings on one board (issue 23).

    store.py       the SQLite store: classes, students, drawings, tokens, caps
    challenges.py  the Judge protocol (the models, injected), a drawing's Reading, challenges and their scores
    judge.py       the real Judge from the shipped checkpoints, loaded on first use
    room.py        the requests the HTTP routes (ui/class_routes.py) pass on, answered as JSON-ready dicts
    export.py      the zip of drawings, the CSV and the board as a PNG

No Gradio here: the page and the tests drive the same plain code.
"""
from .challenges import Challenge, ChallengeError, Judge, Reading, read_picture
from .room import ClassRoom, check_follow_state
from .store import (ClassError, ClassStore, Conflict, Ended, Forbidden, Limits, NotFound, TooFast, TooLarge,
                    Unavailable)

__all__ = ["Challenge", "ChallengeError", "ClassError", "ClassRoom", "ClassStore", "Conflict", "Ended", "Forbidden",
           "Judge", "Limits", "NotFound", "Reading", "TooFast", "TooLarge", "Unavailable", "check_follow_state",
           "read_picture"]
