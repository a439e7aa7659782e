"""The class store: classes, students and their drawings in one SQLite file (``runs/classes/classes.sqlite3``).

SQLite in WAL mode, so several app processes on one machine share the file (readers never wait for the
writer; writers wait up to ``BUSY_TIMEOUT_S`` for each other), and a killed process loses no committed drawing.
Every check that a cap holds (students per class, classes at once, drawings per minute) runs in the same
``BEGIN IMMEDIATE`` transaction as the write it guards, so two processes cannot both slip past it.

Tokens are ``secrets.token_urlsafe``; only their SHA-256 is stored, and a token is checked by comparing hashes
with ``hmac.compare_digest``. Names are stored as typed and escaped where they are shown (``room.py``).
No models here: a drawing arrives with its reading (``challenges.Reading``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import DATASETS, PACKAGE_ROOT
from .challenges import Challenge, Reading

DB_FILE = "classes.sqlite3"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 10.0
# No 0/O, 1/I/L, 5/S, 2/Z, 8/B: a code read off a projector is typed right the first time.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
NAME_MAX_CHARS = 24
PICTURE_SHAPE = (28, 28)


# ------------------------------------------------------------------ errors

class ClassError(Exception):
    """A request the class mode refuses; the message is meant for the person, ``status`` is the HTTP code."""
    status = 400


class Forbidden(ClassError):
    status = 403


class NotFound(ClassError):
    status = 404


class Conflict(ClassError):
    status = 409


class Ended(ClassError):
    status = 410


class TooLarge(ClassError):
    status = 413


class TooFast(ClassError):
    status = 429

    def __init__(self, message: str, retry_after_s: float):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Unavailable(ClassError):
    status = 503


# ------------------------------------------------------------------ rows

@dataclass(frozen=True)
class Limits:
    students_per_class: int = 200
    classes_at_once: int = 20
    drawings_per_minute: int = 30       # per student
    drawings_per_class: int = 20_000    # ~30 MB of pictures and readings: a long lesson of 200 students
    board_size: int = 200               # students shown on the board
    stars: int = 3_000                  # drawings placed on the board's map, the newest
    class_hours: float = 12.0           # a class nobody ended ends by itself after this long


@dataclass(frozen=True)
class ClassInfo:
    id: int
    code: str
    dataset: str
    created: float
    ended: float | None                 # also set once the class has run for Limits.class_hours
    follow: dict
    follow_version: int
    challenge: Challenge | None
    challenge_id: int                   # which challenge the drawings' scores were given under
    spotlight: int | None               # a drawing id


@dataclass(frozen=True)
class Student:
    id: int
    class_id: int
    name: str
    paused: bool
    joined: float


@dataclass(frozen=True)
class Drawing:
    id: int
    student_id: int
    created: float
    picture: np.ndarray                 # uint8 (28, 28)
    reading: Reading
    challenge_id: int | None            # the challenge it was scored under (None: none was set)
    challenge: Challenge | None
    score: float | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _same(token: object, stored_hash: str) -> bool:
    return isinstance(token, str) and hmac.compare_digest(token_hash(token), stored_hash)


def default_folder() -> Path:
    """$GENEXPLORER_CLASSES, else runs/classes/ in the project."""
    return Path(os.environ.get("GENEXPLORER_CLASSES") or PACKAGE_ROOT / "runs" / "classes")


def check_name(name) -> str | None:
    """A student's name as typed -> the name to keep, or None for "student N". 1-24 printable characters."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise ClassError("name must be text")
    name = name.strip()
    if not name:
        return None
    if len(name) > NAME_MAX_CHARS:
        raise ClassError(f"a name has at most {NAME_MAX_CHARS} characters")
    if not name.isprintable():
        raise ClassError("a name may hold only printable characters (no line breaks, tabs or control characters)")
    return name


def check_code(code) -> str:
    """A class code as typed (any case, spaces around) -> the code to look up."""
    if not isinstance(code, str) or not code.strip():
        raise ClassError("send the class code (6 letters and digits, shown on the teacher's screen)")
    code = code.strip().upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        raise NotFound(f"there is no class {code[:12]!r}: check the code on the teacher's screen")
    return code


