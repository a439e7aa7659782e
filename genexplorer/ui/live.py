"""The live channel: pictures while a person drags a latent slider or draws.

A Gradio event costs four steps one after another (the page prepares and sends a queue
join, the server streams the result back, the page processes it, then fetches the
picture from the file cache): 100-200 ms per update on a 2-core machine, whatever the
handler costs. While a slider moves or a stroke goes on, the page instead posts to these
two routes and paints the PNG they answer: one request, a few ms. They call the same
handlers as the Gradio events, so there is no second implementation; the Gradio events
still run when the drag or the stroke ends, so the components, the per-user state and
the API stay the truth, and the last picture painted is always the final value's.

The routes are added to Gradio's own server after launch, behind its login check when
``--auth`` is set; they take JSON, never paths, and cap the body size. Whatever a request gets
wrong (not JSON, not an object, a field missing or unknown, a value of the wrong type, NaN, out of
range, a checkpoint that is not there or cannot do what the route asks) is answered with a 4xx and
{"error": message} for the page; only the server's own faults are a 500.
"""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Callable

import gradio as gr
from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..batching import ChildProcess, MicroBatcher
from ..images import png_bytes
from ..models import UnsupportedOperation
from . import common, diffusion, draw, sketch, sliders

PREFIX = "/genexplorer/live"
MAX_BODY_BYTES = 300_000   # a 112x112 drawing is ~17 kB of JSON; a latent is a few hundred bytes
MAX_NESTING = 4            # the page's bodies are an object of lists of numbers: 2 levels
MAX_MESSAGE = 300          # characters of an error message: a message may quote what was sent
TOO_DEEP = f"request is nested too deeply (at most {MAX_NESTING} levels)"
DRAW_IMAGE_IDS = ["ge-seen", *(f"ge-recon-{role}" for role, _ in draw.ROLES)]
log = logging.getLogger(__name__)


class LiveRequestError(ValueError):
    """A request the routes refuse before any handler sees it; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.status = status


def parse_body(body: bytes) -> dict:
    """A request's bytes -> its JSON object, or LiveRequestError saying what is wrong with it."""
    if len(body) > MAX_BODY_BYTES:
        raise LiveRequestError(f"request too large (at most {MAX_BODY_BYTES:,} bytes)", status=413)
    try:
        request = json.loads(body)
    except RecursionError:   # the parser's own recursion: thousands of [[[[
        raise LiveRequestError(TOO_DEEP) from None
    except ValueError:
        raise LiveRequestError("request is not JSON") from None
    if not isinstance(request, dict):
        raise LiveRequestError(f"request must be a JSON object, got {_json_type(request)}")
    if _nesting(request) > MAX_NESTING:
        raise LiveRequestError(TOO_DEEP)
    return request


def _json_type(value) -> str:
    """What JSON calls a parsed value's type (for messages): an object, an array, a number, ..."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _nesting(value) -> int:
    """How many objects and lists deep ``value`` goes (stops counting past MAX_NESTING)."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_NESTING:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


async def read_body(http_request: Request) -> bytes:
    """The body as it streams in, no more than MAX_BODY_BYTES + 1 bytes of it: a huge post is never held whole
    (parse_body then refuses it as too large)."""
    body = bytearray()
    async for chunk in http_request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            break
    return bytes(body)


