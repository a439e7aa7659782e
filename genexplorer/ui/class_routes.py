"""The class mode's JSON API, beside the live routes: each route decodes its request and calls
``genexplorer.classmode.ClassRoom``, which does the work (README, "The class API").

Every refusal is a 4xx with {"error": message}: 400 malformed, 403 no or wrong token, 404 unknown code or drawing,
409 a cap or a conflict, 410 an ended class, 413 a body too large, 429 too many drawings a minute (Retry-After).
Behind the same login as the page when ``--auth`` is set.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import time

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..classmode import ClassError, ClassRoom, ClassStore, TooFast, TooLarge
from ..classmode.judge import CheckpointJudges
from ..classmode.room import MAX_BODY_BYTES, MAX_DRAWING_BYTES, version_tag
from . import common
from .draw import ROLES as DRAW_ROLES
from .live import _login_guard

PREFIX = "/genexplorer/class"
NO_STORE = {"Cache-Control": "no-store"}       # answers carry tokens and students' drawings
log = logging.getLogger(__name__)


async def _json_body(request: Request, cap: int) -> dict:
    """The request's JSON object, read no further than ``cap`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise TooLarge(f"the request is larger than {cap} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise TooLarge(f"the request is larger than {cap} bytes")
    if not body:
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        raise ClassError("the request is not JSON") from None
    if not isinstance(parsed, dict):
        raise ClassError("the request must be a JSON object")
    return parsed


def _teacher(request: Request):
    return request.headers.get("x-teacher-token")


def _student(request: Request):
    """From the X-Student-Token header, or ?student_token= where a browser's EventSource cannot set headers."""
    return request.headers.get("x-student-token") or request.query_params.get("student_token")


