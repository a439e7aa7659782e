"""The class mode's JSON API, beside the live routes: each route decodes its request and calls
``genexplorer.classmode.ClassRoom``, which does the work (README, "The class API").

Every refusal is a 4xx with {"error": message}: 400 malformed, 403 no or wrong token, 404 unknown code or drawing,
409 a cap or a conflict, 410 an ended class, 413 a body too large, 429 too many drawings a minute (Retry-After).
Behind the same login as the page when ``--auth`` is set.
"""
from __future__ import annotations

import functools
import json
import logging

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..classmode import ClassError, ClassRoom, ClassStore, TooFast, TooLarge
from ..classmode.judge import CheckpointJudges
from ..classmode.room import MAX_BODY_BYTES, MAX_DRAWING_BYTES
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


def _error(exc: ClassError) -> JSONResponse:
    headers = dict(NO_STORE)
    if isinstance(exc, TooFast):
        headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
    return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=headers)


def _route(room: ClassRoom, work, cap: int | None):
    async def route(request: Request):
        try:
            body = await _json_body(request, cap) if cap is not None else {}
            result = await run_in_threadpool(work, room, request, body)
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
        app.add_api_route(f"{PREFIX}/{path}", _route(room, work, cap), methods=[method], dependencies=guard,
                          include_in_schema=False)