def refusal(exc: BaseException) -> tuple[int, str] | None:
    """What a request got wrong -> (HTTP status, message for the page): 422 when the model cannot do what the
    route asks, 413 for a body too large, else 400. None for the server's own faults (a 500)."""
    if isinstance(exc, LiveRequestError):
        return exc.status, str(exc)
    if isinstance(exc, RecursionError):   # thousands of [[[[ inside a string a handler parses (a canvas payload)
        return 400, TOO_DEEP
    if isinstance(exc, gr.Error):   # the handlers' messages; what they translated stays as the context
        message, cause = exc.message, exc.__context__
    elif isinstance(exc, common.USER_ERRORS):
        message, cause = str(exc) or exc.__class__.__name__, exc
    else:
        return None
    if len(message) > MAX_MESSAGE:   # a message quoting a huge value: keep its start and what it says at the end
        message = message[:MAX_MESSAGE // 2] + " ... " + message[-MAX_MESSAGE // 2:]
    return (422 if isinstance(cause, UnsupportedOperation) else 400), message


_data_url = common.data_url


def _each_alone_if_failed(answer_batch: Callable[[list], list], requests: list) -> list:
    """``answer_batch(requests)``; if the batch fails as a whole (a request passed the per-request checks and then
    broke it, e.g. a PixelCNN asked to decode a slider's code), each request is answered on its own, so only the
    request that broke it gets the error (as its answer) and its neighbours get their pictures."""
    try:
        return list(answer_batch(requests))
    except Exception as exc:  # noqa: BLE001 - answered to the request that caused it
        if len(requests) == 1:
            return [exc]
        return [_each_alone_if_failed(answer_batch, [request])[0] for request in requests]


def slide_answers(requests: list[dict]) -> list:
    """A micro-batch of {"model", "label", "latent": [...], "values": [first sliders]} -> PNG bytes each."""
    return [answer if isinstance(answer, BaseException) else png_bytes(answer)
            for answer in _each_alone_if_failed(sliders.slide_pictures, requests)]


def draw_answers(requests: list[dict]) -> list:
    """A micro-batch of {"payload", "dataset", "cvae_class"} -> {"images": {elem_id: data URL or None}} each."""
    return [answer if isinstance(answer, BaseException) else
            {"images": {elem_id: _data_url(picture) for elem_id, picture in zip(DRAW_IMAGE_IDS, answer)}}
            for answer in _each_alone_if_failed(draw.live_pictures, requests)]


def _alone(answer_batch, request: dict):
    (answer,) = answer_batch([request])
    if isinstance(answer, BaseException):
        raise answer
    return answer


def slide_png(request: dict) -> bytes:
    """One slide request answered on its own (the routes batch them: SLIDE_BATCHER)."""
    return _alone(slide_answers, request)


def draw_pictures(request: dict) -> dict:
    """One draw request answered on its own (the routes batch them: DRAW_BATCHER)."""
    return _alone(draw_answers, request)


# While a class draws and drags at once, one worker per route answers all waiting requests together. The
# drawings' batches, mostly Python, run in a child process with an interpreter lock of their own (see
# ChildProcess; GENEXPLORER_LIVE_PROCESS=0 keeps them in the server); a slide is a decoder pass, cheap here.
SLIDE_BATCHER = MicroBatcher("live slide", slide_answers)
DRAW_PROCESS = ChildProcess(f"{__name__}:draw_answers", warm=f"{draw.__name__}:warm_live_models")
DRAW_BATCHER = MicroBatcher("live draw", DRAW_PROCESS)


def sketch_pictures(request: dict) -> dict:
    """{"payload", "dataset"} -> {"images": {elem_id: data URL}}: the sketch and its translations, as you draw."""
    outputs = sketch.on_sketch(request.get("payload"), request.get("dataset"), read=False)
    return {"images": {elem_id: _data_url(picture)
                       for elem_id, picture in zip(sketch.IMAGE_IDS, outputs[:-1]) if picture is not None}}


def pixels_frame(request: dict) -> dict:
    """{"job": id} -> the drawing advanced by one frame: {"image": data URL, "position", "drawn",
    "to_draw", "compute_s", "step_ms", "finished"}."""
    frame = common.pixel_jobs.advance(request.get("job"))
    return {"image": common.data_url(frame.picture),
            **frame.summary()}


def noise_pictures(request: dict) -> dict:
    """{"dataset", "picture", "seed", "models", "t"} -> {"images": {elem_id: data URL}, "html": the numbers}: the
    Diffusion tab's picture on both noising paths while its t slider moves."""
    pictures, numbers = diffusion.forward_live(request)
    return {"images": {elem_id: _data_url(picture) for elem_id, picture in pictures.items()}, "html": numbers}


def walk_frame(request: dict) -> dict:
    """{"job": id} -> the Diffusion tab's walks advanced by one frame: {"images": {elem_id: data URL}, "status":
    {elem_id: line}, "t", "finished", "walks"}."""
    answer = diffusion.walk_frame(request)
    return {**answer, "images": {elem_id: _data_url(picture) for elem_id, picture in answer["images"].items()}}


def lab_frame(request: dict) -> dict:
    """{"toy": id, "action": play / d_step / g_step / look, "speed": G steps per frame, "steps": the diffusion's and
    the flow's sampling steps} -> the toy lab's frame (JSON numbers)."""
    given = {field: request[field] for field in ("action", "speed", "steps") if field in request}
    return common.lab_toys.frame(request.get("toy"), **given)   # what the page leaves out: the board's defaults


async def _in_thread(work, request: dict):
    """-> (result, the work's own time in ms): one request on one of the server's worker threads."""
    started = time.perf_counter()
    result = await run_in_threadpool(work, request)
    return result, 1000 * (time.perf_counter() - started)


async def _in_batch(batcher: MicroBatcher, request: dict):
    """-> (result, the time its batch took in ms): the request joins the next micro-batch; no thread waits."""
    future = batcher.submit(request)
    result = await asyncio.wrap_future(future)
    return result, future.work_ms


@dataclass(frozen=True)
class Route:
    """One live route: the fields its body has (as the page sends them), what answers it and how. The
    handlers check the values; ``texts`` are fields they take for strings without asking (a canvas payload)."""
    required: tuple[str, ...]
    optional: tuple[str, ...]
    work: Callable[[dict], object] | MicroBatcher   # run on a worker thread, or answered in a micro-batch
    respond: Callable[[object], Response]
    texts: tuple[str, ...] = ()

    def check_fields(self, name: str, request: dict) -> dict:
        """Refuse a body with a field missing, one the route does not know (a typo must not pass unseen),
        or a text field that is not a string."""
        fields = ", ".join([*self.required, *(f"{field} (optional)" for field in self.optional)])
        missing = [field for field in self.required if field not in request]
        unknown = sorted(set(request) - {*self.required, *self.optional})
        if missing or unknown:
            problem = f"lacks {', '.join(missing)}" if missing else f"has unknown field {', '.join(unknown)}"
            raise LiveRequestError(f"a live {name} request {problem} (its fields: {fields})")
        for field in self.texts:
            if not isinstance(request.get(field), (str, type(None))):
                raise LiveRequestError(f"{field} is malformed: it must be a string or null, "
                                       f"got {_json_type(request[field])}")
        return request


def _png_response(png: bytes) -> Response:
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


ROUTES = {
    "slide": Route(("model", "latent", "values"), ("label",), SLIDE_BATCHER, _png_response),
    "draw": Route(("payload", "dataset"), ("cvae_class",), DRAW_BATCHER, JSONResponse, texts=("payload",)),
    "sketch": Route(("payload", "dataset"), (), sketch_pictures, JSONResponse, texts=("payload",)),
    "pixels": Route(("job",), (), pixels_frame, JSONResponse),
    "lab": Route(("toy",), ("action", "speed", "steps"), lab_frame, JSONResponse),
    "noise": Route(("dataset", "picture", "seed", "models", "t"), (), noise_pictures, JSONResponse),
    "walk": Route(("job",), (), walk_frame, JSONResponse),
}


async def _answer(http_request: Request, name: str):
    """One request to route ``name``: its answer, or a 4xx {"error": message} for what the request got wrong."""
    route = ROUTES[name]
    try:
        request = route.check_fields(name, parse_body(await read_body(http_request)))
        if isinstance(route.work, MicroBatcher):
            result, handler_ms = await _in_batch(route.work, request)
        else:
            result, handler_ms = await _in_thread(route.work, request)
    except Exception as exc:  # noqa: BLE001 - a preview must never take the server down; the Gradio event reports
        refused = refusal(exc)
        if refused is None:
            log.exception("live %s request failed", name)
            return JSONResponse({"error": "internal error (the server's log has the details)"}, status_code=500)
        status, message = refused
        return JSONResponse({"error": message}, status_code=status)
    response = route.respond(result)
    # The work's own time, waiting for a thread excluded: the classroom benchmark tells queueing from work.
    response.headers["Server-Timing"] = f"handler;dur={handler_ms:.2f}"
    return response


def _endpoint(name: str):
    async def endpoint(http_request: Request):
        return await _answer(http_request, name)
    endpoint.__name__ = f"live_{name}"
    return endpoint


def _login_guard(app):
    """A dependency that lets a request through when Gradio would: no password set, or the
    browser holds the session cookie Gradio gave at login (gradio 6.31's get_current_user;
    gradio is pinned, and tests/test_live.py checks a locked page refuses strangers)."""
    async def check(request: Request) -> None:
        if app.auth is None and app.auth_dependency is None:
            return
        if app.auth_dependency is not None:
            user = app.auth_dependency(request)
            user = await user if inspect.isawaitable(user) else user
        else:
            token = (request.cookies.get(f"access-token-{app.cookie_id}")
                     or request.cookies.get(f"access-token-unsecure-{app.cookie_id}"))
            user = app.tokens.get(token)
        if user is None:
            raise HTTPException(status_code=401, detail="Not authenticated")
    return check


def add_routes(app) -> None:
    """Add the live routes to a launched Gradio app, behind the same login as its page."""
    if any(getattr(route, "path", "") == f"{PREFIX}/slide" for route in app.routes):
        return  # launched again in the same process (tests): the routes are there
    if os.environ.get("GENEXPLORER_LIVE_PROCESS", "1").strip() != "0":
        DRAW_PROCESS.start()
    guard = [Depends(_login_guard(app))]
    for name in ROUTES:
        app.add_api_route(f"{PREFIX}/{name}", _endpoint(name), methods=["POST"], dependencies=guard,
                          include_in_schema=False)


# Runs once when the page loads. window.geLive.request(kind, body, paint): one request of a
# kind in flight at a time; a newer body waiting replaces an older one (the page always
# ends on the latest value), and an answer older than one already painted is dropped.
LIVE_JS = """
() => {
  const lanes = {};
  const url = (kind) => new URL('genexplorer/live/' + kind, window.location.href.split('?')[0].replace(/[^/]*$/, ''));
  async function run(kind) {
    const lane = lanes[kind];
    const body = lane.next; lane.next = null; lane.busy = true;
    const ticket = ++lane.sent;
    const after = lane.after; lane.after = null;
    try {
      const r = await fetch(url(kind), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (r.ok && ticket > lane.painted) { lane.painted = ticket; await lane.paint(r); }
    } catch (_) { /* the Gradio event at the end of the gesture reports problems */ }
    if (after) after();
    lane.busy = false;
    if (lane.next !== null) run(kind);
  }
  const setSrc = (img, src) => {
    if (!img) return;
    const old = img.src;
    img.src = src;
    img.style.imageRendering = 'pixelated';   // live answers are 28x28: scaled up crisp, as the upscaled finals
    if (old && old.startsWith('blob:')) URL.revokeObjectURL(old);
  };
  window.geLive = {
    // after(): called once this body's answer is painted (or failed), e.g. to start the Gradio event then
    request(kind, body, paint, after = null) {
      const lane = lanes[kind] || (lanes[kind] = { busy: false, next: null, sent: 0, painted: 0, after: null });
      if (lane.after && lane.next !== null) lane.after();  // a replaced body still gets its follow-up
      lane.next = JSON.stringify(body); lane.paint = paint; lane.after = after;
      if (!lane.busy) run(kind);
    },
    // paint every {elem_id: data URL} of an answer into that element's <img>
    async paintImages(r) {
      const data = await r.json();
      for (const [id, src] of Object.entries(data.images)) {
        if (src) setSrc(document.querySelector('#' + id + ' img'), src);
      }
    },
    drawSettings: { dataset: 'mnist', cvae_class: -1 },
    draw(payload, after = null) {
      this.request('draw', { payload, ...this.drawSettings }, (r) => this.paintImages(r), after);
    },
    sketchSettings: { dataset: 'mnist' },
    sketch(payload, after = null) {
      this.request('sketch', { payload, ...this.sketchSettings }, (r) => this.paintImages(r), after);
    },
    setSrc,
    // Watch a job drawing on the server: ask route `kind` for its frames (at most 20 a second, none while the
    // tab is hidden) until it ends, hand each to paint(data), then write the job id into #doneBox so the
    // Gradio event shows the final result; fail(message) when the server refuses or does not answer. A newer
    // job on the same target stops this one.
    watching: {},
    watch(kind, job, target, paint, fail, doneBox) {
      if (!job) return;
      this.watching[target] = job;
      const loop = async () => {
        if (this.watching[target] !== job) return;
        if (document.hidden) { setTimeout(loop, 300); return; }
        const started = performance.now();
        let data;
        try {
          const r = await fetch(url(kind), { method: 'POST', headers: { 'content-type': 'application/json' },
                                             body: JSON.stringify({ job }) });
          data = await r.json();
          if (!r.ok) { fail(data.error || 'stopped'); return; }
        } catch (_) { fail('the server did not answer'); return; }
        if (this.watching[target] !== job) return;
        paint(data);
        if (data.finished) {
          const box = document.querySelector('#' + doneBox + ' textarea, #' + doneBox + ' input');
          if (box) {
            const proto = box.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
            Object.getOwnPropertyDescriptor(proto, 'value').set.call(box, job);
            box.dispatchEvent(new Event('input', { bubbles: true }));
          }
          return;
        }
        setTimeout(loop, Math.max(0, 50 - (performance.now() - started)));
      };
      loop();
    },
    // A pixel-by-pixel drawing: each frame into #target's <img> and #target-status.
    pixels(job, target, doneBox) {
      const status = document.querySelector('#' + target + '-status');
      const say = (text) => { if (status) status.textContent = text; };
      this.watch('pixels', job, target, (data) => {
        setSrc(document.querySelector('#' + target + ' img'), data.image);
        if (status) {
          status.dataset.position = data.position;
          say(`pixel ${data.position} of 784 · ${data.drawn} of ${data.to_draw} drawn · ` +
              `${data.compute_s.toFixed(2)} s of computing · ${data.step_ms.toFixed(1)} ms per pixel step`);
        }
      }, say, doneBox);
    },
    slide() {
      const box = document.querySelector('#ge-slider-live textarea, #ge-slider-live input');
      let state;
      try { state = JSON.parse(box.value); } catch (_) { return; }
      const values = [];
      for (let i = 0; i < Math.min(16, state.latent.length); i++) {
        const input = document.querySelector('#ge-z' + i + ' input[type=range]');
        if (!input) return;
        values.push(Number(input.value));
      }
      this.request('slide', { ...state, values }, async (r) => {
        setSrc(document.querySelector('#ge-slider-image img'), URL.createObjectURL(await r.blob()));
      });
    },
  };
  // A slider's range or number box moved: redraw once its value has settled (after Svelte's update).
  document.addEventListener('input', (e) => {
    if (e.target.closest && e.target.closest('[id^="ge-z"]') && e.target.tagName === 'INPUT') {
      setTimeout(() => window.geLive.slide(), 0);
    }
  }, true);
}
"""
