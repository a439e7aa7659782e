"""Micro-batching: one worker thread answers, in one go, every request that waited while it was busy.

A class of thirty drawing at once sends hundreds of small requests a second, each a few forward passes of
one picture. Run one thread per request and the 2 cores spend their time switching threads and fighting
over Python's lock, and each pass of one picture pays the whole per-call overhead of torch. Here the
requests of one route queue for one worker; when it is free it takes everything waiting (up to
``max_batch``) and the answer function runs each model once on the stacked pictures. One user alone waits
for nobody: a lone request is answered at once, as a batch of one. No Gradio here.
"""
from __future__ import annotations

import concurrent.futures
import logging
import pickle
import queue
import threading
import time
from typing import Any, Callable, Sequence

log = logging.getLogger(__name__)


def prepare_each(requests: Sequence[Any], prepare: Callable[[Any], Any]) -> tuple[list, list[tuple[int, Any]]]:
    """Each request of a batch through ``prepare`` on its own: -> (answers, with the exception for each request
    ``prepare`` refused and None for the others; [(index, prepared)] for the others), so one bad request is
    answered with its own error and its neighbours go on."""
    answers: list = [None] * len(requests)
    prepared = []
    for i, request in enumerate(requests):
        try:
            prepared.append((i, prepare(request)))
        except Exception as exc:  # noqa: BLE001 - answered to that request alone
            answers[i] = exc
    return answers, prepared


class MicroBatcher:
    """``answer_batch(items) -> results``: one result per item, in order; a result that is an Exception is
    raised to that item's caller alone, so one bad request does not fail its neighbours."""

    def __init__(self, name: str, answer_batch: Callable[[Sequence[Any]], Sequence[Any]], *, max_batch: int = 32):
        self.name = name
        self.answer_batch = answer_batch
        self.max_batch = max_batch
        self._waiting: queue.SimpleQueue = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, item) -> concurrent.futures.Future:
        """Queue one request; the future gets its result (or its exception) and, as ``work_ms``, the time
        the worker spent on the batch it was answered in (the app's own time, not the wait)."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._waiting.put((item, future))
        self._start()
        return future

    def __call__(self, item, timeout: float | None = 60.0):
        """Submit and wait: the result, or the item's exception."""
        return self.submit(item).result(timeout)

    def _start(self) -> None:
        if self._worker is not None:
            return
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name=f"batcher-{self.name}", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            batch = [self._waiting.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            self._answer(batch)

    def _answer(self, batch: list) -> None:
        started = time.perf_counter()
        try:
            results = list(self.answer_batch([item for item, _ in batch]))
            if len(results) != len(batch):
                raise RuntimeError(f"{self.name}: {len(results)} answers for {len(batch)} requests")
        except Exception as exc:  # noqa: BLE001 - the worker must outlive any batch; each caller gets the error
            log.exception("%s: batch of %d failed", self.name, len(batch))
            results = [exc] * len(batch)
        work_ms = 1000 * (time.perf_counter() - started)
        for (_, future), result in zip(batch, results):
            future.work_ms = work_ms
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)


class ChildProcess:
    """``answer_batch`` run in a child process, for a MicroBatcher: ``MicroBatcher(name, ChildProcess(...))``.

    Why: a micro-batch of drawings is mostly Python (preprocessing, PNG encoding, the calls between torch's
    kernels), and in the server's process each of those steps waits for the interpreter lock that the
    server's event loop holds for every request. With sixty students a batch of twelve drawings took
    112 ms while its thread computed for 41 and the machine stood 40 % idle (measured). In a child the
    batch has an interpreter of its own.

    ``target`` names the answer function as "module:function"; the child imports it (so it must be
    importable, and its arguments and results picklable); ``warm``, also "module:function", runs in the
    child before it says it is ready (loading the models, so the first student does not wait for that).
    While the child starts (a few seconds, in the background), after it dies, or when it cannot start,
    batches are answered here in the server, as before: a preview is never lost to the child. A dead child
    is started again, at most ``restarts`` times. Exceptions come back as they were raised (a result that
    is an Exception stays that request's).
    """

    def __init__(self, target: str, *, warm: str | None = None, restarts: int = 3):
        self.target, self.warm = target, warm
        self.restarts = restarts
        self._function: Callable | None = None
        self._connection = None
        self._process = None
        self._starting = False
        self._lock = threading.Lock()

    def function(self) -> Callable:
        if self._function is None:
            self._function = _named(self.target)
        return self._function

    @property
    def ready(self) -> bool:
        return self._connection is not None

    def start(self) -> None:
        """Start the child in the background; batches are answered in the server until it is ready."""
        with self._lock:
            if self._starting or self._connection is not None or self.restarts < 0:
                return
            self._starting = True
            self.restarts -= 1
        threading.Thread(target=self._spawn, name=f"start-{self.target}", daemon=True).start()

    def _spawn(self) -> None:
        import multiprocessing

        try:
            # spawn, not fork: the server has threads, and a forked copy of a locked lock never opens.
            context = multiprocessing.get_context("spawn")
            ours, theirs = context.Pipe()
            process = context.Process(target=_child_main, args=(self.target, self.warm, theirs),
                                      name="genexplorer-live", daemon=True)
            process.start()
            theirs.close()
            if not ours.poll(120) or ours.recv() != "ready":
                raise RuntimeError("the child did not get ready")
            with self._lock:
                self._connection, self._process = ours, process
        except Exception:  # noqa: BLE001 - the server answers in its own process instead
            log.exception("%s: no child process; answering in the server", self.target)
        finally:
            self._starting = False

    def __call__(self, items: Sequence[Any]) -> list:
        connection = self._connection
        if connection is None:
            return list(self.function()(items))
        try:
            connection.send(list(items))
            outcome, payload = connection.recv()
        except (EOFError, OSError):  # the child died (killed, out of memory): answer here, start another
            log.warning("%s: the child process stopped; answering in the server and starting another", self.target)
            with self._lock:
                self._connection = None
            self.start()
            return list(self.function()(items))
        if outcome == "error":
            raise payload
        return payload

    def stop(self) -> None:
        with self._lock:
            connection, process, self._connection = self._connection, self._process, None
        if connection is not None:
            connection.close()     # the child's recv() ends: it exits
        if process is not None:
            process.join(5)


def _named(target: str) -> Callable:
    """"package.module:function" -> the function."""
    import importlib

    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def _child_main(target: str, warm: str | None, connection) -> None:
    """The child: answer each batch the server sends until the pipe closes (the server stopped or died)."""
    import torch

    torch.set_num_threads(1)   # one batch at a time; the server's other work has the other core
    answer_batch = _named(target)
    if warm:
        _named(warm)()
    try:
        connection.send("ready")
        while True:
            items = connection.recv()
            try:
                message = ("ok", list(answer_batch(items)))
            except Exception as exc:  # noqa: BLE001 - the server's MicroBatcher gives it to every caller
                message = ("error", exc)
            try:
                connection.send(message)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:   # an answer that does not pickle
                connection.send(("error", RuntimeError(f"{target}: the answer could not be sent back: {exc}")))
    except (EOFError, OSError):   # the pipe closed: the server stopped, or died (even while this one started)
        return
