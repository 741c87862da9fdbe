"""Continuous batching for the server: one decode thread, a fixed number of cache rows (slots),
requests joining the running batch as rows free up.

Each job gets the aligned code pieces the official server's detokenizer would decode (what
became decodable after each step, then the final piece) on a thread-safe queue; the HTTP side
turns them into audio with the vocoder's streamed decode, so the decode thread never waits on
the vocoder. Every row computes what its request would alone (``BatchDecoder``), so a request's
audio does not depend on what else is running.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field

import numpy as np
import torch

from zonos2.generation import BatchDecoder, GenerationRequest
from zonos2.model import Zonos2Model
from zonos2.vocoder import STREAM_DELAY_FRAMES

log = logging.getLogger(__name__)
END = None  # the last item a job's queue carries


class Overloaded(RuntimeError):
    """The waiting queue is full; the client should retry later."""


@dataclass(eq=False)
class Job:
    request: GenerationRequest
    pieces: "queue.Queue[tuple[np.ndarray, bool] | None | Exception]" = field(default_factory=queue.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    row: int | None = None
    sent: int = 0
    stop_reason: str | None = None

    def cancel(self) -> None:
        """The client went away: the decode thread frees the row at its next step."""
        self.cancelled.set()

    def iter_pieces(self):
        """(aligned codes, final) pieces until the end; an error raised in the decode thread
        is raised here."""
        while True:
            item = self.pieces.get()
            if item is END:
                return
            if isinstance(item, Exception):
                raise item
            yield item


class Engine:
    def __init__(self, model: Zonos2Model, slots: int = 8, max_queue: int = 32, max_len: int | None = None):
        self.model, self.slots, self.max_queue = model, slots, max_queue
        self.decoder = BatchDecoder(model, slots=slots, max_len=max_len or model.config.max_seqlen)
        self.waiting: "queue.Queue[Job]" = queue.Queue(maxsize=max_queue)
        self.running: dict[int, Job] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="zonos2-engine", daemon=True)
        self.steps = 0

    def start(self) -> "Engine":
        self._thread.start()
        return self

    def submit(self, request: GenerationRequest) -> Job:
        if self._stopping.is_set():
            raise Overloaded("the server is shutting down")
        BatchDecoder._check(self.model.config, request)  # bad input fails the request, not the thread
        job = Job(request)
        try:
            self.waiting.put_nowait(job)
        except queue.Full:
            raise Overloaded(f"{self.max_queue} requests are already waiting") from None
        self._wake.set()
        return job

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the running requests (waiting ones are cancelled), then end the thread."""
        self._stopping.set()
        while True:
            try:
                job = self.waiting.get_nowait()
            except queue.Empty:
                break
            job.stop_reason = "shutdown"
            job.pieces.put(RuntimeError("the server shut down before this request started"))
        self._wake.set()
        self._thread.join(timeout)

    @property
    def busy(self) -> int:
        return len(self.running)

    def _admit(self) -> None:
        while self.decoder.free and not self._stopping.is_set():
            try:
                job = self.waiting.get_nowait()
            except queue.Empty:
                return
            if job.cancelled.is_set():
                continue
            try:
                job.row = self.decoder.admit(job.request)
            except Exception as exc:  # noqa: BLE001 - one bad request must not stop the server
                job.pieces.put(exc)
                continue
            self.running[job.row] = job

    def _finish(self, row: int, job: Job) -> None:
        if not job.cancelled.is_set():
            result = self.decoder.result(row)
            job.stop_reason = result.stop_reason
            job.pieces.put((result.final_piece(job.sent, STREAM_DELAY_FRAMES), True))
        job.pieces.put(END)  # also wakes a consumer of a cancelled job
        self.decoder.release(row)
        del self.running[row]

    @torch.inference_mode()
    def _loop(self) -> None:
        while True:
            self._admit()
            for row, job in list(self.running.items()):
                if job.cancelled.is_set():
                    self._finish(row, job)
            if not self.running:
                if self._stopping.is_set():
                    return
                self._wake.wait(0.05)
                self._wake.clear()
                continue
            try:
                self.decoder.step()
            except Exception as exc:  # noqa: BLE001 - fail the running requests, keep serving
                log.exception("decode step failed")
                for row, job in list(self.running.items()):
                    job.pieces.put(exc)
                    job.cancel()
                    self._finish(row, job)
                continue
            self.steps += 1
            for row, job in list(self.running.items()):
                if self.decoder.stop[row] is not None:
                    self._finish(row, job)
                    continue
                piece, job.sent = self.decoder.new_piece(row, job.sent, STREAM_DELAY_FRAMES)
                if piece is not None:
                    job.pieces.put((piece, False))
