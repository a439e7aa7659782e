"""Micro-batching: one worker thread answers, in one go, every request that waited while it was busy.

A class of thirty drawing at once sends hundreds of small requests a second, each a few forward passes of
one picture. Run one thread per request and the 2 cores spend their time switching threads and fighting
over Python's lock, and each pass of one picture pays the whole per-call overhead of torch. Here the
requests of one kind queue for one worker; when it is free it takes everything waiting (up to
``max_batch``) and the answer function runs each model once on the stacked pictures. One user alone waits
for nobody: a lone request is answered at once, as a batch of one. No Gradio here.
"""
from __future__ import annotations

import concurrent.futures
import logging
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
