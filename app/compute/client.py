"""The web side of the pool: start (or find) the host's supervisor and send it jobs.

A pool is either *owned* (this process starts the supervisor on first use, and it dies with us:
the CLI, tests, a single-process server) or *shared* (``socket`` names the supervisor that
``transformer-quiz serve`` started for all its web workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket as socketlib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import BaseModel

from app.compute.limits import PoolLimits
from app.compute.protocol import JobReply, ProtocolError, encode, read_frame, recv_frame

# Passed to the supervisor: what Python, torch and a GPU need, nothing secret (no TQ_SECRET_KEY,
# no DATABASE_URL): a learner's code runs in a descendant of that process.
_ENV_KEEP = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "LD_LIBRARY_PATH",
    "CUDA_VISIBLE_DEVICES",
    "CUDA_HOME",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "TQ_COMPUTE_DEBUG",
)
START_TIMEOUT_S = 60.0
REPO_ROOT = Path(__file__).resolve().parents[2]


class ComputeUnavailable(RuntimeError):
    pass


class ComputePool:
    def __init__(
        self,
        limits: PoolLimits | None = None,
        *,
        socket: Path | None = None,
        extra_modules: tuple[str, ...] = (),
    ):
        self.limits = limits or PoolLimits()
        self.owned = socket is None
        self.socket = socket
        self.extra_modules = extra_modules
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        # Set by close(): a start() still waiting for the supervisor gives up at once (it holds
        # the lock, and a server shutting down must not wait out the start timeout for it).
        self._closing = threading.Event()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._ready = False

    # ---- lifecycle -----------------------------------------------------------------------
    def launch(self) -> Path:
        """Start our supervisor if we own the pool and it is not running; do not wait for it."""
        with self._lock:
            if not self.owned or (self._proc is not None and self._proc.poll() is None):
                assert self.socket is not None
                return self.socket
            self._tmp = self._tmp or tempfile.TemporaryDirectory(prefix="tq-compute-")
            self.socket = Path(self._tmp.name) / "pool.sock"
            cmd = [
                sys.executable,
                "-m",
                "app.compute.server",
                "--socket",
                str(self.socket),
                "--limits",
                self.limits.model_dump_json(),
            ]
            for m in self.extra_modules:
                cmd += ["--extra-module", m]
            env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
            self._proc = subprocess.Popen(
                cmd, env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
            )
            self._ready = False
            return self.socket

    def start(self) -> Path:
        """Make sure the supervisor is up and answering; its socket path."""
        path = self.launch()
        with self._lock:
            if self._ready:
                return path
            if self.owned:
                assert self._proc is not None
                line = _readline_within(self._proc, START_TIMEOUT_S)
                if line.strip() != b"ready":
                    self._proc.kill()
                    self._proc = None
                    raise ComputeUnavailable(f"the compute pool did not start: {line!r}")
            else:
                _wait_for_socket(path, START_TIMEOUT_S, self._closing)
            self._ready = True
            return path

    def close(self) -> None:
        self._closing.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()  # a start() blocked on its "ready" line reads EOF and lets go
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None
            self._ready = False
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None
        self._closing.clear()  # closed, not closing: a later job may start the pool again

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # ---- jobs ----------------------------------------------------------------------------
    async def submit(self, job: BaseModel | dict) -> JobReply:
        """Send a job and await its reply without blocking the event loop."""
        for attempt in (1, 2):
            try:
                path = self.socket if self._is_up() else await asyncio.to_thread(self.start)
            except ComputeUnavailable:
                return _unavailable()
            try:
                reader, writer = await asyncio.open_unix_connection(str(path))
            except (FileNotFoundError, ConnectionRefusedError):
                if attempt == 2 or not self.owned:
                    return _unavailable()
                self._forget()  # our supervisor died: start it again once
                continue
            try:
                writer.write(encode(job))
                await writer.drain()
                return JobReply.model_validate(await read_frame(reader))
            except (asyncio.IncompleteReadError, ConnectionError, ProtocolError):
                return _unavailable()
            finally:
                writer.close()
        return _unavailable()

    async def submit_stream(self, job: BaseModel | dict) -> AsyncIterator[dict | JobReply]:
        """Like :meth:`submit`, yielding the job's progress (dicts) before its reply."""
        try:
            path = self.socket if self._is_up() else await asyncio.to_thread(self.start)
            reader, writer = await asyncio.open_unix_connection(str(path))
        except (ComputeUnavailable, FileNotFoundError, ConnectionRefusedError):
            yield _unavailable()
            return
        try:
            writer.write(encode(job))
            await writer.drain()
            while True:
                frame = await read_frame(reader)
                if "progress" in frame:
                    yield frame["progress"]
                    continue
                yield JobReply.model_validate(frame)
                return
        except (asyncio.IncompleteReadError, ConnectionError, ProtocolError):
            yield _unavailable()
        finally:
            writer.close()

    def submit_sync(self, job: BaseModel | dict) -> JobReply:
        """The same, blocking (CLI, benchmarks, tests)."""
        try:
            path = self.start()
        except ComputeUnavailable:
            return _unavailable()
        with socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM) as s:
            try:
                s.connect(str(path))
                s.sendall(encode(job))
                reply = recv_frame(s)
            except (OSError, ProtocolError):
                return _unavailable()
        return JobReply.model_validate(reply) if reply is not None else _unavailable()

    def _is_up(self) -> bool:
        if not self._ready:
            return False
        return not self.owned or (self._proc is not None and self._proc.poll() is None)

    def _forget(self) -> None:
        with self._lock:
            if self._proc is not None:
                with contextlib.suppress(Exception):
                    self._proc.kill()
                    self._proc.wait(2)
            self._proc = None
            self._ready = False


def _unavailable() -> JobReply:
    return JobReply(error="unavailable", message="the compute pool is not running", retry_after_s=5)


def _readline_within(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    out: list[bytes] = []

    def read() -> None:
        assert proc.stdout is not None
        out.append(proc.stdout.readline())

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(timeout)
    return out[0] if out else b"(no answer within %d s)" % timeout


def _wait_for_socket(path: Path, timeout: float, closing: threading.Event) -> None:
    """A supervisor someone else started (``serve``) may still be importing torch: wait for it,
    unless the pool is being closed meanwhile."""
    deadline = time.monotonic() + timeout
    while not closing.is_set():
        with socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM) as s:
            try:
                s.connect(str(path))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise ComputeUnavailable(f"no compute pool at {path}") from None
        closing.wait(0.1)
    raise ComputeUnavailable("the compute pool is closing")