# ------------------------------------------------------------------ the store

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS classes (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        dataset TEXT NOT NULL,
        teacher_hash TEXT NOT NULL,
        created REAL NOT NULL,
        ended REAL,
        follow TEXT NOT NULL DEFAULT '{}',
        follow_version INTEGER NOT NULL DEFAULT 0,
        challenge TEXT,
        challenge_id INTEGER NOT NULL DEFAULT 0,
        spotlight INTEGER,
        joined_count INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS students (
        id INTEGER PRIMARY KEY,
        class_id INTEGER NOT NULL REFERENCES classes(id),
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        paused INTEGER NOT NULL DEFAULT 0,
        joined REAL NOT NULL,
        UNIQUE (class_id, name_key))""",
    """CREATE TABLE IF NOT EXISTS drawings (
        id INTEGER PRIMARY KEY,
        class_id INTEGER NOT NULL REFERENCES classes(id),
        student_id INTEGER NOT NULL REFERENCES students(id),
        created REAL NOT NULL,
        picture BLOB NOT NULL,
        reading TEXT NOT NULL,
        map_x REAL NOT NULL,
        map_y REAL NOT NULL,
        challenge_id INTEGER,
        challenge TEXT,
        score REAL,
        removed INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX IF NOT EXISTS drawings_by_student ON drawings (student_id, created)",
    "CREATE INDEX IF NOT EXISTS drawings_by_class ON drawings (class_id, id)",
    "CREATE INDEX IF NOT EXISTS open_classes ON classes (ended, created)",
)


class ClassStore:
    """Classes in one SQLite file under ``folder`` (default ``default_folder()``), opened on first use.
    Thread-safe: each thread gets its own connection. ``clock``: seconds since the epoch (tests move it)."""

    def __init__(self, folder: str | os.PathLike | None = None, *, limits: Limits = Limits(), clock=time.time):
        self.folder = Path(folder) if folder is not None else default_folder()
        self.path = self.folder / DB_FILE
        self.limits = limits
        self.clock = clock
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    # -------------------------------------------------------------- connections

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is on disk when it returns (a laptop's battery may run out mid-lesson).
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                with self._transaction(db):
                    for statement in SCHEMA:
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    @staticmethod
    @contextmanager
    def _transaction(db: sqlite3.Connection):
        """A write transaction that holds the write lock from its first statement: the caps it checks hold."""
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @contextmanager
    def _write(self):
        with self._transaction(self._db()) as db:
            yield db

    @contextmanager
    def _read(self):
        """A consistent snapshot for several reads."""
        db = self._db()
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def journal_mode(self) -> str:
        return self._db().execute("PRAGMA journal_mode").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for db in connections:
            db.close()
        self._local = threading.local()

    # -------------------------------------------------------------- classes

    def start(self, dataset: str = "mnist") -> tuple[ClassInfo, str]:
        """A new class -> (the class, the teacher's token: shown once, never stored)."""
        if dataset not in DATASETS:
            raise ClassError(f"unknown dataset {dataset!r}: use one of {', '.join(DATASETS)}")
        token = secrets.token_urlsafe(24)
        now = self.clock()
        with self._write() as db:
            running = db.execute("SELECT COUNT(*) FROM classes WHERE ended IS NULL AND created > ?",
                                 (now - self._max_age_s,)).fetchone()[0]
            if running >= self.limits.classes_at_once:
                raise Conflict(f"{running} classes are running on this app, its most at once: "
                               "end one (or wait for one to end) before starting another")
            taken = {row[0] for row in db.execute("SELECT code FROM classes")}
            code = self._new_code(taken)
            db.execute("INSERT INTO classes (code, dataset, teacher_hash, created) VALUES (?, ?, ?, ?)",
                       (code, dataset, token_hash(token), now))
        return self._class_by_code(code), token

    @staticmethod
    def _new_code(taken: set[str]) -> str:
        while True:   # 25^6 = 244 million codes: a clash is rare
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in taken:
                return code

    @property
    def _max_age_s(self) -> float:
        return self.limits.class_hours * 3600.0

    def _class_row_info(self, row: sqlite3.Row) -> ClassInfo:
        ended = row["ended"]
        if ended is None and self.clock() > row["created"] + self._max_age_s:
            ended = row["created"] + self._max_age_s
        return ClassInfo(row["id"], row["code"], row["dataset"], row["created"], ended, json.loads(row["follow"]),
                         row["follow_version"], _challenge(row["challenge"]), row["challenge_id"], row["spotlight"])

    def _class_by_code(self, code: str, db: sqlite3.Connection | None = None) -> ClassInfo:
        code = check_code(code)
        row = (db or self._db()).execute("SELECT * FROM classes WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise NotFound(f"there is no class {code}: check the code on the teacher's screen")
        return self._class_row_info(row)

    def class_info(self, class_id: int) -> ClassInfo:
        return self._class_row_info(self._db().execute("SELECT * FROM classes WHERE id = ?", (class_id,)).fetchone())

    def teacher(self, code: str, token, *, running: bool = False, db: sqlite3.Connection | None = None) -> ClassInfo:
        """The class whose teacher holds ``token``; running=True: refused once the class has ended."""
        info = self._class_by_code(code, db)
        row = (db or self._db()).execute("SELECT teacher_hash FROM classes WHERE id = ?", (info.id,)).fetchone()
        if not _same(token, row["teacher_hash"]):
            raise Forbidden("only the teacher who started this class can do that (send its X-Teacher-Token)")
        if running:
            check_running(info)
        return info

    def end(self, code: str, token) -> ClassInfo:
        """End a class: nobody joins, draws or follows any more; the teacher can still see the board and export.
        Ending an ended class changes nothing."""
        with self._write() as db:
            info = self.teacher(code, token, db=db)
            if info.ended is None:
                db.execute("UPDATE classes SET ended = ? WHERE id = ?", (self.clock(), info.id))
        return self.class_info(info.id)

    def set_follow(self, code: str, token, state: dict) -> int:
        """Replace the state every student follows (validated by the caller) -> its new version."""
        with self._write() as db:
            info = self.teacher(code, token, running=True, db=db)
            db.execute("UPDATE classes SET follow = ?, follow_version = follow_version + 1 WHERE id = ?",
                       (json.dumps(state), info.id))
        return info.follow_version + 1

    def set_challenge(self, code: str, token, challenge: Challenge | None) -> ClassInfo:
        """Set (or with None clear) the challenge: drawings from now on are scored under it."""
        with self._write() as db:
            info = self.teacher(code, token, running=True, db=db)
            db.execute("UPDATE classes SET challenge = ?, challenge_id = challenge_id + 1 WHERE id = ?",
                       (_challenge_json(challenge), info.id))
        return self.class_info(info.id)

    def set_spotlight(self, code: str, token, drawing_id: int | None) -> ClassInfo:
        with self._write() as db:
            info = self.teacher(code, token, running=True, db=db)
            if drawing_id is not None:
                self._drawing_of_class(db, info, drawing_id)
            db.execute("UPDATE classes SET spotlight = ? WHERE id = ?", (drawing_id, info.id))
        return self.class_info(info.id)

    def remove_drawing(self, code: str, token, drawing_id: int) -> None:
        """Moderation: the picture is deleted (its row stays, so it still counts against its student's rate)."""
        with self._write() as db:
            info = self.teacher(code, token, db=db)
            self._drawing_of_class(db, info, drawing_id)
            db.execute("UPDATE drawings SET removed = 1, picture = x'' WHERE id = ?", (drawing_id,))
            db.execute("UPDATE classes SET spotlight = NULL WHERE id = ? AND spotlight = ?", (info.id, drawing_id))

    @staticmethod
    def _drawing_of_class(db, info: ClassInfo, drawing_id) -> None:
        row = db.execute("SELECT class_id, removed FROM drawings WHERE id = ?", (drawing_id,)).fetchone()
        if row is None or row["class_id"] != info.id or row["removed"]:
            raise NotFound(f"class {info.code} has no drawing {drawing_id}")

    # -------------------------------------------------------------- students

    def join(self, code: str, name) -> tuple[Student, str]:
        """A student joins -> (the student, their token: shown once, never stored)."""
        name = check_name(name)
        token = secrets.token_urlsafe(24)
        with self._write() as db:
            info = self._class_by_code(code, db)
            check_running(info)
            count = db.execute("SELECT COUNT(*) FROM students WHERE class_id = ?", (info.id,)).fetchone()[0]
            if count >= self.limits.students_per_class:
                raise Conflict(f"class {info.code} is full: it has {count} students, the most one class can hold")
            number = db.execute("SELECT joined_count FROM classes WHERE id = ?", (info.id,)).fetchone()[0] + 1
            taken = {row[0] for row in db.execute("SELECT name_key FROM students WHERE class_id = ?", (info.id,))}
            if name is None:
                while f"student {number}" in taken:
                    number += 1
                name = f"student {number}"
            elif name.casefold() in taken:
                raise Conflict(f"someone in this class is already called {name!r}: pick another name")
            db.execute("UPDATE classes SET joined_count = ? WHERE id = ?", (number, info.id))
            cursor = db.execute("INSERT INTO students (class_id, name, name_key, token_hash, joined) "
                                "VALUES (?, ?, ?, ?, ?)", (info.id, name, name.casefold(), token_hash(token),
                                                           self.clock()))
        return self._student(cursor.lastrowid), token

    def _student(self, student_id: int, db: sqlite3.Connection | None = None) -> Student:
        row = (db or self._db()).execute("SELECT * FROM students WHERE id = ?", (student_id,)).fetchone()
        return Student(row["id"], row["class_id"], row["name"], bool(row["paused"]), row["joined"])

    def student(self, token, db: sqlite3.Connection | None = None) -> tuple[Student, ClassInfo]:
        """The student holding ``token`` and their class; a token of no student is refused."""
        if not isinstance(token, str) or not token:
            raise Forbidden("send your student token (you get it when you join a class)")
        digest = token_hash(token)
        row = (db or self._db()).execute("SELECT id, token_hash FROM students WHERE token_hash = ?",
                                         (digest,)).fetchone()
        if row is None or not hmac.compare_digest(row["token_hash"], digest):
            raise Forbidden("this student token belongs to no class: join the class again")
        student = self._student(row["id"], db)
        return student, self._class_row_info((db or self._db()).execute(
            "SELECT * FROM classes WHERE id = ?", (student.class_id,)).fetchone())

    def set_paused(self, token, paused: bool) -> Student:
        """A student pauses (or resumes) sending their drawings to the class."""
        with self._write() as db:
            student, info = self.student(token, db)
            check_running(info)
            db.execute("UPDATE students SET paused = ? WHERE id = ?", (int(bool(paused)), student.id))
        return self._student(student.id)

    # -------------------------------------------------------------- drawings

    def check_can_draw(self, token) -> tuple[Student, ClassInfo]:
        """The refusals a drawing would get, before the models spend time on it (add_drawing checks again)."""
        db = self._db()
        student, info = self.student(token, db)
        self._check_can_draw(db, student, info)
        return student, info

    def _check_can_draw(self, db, student: Student, info: ClassInfo) -> None:
        check_running(info)
        if student.paused:
            raise Conflict("you paused sharing: resume it to send drawings to the class")
        now, per_minute = self.clock(), self.limits.drawings_per_minute
        recent = [row[0] for row in db.execute(
            "SELECT created FROM drawings WHERE student_id = ? AND created > ? ORDER BY created",
            (student.id, now - 60.0))]
        if len(recent) >= per_minute:
            wait = max(1.0, recent[-per_minute] + 60.0 - now)
            raise TooFast(f"at most {per_minute} drawings a minute go to the class: "
                          f"try again in {wait:.0f} s", retry_after_s=wait)
        count = db.execute("SELECT COUNT(*) FROM drawings WHERE class_id = ?", (info.id,)).fetchone()[0]
        if count >= self.limits.drawings_per_class:
            raise Conflict(f"class {info.code} has {count} drawings, the most one class keeps: "
                           "the teacher can export them and start a new class")

    def add_drawing(self, token, picture: np.ndarray, reading: Reading) -> Drawing:
        """Store a drawing (uint8 (28, 28)) with its reading, scored under the class's current challenge."""
        picture = np.ascontiguousarray(picture, dtype=np.uint8)
        if picture.shape != PICTURE_SHAPE:
            raise ClassError(f"a class drawing is 28x28, got {picture.shape}")
        with self._write() as db:
            student, info = self.student(token, db)
            self._check_can_draw(db, student, info)
            score = None if info.challenge is None else float(info.challenge.score(reading))
            challenge_id = None if info.challenge is None else info.challenge_id
            cursor = db.execute(
                "INSERT INTO drawings (class_id, student_id, created, picture, reading, map_x, map_y, challenge_id,"
                " challenge, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (info.id, student.id, self.clock(), picture.tobytes(), json.dumps(reading.__dict__), reading.map_x,
                 reading.map_y, challenge_id, _challenge_json(info.challenge), score))
        return self.drawing(cursor.lastrowid)

    @staticmethod
    def _drawing_row(row: sqlite3.Row) -> Drawing:
        reading = json.loads(row["reading"])
        reading = Reading(**{**reading, "probabilities": tuple(reading["probabilities"])})
        picture = np.frombuffer(row["picture"], dtype=np.uint8)
        picture = picture.reshape(PICTURE_SHAPE) if picture.size else np.zeros(PICTURE_SHAPE, np.uint8)
        return Drawing(row["id"], row["student_id"], row["created"], picture, reading, row["challenge_id"],
                       _challenge(row["challenge"]), row["score"])

    def drawing(self, drawing_id: int) -> Drawing:
        return self._drawing_row(self._db().execute("SELECT * FROM drawings WHERE id = ?", (drawing_id,)).fetchone())

    def class_drawing(self, info: ClassInfo, drawing_id: int) -> Drawing:
        """One drawing of ``info``'s class that was not removed; NotFound otherwise (another class's too)."""
        with self._read() as db:
            self._drawing_of_class(db, info, drawing_id)
            return self._drawing_row(db.execute("SELECT * FROM drawings WHERE id = ?", (drawing_id,)).fetchone())

    # -------------------------------------------------------------- what the board and the export read

    def board(self, info: ClassInfo) -> "Board":
        """One snapshot of a class: its students, each one's latest drawing and best score under the current
        challenge, and the newest drawings' map positions."""
        limits = self.limits
        with self._read() as db:
            total = db.execute("SELECT COUNT(*) FROM students WHERE class_id = ?", (info.id,)).fetchone()[0]
            students = [Student(r["id"], r["class_id"], r["name"], bool(r["paused"]), r["joined"]) for r in db.execute(
                "SELECT * FROM students WHERE class_id = ? ORDER BY id LIMIT ?", (info.id, limits.board_size))]
            latest = {r["student_id"]: self._drawing_row(r) for r in db.execute(
                "SELECT d.* FROM drawings d JOIN (SELECT MAX(id) AS id FROM drawings WHERE class_id = ? AND removed = 0"
                " GROUP BY student_id) newest ON d.id = newest.id", (info.id,))}
            best = {r["student_id"]: (r["id"], r["best"]) for r in db.execute(
                "SELECT student_id, id, MAX(score) AS best FROM drawings WHERE class_id = ? AND removed = 0 "
                "AND challenge_id = ? GROUP BY student_id", (info.id, info.challenge_id))}
            counts = dict(db.execute("SELECT student_id, COUNT(*) FROM drawings WHERE class_id = ? AND removed = 0 "
                                     "GROUP BY student_id", (info.id,)).fetchall())
            stars = [dict(r) for r in db.execute(
                "SELECT id, student_id, map_x, map_y, json_extract(reading, '$.label') AS label FROM drawings "
                "WHERE class_id = ? AND removed = 0 ORDER BY id DESC LIMIT ?", (info.id, limits.stars))]
            spotlight = None
            if info.spotlight is not None:
                row = db.execute("SELECT * FROM drawings WHERE id = ?", (info.spotlight,)).fetchone()
                spotlight = self._drawing_row(row) if row is not None else None
        return Board(info, students, total, latest, best, counts, stars, spotlight)

    def board_changes(self, info: ClassInfo) -> tuple:
        """A few numbers that change whenever the board would (a student joins or pauses, a drawing comes or is
        removed; the class's own row is in ``info``): the teacher's board waits on them, not on the whole board."""
        return tuple(self._db().execute(
            "SELECT (SELECT COUNT(*) FROM students WHERE class_id = ?1), "
            "(SELECT TOTAL(id) FROM students WHERE class_id = ?1 AND paused = 1), "
            "(SELECT MAX(id) FROM drawings WHERE class_id = ?1), "
            "(SELECT TOTAL(id) FROM drawings WHERE class_id = ?1 AND removed = 1)", (info.id,)).fetchone())

    def names(self, class_id: int) -> dict[int, str]:
        return dict(self._db().execute("SELECT id, name FROM students WHERE class_id = ?", (class_id,)).fetchall())

    def drawings(self, class_id: int) -> list[Drawing]:
        """Every drawing of a class that was not removed, oldest first (the export)."""
        return [self._drawing_row(row) for row in self._db().execute(
            "SELECT * FROM drawings WHERE class_id = ? AND removed = 0 ORDER BY id", (class_id,))]

    def student_standing(self, student: Student, info: ClassInfo) -> dict:
        """A student's own numbers: drawings sent, latest reading, best score under the current challenge and rank."""
        with self._read() as db:
            sent = db.execute("SELECT COUNT(*) FROM drawings WHERE student_id = ? AND removed = 0",
                              (student.id,)).fetchone()[0]
            latest = db.execute("SELECT * FROM drawings WHERE student_id = ? AND removed = 0 ORDER BY id DESC LIMIT 1",
                                (student.id,)).fetchone()
            best = db.execute("SELECT MAX(score) FROM drawings WHERE student_id = ? AND removed = 0 AND "
                              "challenge_id = ?", (student.id, info.challenge_id)).fetchone()[0]
            rank = ranked = None
            if info.challenge is not None:
                scores = [row[0] for row in db.execute(
                    "SELECT MAX(score) FROM drawings WHERE class_id = ? AND removed = 0 AND challenge_id = ? "
                    "GROUP BY student_id", (info.id, info.challenge_id))]
                ranked = len(scores)
                rank = None if best is None else 1 + sum(score > best for score in scores)
        return {"drawings": sent, "latest": None if latest is None else self._drawing_row(latest),
                "score": best, "rank": rank, "ranked": ranked}


@dataclass(frozen=True)
class Board:
    info: ClassInfo
    students: list[Student]              # at most Limits.board_size, in joining order
    total_students: int
    latest: dict[int, Drawing]           # student id -> their newest drawing
    best: dict[int, tuple[int, float]]   # student id -> (drawing id, best score) under the current challenge
    counts: dict[int, int]               # student id -> drawings on the board
    stars: list[dict]                    # newest first: id, student_id, map_x, map_y, label
    spotlight: Drawing | None


def _challenge_json(challenge: Challenge | None) -> str | None:
    return None if challenge is None else json.dumps(challenge.fields())


def _challenge(stored: str | None) -> Challenge | None:
    return Challenge(**json.loads(stored)) if stored else None


def check_running(info: ClassInfo) -> None:
    if info.ended is not None:
        raise Ended(f"class {info.code} has ended")