def _export(room: ClassRoom, request: Request) -> Response:
    data, media_type, filename = room.export(request.query_params.get("code"), _teacher(request),
                                             request.query_params.get("what", "zip"))
    return Response(data, media_type=media_type,
                    headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'})


# path -> (method, the body cap or None for no body, what to do: (room, request, body) -> JSON-ready dict or Response)
ROUTES = {
    "start": ("POST", MAX_BODY_BYTES, lambda room, request, body: room.start(body)),
    "join": ("POST", MAX_BODY_BYTES, lambda room, request, body: room.join(body)),
    "drawing": ("POST", MAX_DRAWING_BYTES, lambda room, request, body: room.drawing(body)),
    "pause": ("POST", MAX_BODY_BYTES, lambda room, request, body: room.pause(body)),
    "state": ("GET", None, lambda room, request, body: room.state(_student(request))),
    "board": ("GET", None, lambda room, request, body: room.board(request.query_params.get("code"), _teacher(request))),
    "follow": ("POST", MAX_BODY_BYTES, lambda room, request, body: room.follow(body, _teacher(request))),
    "challenge": ("POST", MAX_BODY_BYTES, lambda room, request, body: room.challenge(body, _teacher(request))),
    "spotlight": ("POST", MAX_BODY_BYTES, lambda room, request, body: room.spotlight(body, _teacher(request))),
    "remove": ("POST", MAX_BODY_BYTES, lambda room, request, body: room.remove(body, _teacher(request))),
    "end": ("POST", MAX_BODY_BYTES, lambda room, request, body: room.end(body, _teacher(request))),
    "export": ("GET", None, lambda room, request, body: _export(room, request)),
    "invite": ("GET", None, lambda room, request, body: room.invite(
        request.query_params.get("code"), _teacher(request), request.query_params.get("address"))),
    "rebuild": ("GET", None, lambda room, request, body: room.rebuild(
        request.query_params.get("code"), _teacher(request), request.query_params.get("drawing_id"))),
}


# ---------------------------------------------------------------- waiting for a change (long polls)

# GET state and GET board with ?since=<the version of the last answer>&wait=<s> answer once the answer differs, or
# after ``wait`` seconds with the same one: a follow-me push or a drawing reaches the waiting pages as soon as this
# process has written it, and 60 students' pages cost a request each per change instead of ~1.7 a second.
MAX_WAIT_S = 25.0
# How often a waiting request looks again without being woken: what another app process on the same store wrote
# (README's proxy set-up) and the students' ranks, which every classmate's drawing moves, show within this.
RECHECK_S = {"board": 1.0, "state": 2.0}
# Which waiting requests a write wakes: every write changes the board; what a student's page shows (the follow-me
# state, the challenge, the spotlight) changes with the teacher's writes, their ranks with anyone's (rechecked).
WAKES = {"drawing": ("board",), "join": ("board",), "pause": ("board", "state")}
WAKES_DEFAULT = ("board", "state")


class Bell:
    """Wakes the requests of this process that wait for a class to change (on its event loop, or its loops)."""

    def __init__(self):
        self._waiting: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def ring(self, *topics: str) -> None:
        for topic in topics:
            for loop, event in self._waiting.pop(topic, set()):
                with contextlib.suppress(RuntimeError):      # its loop closed (an app launched again in tests)
                    loop.call_soon_threadsafe(event.set)

    async def wait(self, topic: str, timeout: float) -> None:
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        self._waiting.setdefault(topic, set()).add(waiter)
        try:
            await asyncio.wait_for(waiter[1].wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiting.get(topic, set()).discard(waiter)


def _wait_s(request: Request) -> float:
    text = request.query_params.get("wait", "0")
    try:
        wait = float(text)
    except ValueError:
        wait = math.nan
    if not 0.0 <= wait <= MAX_WAIT_S:
        raise ClassError(f"wait must be a number of seconds from 0 to {MAX_WAIT_S:.0f}")
    return wait


def _board_version(room: ClassRoom, request: Request) -> str:
    return room.board_version(request.query_params.get("code"), _teacher(request))


# path -> a cheaper check of its version than its whole answer, or None (the answer's own tag)
WAITING_ROUTES = {"state": None, "board": _board_version}


def _version_and_answer(room: ClassRoom, request: Request, work, version_of) -> tuple[str, dict | None]:
    if version_of is not None:
        return version_of(room, request), None
    answer = work(room, request, {})
    return version_tag(answer), answer


@functools.cache
def bell_of(room: ClassRoom) -> Bell:
    """One bell per room: every app in this process over the same room (tests launch several) wakes the others."""
    return Bell()


def _waiting_route(room: ClassRoom, topic: str, work):
    version_of, bell = WAITING_ROUTES[topic], bell_of(room)

    async def route(request: Request):
        try:
            since, wait = request.query_params.get("since"), _wait_s(request)
            deadline = time.monotonic() + wait
            while True:
                version, answer = await run_in_threadpool(_version_and_answer, room, request, work, version_of)
                left = deadline - time.monotonic()
                if version != since or left <= 0 or await request.is_disconnected():
                    break
                await bell.wait(topic, min(left, RECHECK_S[topic]))
            if answer is None:
                answer = await run_in_threadpool(work, room, request, {})
        except ClassError as exc:
            return _error(exc)
        except Exception:  # noqa: BLE001 - a bug answers 500 with a message, and is logged
            log.exception("class request failed")
            return JSONResponse({"error": "internal error"}, status_code=500, headers=NO_STORE)
        return JSONResponse({**answer, "version": version}, headers=NO_STORE)
    return route


def _error(exc: ClassError) -> JSONResponse:
    headers = dict(NO_STORE)
    if isinstance(exc, TooFast):
        headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
    return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=headers)


def _route(room: ClassRoom, work, cap: int | None, wakes: tuple[str, ...] = ()):
    bell = bell_of(room)

    async def route(request: Request):
        try:
            body = await _json_body(request, cap) if cap is not None else {}
            result = await run_in_threadpool(work, room, request, body)
            bell.ring(*wakes)
        except ClassError as exc:
            return _error(exc)
        except Exception:  # noqa: BLE001 - a bug answers 500 with a message, and is logged
            log.exception("class request failed")
            return JSONResponse({"error": "internal error"}, status_code=500, headers=NO_STORE)
        return result if isinstance(result, Response) else JSONResponse(result, headers=NO_STORE)
    return route


@functools.cache
def default_room() -> ClassRoom:
    """The app's class mode, one per process (the routes and the Class tab's map share it): the store under
    runs/classes/ ($GENEXPLORER_CLASSES, read on first use), the page's models; the board's reconstructions
    are the Draw tab's autoencoders."""
    return ClassRoom(ClassStore(), CheckpointJudges(common.cache, common.maps, rebuild_roles=DRAW_ROLES))


def add_class_routes(app, room: ClassRoom | None = None) -> None:
    """Add the class routes to a launched Gradio app (or any FastAPI app with Gradio's ``auth`` and
    ``auth_dependency`` attributes), behind the same login as its page."""
    if any(getattr(route, "path", "") == f"{PREFIX}/start" for route in app.routes):
        return  # launched again in the same process (tests): the routes are there
    room = room or default_room()
    guard = [Depends(_login_guard(app))]
    for path, (method, cap, work) in ROUTES.items():
        if path in WAITING_ROUTES:
            route = _waiting_route(room, path, work)
        else:
            route = _route(room, work, cap, WAKES.get(path, WAKES_DEFAULT) if method == "POST" else ())
        app.add_api_route(f"{PREFIX}/{path}", route, methods=[method], dependencies=guard, include_in_schema=False)
