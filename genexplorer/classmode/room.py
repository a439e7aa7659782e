"""The class mode's requests, answered as JSON-ready dicts: what the HTTP routes (``ui/class_routes.py``) call.

Each method takes what a request carries (its JSON body as a dict, the token from its header) and either
answers or raises a ``store.ClassError`` whose message is for the person and whose ``status`` is the HTTP code.
Names are HTML-escaped in every answer. A drawing arrives as the Draw tab's canvas payload
(``canvas_payload``), is made into the dataset's 28x28 input here, then read by the class's ``Judge``.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import logging
import math
import re
from typing import Callable

import numpy as np

from ..canvas_payload import MAX_PAYLOAD_CHARS, CanvasError, decode_payload
from ..data import DATASETS, dataset_info
from ..images import png_bytes
from ..preprocess import BlankImageError, preprocess
from . import export
from .challenges import Challenge, ChallengeError, Judge, read_picture
from .store import (PICTURE_SHAPE, Board, ClassError, ClassInfo, ClassStore, Drawing, Student, Unavailable,
                    check_running)

# The largest request body each POST route takes (the HTTP routes answer more with 413): the follow-me state is at
# most 12 kB; a drawing is the canvas payload (a JSON string inside the body) and a token.
MAX_BODY_BYTES = 16_384
MAX_DRAWING_BYTES = MAX_PAYLOAD_CHARS + 4_096


def body_cap(route: str) -> int:
    """The body cap of the class route ``route`` (a POST's last path part)."""
    return MAX_DRAWING_BYTES if route == "drawing" else MAX_BODY_BYTES


FOLLOW_MAX_BYTES = 12_288   # the widest code the sliders decode (1,024 numbers, 3 decimals) and the rest
MAX_SLIDERS = 64
MAX_REST = 1_024            # the code past the page's sliders: the shipped overcomplete autoencoders' 1,024 - 16
LESSON_MAX_CHARS = 80
# The page's address as the teacher's browser sees it (http://192.168.1.20:7860/, a proxy's https://host/app/):
# the join link is this plus ?class=CODE.
PAGE_ADDRESS = re.compile(r"https?://[A-Za-z0-9.:\[\]-]{1,255}(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?/")
PAGE_ADDRESS_MAX_CHARS = 300
log = logging.getLogger(__name__)


def _matching(pattern: str, what: str):
    compiled = re.compile(pattern)

    def check(value):
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ClassError(what)
        return value
    return check


def _class_number(value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 100):
        raise ClassError("label must be a class number (or null)")
    return value


def _numbers(what: str, most: int):
    def check(value):
        if (not isinstance(value, list) or len(value) > most
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           and abs(v) <= 10 for v in value)):
            raise ClassError(f"{what} must be a list of at most {most} numbers between -10 and 10")
        return value
    return check


def _seed(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2 ** 31:
        raise ClassError("seed must be a whole number from 0 to 2147483647")
    return value


def _lesson(value):
    if not isinstance(value, str) or not 0 < len(value) <= LESSON_MAX_CHARS or not value.isprintable():
        raise ClassError(f"lesson must be a lesson's name (1-{LESSON_MAX_CHARS} printable characters)")
    return value


def _flag(value):
    if not isinstance(value, bool):
        raise ClassError("playing must be true or false")
    return value


# What the teacher's page may push to the students' pages: a tab, the dataset, a model, its class (a CVAE's or
# cGAN's), where its sliders are and the rest of its code past them (a 100-d GAN shows 16 sliders), the seed, a toy
# lab lesson and whether it plays. Values are checked for shape, not against the page's lists, so a new tab or
# lesson needs no change here.
FOLLOW_FIELDS: dict[str, Callable] = {
    "tab": _matching(r"[a-z][a-z0-9_-]{0,31}", "tab must be a tab id such as 'draw' or 'sliders'"),
    "dataset": _matching("|".join(DATASETS), f"dataset must be one of {', '.join(DATASETS)}"),
    "model": _matching(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", "model must be a checkpoint name such as 'mnist-vae'"),
    "label": _class_number,
    "sliders": _numbers("sliders", MAX_SLIDERS),
    "rest": _numbers("rest", MAX_REST),
    "seed": _seed,
    "lesson": _lesson,
    "playing": _flag,
}


def check_follow_state(state) -> dict:
    """The state the teacher pushes, checked: an object of FOLLOW_FIELDS' keys, at most FOLLOW_MAX_BYTES."""
    if not isinstance(state, dict):
        raise ClassError('state must be an object such as {"tab": "sliders", "model": "mnist-vae"}')
    unknown = sorted(set(state) - set(FOLLOW_FIELDS))
    if unknown:
        raise ClassError(f"unknown key {unknown[0][:40]!r} in the state: use {', '.join(FOLLOW_FIELDS)}")
    checked = {key: FOLLOW_FIELDS[key](value) for key, value in state.items()}
    if len(json.dumps(checked)) > FOLLOW_MAX_BYTES:
        raise ClassError(f"the state is larger than {FOLLOW_MAX_BYTES} bytes")
    return checked


def _drawing_id(body: dict, *, allow_none: bool = False) -> int | None:
    value = body.get("drawing_id")
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2 ** 63:   # SQLite's integers
        raise ClassError("drawing_id must be the number of a drawing on the board" + (" (or null)" * allow_none))
    return value


def _number(text):
    """A query's whole number (``?drawing_id=12``) -> int; anything else is passed on for the check to refuse."""
    return int(text) if isinstance(text, str) and text.isascii() and text.isdigit() and len(text) < 20 else text


def qr_data_url(text: str) -> str:
    """A QR code of ``text`` as an SVG data URL that scales to any size (segno: pure Python, offline)."""
    import segno   # only the teacher's invitation needs it

    return segno.make(text, error="m").svg_data_uri(border=2, omitsize=True)


def data_url(picture: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(picture)).decode("ascii")


@functools.lru_cache(maxsize=2048)
def _drawing_url(pixels: bytes) -> str:
    """A class drawing's PNG data URL, kept: the board shows the same pictures answer after answer, and encoding
    them was two thirds of a 60-student board's time (a class's 2,048 newest: ~3 MB)."""
    return data_url(np.frombuffer(pixels, dtype=np.uint8).reshape(PICTURE_SHAPE))


def drawing_json(drawing: Drawing) -> dict:
    """A drawing as the board and the students' bar show it (the picture 28x28: the page scales it up)."""
    reading, pixels = drawing.reading, np.ascontiguousarray(drawing.picture, dtype=np.uint8).tobytes()
    return {"id": drawing.id, "student_id": drawing.student_id, "time": drawing.created,
            "image": _drawing_url(pixels), "label": reading.label, "probability": reading.probability,
            "probabilities": list(reading.probabilities), "map": [reading.map_x, reading.map_y],
            "rebuild_error": reading.rebuild_error, "emptiness": reading.emptiness, "score": drawing.score}


class ClassRoom:
    """The class mode: a store, and for each dataset the Judge that reads its drawings
    (``judges(dataset) -> Judge``, called when a drawing arrives, so models load on first use)."""

    def __init__(self, store: ClassStore, judges: Callable[[str], Judge]):
        self.store = store
        self.judges = judges

    # -------------------------------------------------------------- teacher

    def start(self, body: dict) -> dict:
        """{"dataset"?: "mnist"} -> {"code", "teacher_token", "dataset", "join_path"}."""
        info, token = self.store.start(body.get("dataset", "mnist"))
        return {"code": info.code, "teacher_token": token, "dataset": info.dataset,
                "join_path": f"/?class={info.code}"}

    def board(self, code, teacher_token) -> dict:
        """The board: every student (at most Limits.board_size), their latest drawing, best score and rank
        under the current challenge, the newest drawings' map positions, the spotlight and the follow state."""
        info = self.store.teacher(code, teacher_token)
        board = self.store.board(info)
        names = {student.id: student.name for student in board.students}
        ranking = sorted(((score, drawing_id, student_id) for student_id, (drawing_id, score) in board.best.items()
                          if student_id in names), reverse=True)
        total, shown = board.total_students, len(board.students)
        return {
            **self._class_json(info),
            "students": [self._student_json(board, student) for student in board.students],
            "shown": shown, "total": total,
            "note": None if shown == total else f"the board shows the first {shown} of {total} students",
            "ranking": [{"rank": rank, "student_id": student_id, "name": html.escape(names[student_id]),
                         "drawing_id": drawing_id, "score": score}
                        for rank, (score, drawing_id, student_id) in enumerate(ranking, 1)],
            "stars": [{"drawing_id": star["id"], "student_id": star["student_id"], "x": star["map_x"],
                       "y": star["map_y"], "label": star["label"]} for star in board.stars],
            "spotlight": self._spotlight_json(board.spotlight, info),
            "follow": info.follow, "follow_version": info.follow_version,
        }

    def board_version(self, code, teacher_token) -> str:
        """A short tag that changes whenever the board would (the teacher's page waits for a new one)."""
        info = self.store.teacher(code, teacher_token)
        return version_tag((self.store.board_changes(info), info.ended, info.follow_version, info.challenge_id,
                            info.spotlight))

    def _class_json(self, info: ClassInfo) -> dict:
        class_names = _class_names(info)
        return {"code": info.code, "dataset": info.dataset, "class_names": list(class_names),
                "created": info.created, "ended": info.ended,
                "challenge": None if info.challenge is None else
                {**info.challenge.as_dict(class_names), "id": info.challenge_id}}

    @staticmethod
    def _student_json(board: Board, student: Student) -> dict:
        latest, best = board.latest.get(student.id), board.best.get(student.id)
        return {"id": student.id, "name": html.escape(student.name), "paused": student.paused,
                "joined": student.joined, "drawings": board.counts.get(student.id, 0),
                "latest": None if latest is None else drawing_json(latest),
                "best": None if best is None else {"drawing_id": best[0], "score": best[1]}}

    def _spotlight_json(self, drawing: Drawing | None, info: ClassInfo) -> dict | None:
        if drawing is None:
            return None
        return {**drawing_json(drawing), "name": html.escape(self.store.names(info.id).get(drawing.student_id, ""))}

    def invite(self, code, teacher_token, page_address) -> dict:
        """The join link for students and its QR code (an SVG data URL, made here: no web service), from the
        page's address as the teacher's browser sees it (``PAGE_ADDRESS``) -> {"code", "link", "qr"}."""
        info = self.store.teacher(code, teacher_token)
        if (not isinstance(page_address, str) or len(page_address) > PAGE_ADDRESS_MAX_CHARS
                or not PAGE_ADDRESS.fullmatch(page_address)):
            raise ClassError("address must be the page's address as the browser shows it, "
                             "such as http://192.168.1.20:7860/")
        link = f"{page_address}?class={info.code}"
        return {"code": info.code, "link": link, "qr": qr_data_url(link)}

    def rebuild(self, code, teacher_token, drawing_id) -> dict:
        """Each model's reconstruction of one of the class's drawings (the board asks on demand)
        -> {"drawing_id", "images": [{"model", "image": PNG data URL (28x28)}]}."""
        info = self.store.teacher(code, teacher_token)
        drawing_id = _drawing_id({"drawing_id": _number(drawing_id)})
        drawing = self.store.class_drawing(info, drawing_id)
        try:
            rebuilt = self.judges(info.dataset).rebuilds(drawing.picture)
        except (ValueError, OSError, RuntimeError) as exc:   # as _read: a missing or broken checkpoint
            log.exception("the class mode could not rebuild a drawing")
            raise Unavailable(f"the models could not rebuild this drawing ({exc})") from None
        return {"drawing_id": drawing_id, "images": [{"model": title, "image": data_url(picture)}
                                                     for title, picture in rebuilt]}

    def follow(self, body: dict, teacher_token) -> dict:
        """{"code", "state": {...}} -> {"follow_version"}: every student's page is to show this state."""
        state = check_follow_state(body.get("state"))
        return {"follow_version": self.store.set_follow(body.get("code"), teacher_token, state)}

    def challenge(self, body: dict, teacher_token) -> dict:
        """{"code", "challenge": {"kind", ...} or null} -> {"challenge"}: drawings from now on are scored under it."""
        info = self.store.teacher(body.get("code"), teacher_token, running=True)
        spec = body.get("challenge")
        try:
            challenge = None if spec is None else Challenge.from_request(spec, _class_names(info))
        except ChallengeError as exc:
            raise ClassError(str(exc)) from None
        info = self.store.set_challenge(info.code, teacher_token, challenge)
        return {"challenge": self._class_json(info)["challenge"]}

    def spotlight(self, body: dict, teacher_token) -> dict:
        """{"code", "drawing_id" or null} -> {"spotlight"}: the drawing every student's bar shows big."""
        info = self.store.set_spotlight(body.get("code"), teacher_token, _drawing_id(body, allow_none=True))
        return {"spotlight": self._spotlight_json(
            None if info.spotlight is None else self.store.drawing(info.spotlight), info)}

    def remove(self, body: dict, teacher_token) -> dict:
        """{"code", "drawing_id"} -> {"removed"}: moderation; the picture is deleted from the store."""
        drawing_id = _drawing_id(body)
        self.store.remove_drawing(body.get("code"), teacher_token, drawing_id)
        return {"removed": drawing_id}

    def end(self, body: dict, teacher_token) -> dict:
        """{"code"} -> {"ended"}: the time it ended."""
        return {"code": (info := self.store.end(body.get("code"), teacher_token)).code, "ended": info.ended}

    def export(self, code, teacher_token, what: str = "zip") -> tuple[bytes, str, str]:
        """-> (bytes, media type, file name) of the class's zip (drawings, CSV, board), CSV or board PNG."""
        if what not in ("zip", "csv", "board"):
            raise ClassError("what must be zip, csv or board")
        info = self.store.teacher(code, teacher_token)
        class_names = _class_names(info)
        stem = f"class-{info.code}"
        if what == "board":
            return export.board_png(self.store.board(info), class_names), "image/png", f"{stem}-board.png"
        drawings, names = self.store.drawings(info.id), self.store.names(info.id)
        if what == "csv":
            return export.drawings_csv(drawings, names, class_names), "text/csv; charset=utf-8", f"{stem}.csv"
        return (export.class_zip(self.store.board(info), drawings, names, class_names), "application/zip",
                f"{stem}.zip")

    # -------------------------------------------------------------- students

    def join(self, body: dict) -> dict:
        """{"code", "name"?} -> {"student_token", "name", "code", "dataset"}; no name: "student N"."""
        student, token = self.store.join(body.get("code"), body.get("name"))
        info = self.store.class_info(student.class_id)
        return {"student_token": token, "name": html.escape(student.name), "code": info.code,
                "dataset": info.dataset}

    def drawing(self, body: dict) -> dict:
        """{"student_token", "payload": the canvas payload} -> the stored drawing (see ``draw``)."""
        payload = body.get("payload")
        if not isinstance(payload, str):
            raise ClassError("payload must be the canvas data, a JSON string as the Draw tab sends it")
        try:
            picture = decode_payload(payload)
        except CanvasError as exc:
            raise ClassError(str(exc)) from None
        return self.draw(body.get("student_token"), picture)

    def draw(self, student_token, picture: np.ndarray | None) -> dict:
        """A student's drawing (uint8 (H, W), white ink on black; None: an empty canvas) -> the stored drawing
        with its reading and its score under the current challenge."""
        student, info = self.store.check_can_draw(student_token)
        if picture is None:
            raise ClassError("the canvas is empty: draw something first")
        try:
            picture28 = np.round(preprocess(picture, style=dataset_info(info.dataset).preprocess_style).numpy()[0]
                                 * 255).astype(np.uint8)
        except BlankImageError:
            raise ClassError("the drawing is (nearly) blank: draw something first") from None
        reading = self._read(info.dataset, picture28)
        drawing = self.store.add_drawing(student_token, picture28, reading)
        return {**drawing_json(drawing), "challenge": self._class_json(info)["challenge"]}

    def _read(self, dataset: str, picture28: np.ndarray):
        try:
            return read_picture(self.judges(dataset), picture28)
        except (ValueError, OSError, RuntimeError) as exc:   # a missing or broken checkpoint, a model failing
            log.exception("the class mode could not read a drawing")
            raise Unavailable(f"the models could not read this drawing ({exc})") from None

    def pause(self, body: dict) -> dict:
        """{"student_token", "paused": true/false} -> {"paused"}."""
        paused = body.get("paused")
        if not isinstance(paused, bool):
            raise ClassError("paused must be true or false")
        return {"paused": self.store.set_paused(body.get("student_token"), paused).paused}

    def state(self, student_token) -> dict:
        """What a student's page shows: the follow-me state and its version (poll; act when it changes),
        the challenge, the spotlight, and the student's own drawings count, latest reading, score and rank."""
        student, info = self.store.student(student_token)
        check_running(info)
        standing = self.store.student_standing(student, info)
        spotlight = None if info.spotlight is None else self.store.drawing(info.spotlight)
        latest = standing["latest"]
        return {**self._class_json(info), "follow": info.follow, "follow_version": info.follow_version,
                "spotlight": self._spotlight_json(spotlight, info),
                "you": {"name": html.escape(student.name), "paused": student.paused, "drawings": standing["drawings"],
                        "latest": None if latest is None else drawing_json(latest), "score": standing["score"],
                        "rank": standing["rank"], "ranked": standing["ranked"]}}


def version_tag(what) -> str:
    """A short tag of a JSON-ready value: two answers with the same tag are the same answer."""
    return hashlib.blake2b(json.dumps(what, sort_keys=True, default=str).encode(), digest_size=9).hexdigest()


def _class_names(info: ClassInfo) -> tuple[str, ...]:
    return tuple(dataset_info(info.dataset).class_names)
