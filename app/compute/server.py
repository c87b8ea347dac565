"""The supervisor: one per host. Imports torch once, forks warm workers, serves jobs on a socket.

Run as ``python -m app.compute.server --socket PATH --limits JSON``. It is started with a scrubbed
environment (no secret key, no database URL): nothing a learner's code could find in a worker's
memory is worth having. It exits when its parent does, so it never outlives the app.

Bounds on every job: a queue bound (``busy`` at once when full: the web answers 503 + Retry-After),
a wall-clock timeout (the worker is SIGKILLed and replaced, not abandoned), the worker's address
space (an allocation past it fails that job alone), recycling after N jobs or past an RSS limit.
A worker that dies for any reason is replaced and its job answered with a clear error.

The pool is elastic: ``warm_workers`` wait idle, more are forked (milliseconds: the parent is
warm) while jobs queue, up to ``workers``; a worker that has run jobs and then sat idle for
``idle_retire_s`` is retired and the warm count topped up with fresh forks, so memory a burst of
heavy jobs left behind is handed back within seconds of the burst's end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import importlib
import json
import os
import random
import signal
import socket
import sys
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from app.compute.limits import PoolLimits
from app.compute.protocol import (
    DemoJob,
    DrillJob,
    FitJob,
    JobReply,
    ProtocolError,
    encode,
    read_frame,
)

START_TIMEOUT_S = 10.0  # a forked worker's set-up (threads, limits) takes milliseconds


class ResultCache:
    """Demo results by (demo, params, seed), least recently used out first, bounded in bytes.
    It lives in the supervisor, so every web worker of the host shares it."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0

    @staticmethod
    def key(job: DemoJob) -> str:
        raw = json.dumps([job.demo_id, job.params, job.seed], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()

    def get(self, key: str) -> str | None:
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
        return hit

    def put(self, key: str, value: str) -> None:
        if len(value) > self.max_bytes or key in self._items:
            return
        self._items[key] = value
        self._bytes += len(value)
        while self._bytes > self.max_bytes:
            _, old = self._items.popitem(last=False)
            self._bytes -= len(old)


class Worker:
    def __init__(self, pid: int, sock: socket.socket):
        self.pid = pid
        self.sock = sock
        self.jobs = 0
        self.idle_since = time.monotonic()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(sock=self.sock)

    async def ask(self, msg: bytes, on_progress: Callable[[dict], None] | None = None) -> dict:
        """Send a job; progress frames go to ``on_progress`` until the reply comes."""
        assert self.reader and self.writer
        self.writer.write(msg)
        await self.writer.drain()
        while True:
            frame = await read_frame(self.reader)
            if "progress" not in frame:
                return frame
            if on_progress is not None:
                on_progress(frame)

    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        if self.writer is not None:
            self.writer.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


class Supervisor:
    def __init__(self, limits: PoolLimits):
        self.limits = limits
        self.cache = ResultCache(limits.cache_mb * 2**20)
        self.idle: asyncio.Queue[Worker] = asyncio.Queue()
        self.pending = 0  # jobs running or waiting for a worker
        self.live = 0  # workers forked and not yet killed
        self.stats = {
            "jobs": 0,
            "replaced": 0,
            "retired_idle": 0,
            "start_failures": 0,
            "busy": 0,
            "timeouts": 0,
            "crashes": 0,
        }

    # ---- workers -------------------------------------------------------------------------
    async def spawn(self) -> bool:
        """Fork a worker and wait for its "ready"; False (and logged) if it died on the way."""
        self.live += 1  # counted before the first await: concurrent jobs must not over-fork
        parent, child = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the supervisor's event loop
            code = 0
            try:
                parent.close()
                from app.compute.worker import serve

                serve(child, self.limits)
            except BaseException:
                traceback.print_exc()  # to the server's log: why workers die as they start
                code = 1
            finally:
                os._exit(code)
        child.close()
        w = Worker(pid, parent)
        await w.connect()
        assert w.reader is not None
        try:
            hello = await asyncio.wait_for(read_frame(w.reader), START_TIMEOUT_S)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ProtocolError):
            hello = {}
        if not hello.get("ready"):
            self._drop(w)
            self.stats["start_failures"] += 1
            return False
        self.idle.put_nowait(w)
        return True

    async def top_up(self) -> None:
        """Fork until the pool has the workers it wants; stop at a fork that fails to start."""
        while self.live < self.wanted():
            if not await self.spawn():
                return

    def wanted(self) -> int:
        """Workers the pool should have now: the warm ones, plus one per job in flight."""
        return min(self.limits.workers, max(self.limits.warm_workers, self.pending))

    def _drop(self, w: Worker) -> None:
        """Kill a worker and stop counting it: ``live`` changes here and in spawn, nowhere else."""
        w.kill()
        self.live -= 1

    async def retire(self, w: Worker) -> None:
        self._drop(w)
        self.stats["replaced"] += 1
        await self.top_up()

    async def reap_idle(self) -> None:
        """Retire workers that ran jobs and then idled ``idle_retire_s``; top up the warm ones."""
        while True:
            await asyncio.sleep(min(1.0, self.limits.idle_retire_s / 2))
            now = time.monotonic()
            keep = []
            while not self.idle.empty():
                w = self.idle.get_nowait()
                stale = now - w.idle_since >= self.limits.idle_retire_s
                if stale and (w.jobs or self.live > self.limits.warm_workers):
                    self._drop(w)
                    self.stats["retired_idle"] += 1
                else:
                    keep.append(w)
            for w in keep:
                self.idle.put_nowait(w)
            await self.top_up()

    # ---- jobs ----------------------------------------------------------------------------
    async def run(self, msg: dict, on_progress: Callable[[dict], None] | None = None) -> JobReply:
        kind = msg.get("kind")
        if kind == "stats":
            return JobReply(
                result_json=json.dumps(self.stats | {"pending": self.pending, "live": self.live})
            )
        job: DemoJob | DrillJob | FitJob
        if kind == "drill":
            job = DrillJob.model_validate(msg)
        elif kind == "fit":
            job = FitJob.model_validate(msg)
        else:
            job = DemoJob.model_validate(msg)
        key = self.cache.key(job) if isinstance(job, DemoJob) else None
        if key is not None and (hit := self.cache.get(key)) is not None:
            return JobReply(result_json=hit, cached=True)
        if self.pending >= self.limits.workers + self.limits.queue_max:
            self.stats["busy"] += 1
            return JobReply(
                error="busy",
                message="the compute pool is full; try again in a moment",
                # Spread out: clients refused together and told the same wait would all come
                # back in the same instant, a burst the web side pays for each time.
                retry_after_s=random.randint(1, 3),
            )
        self.pending += 1
        try:
            reply = await self._on_worker(job, on_progress)
        finally:
            self.pending -= 1
        if key is not None and reply.error is None and reply.result_json is not None:
            self.cache.put(key, reply.result_json)
        return reply

    async def _acquire(self) -> Worker | None:
        """An idle live worker, forking one if the pool may grow; None when forks keep failing."""
        for _ in range(3):
            if self.idle.empty() and self.live < self.wanted() and not await self.spawn():
                continue
            if self.idle.empty() and self.live == 0:
                continue  # nobody running could ever hand one back
            w = await self.idle.get()
            if w.alive():
                return w
            # Died while idle (e.g. the kernel's OOM killer): not this job's fault.
            self.stats["crashes"] += 1
            self._drop(w)
        return None

    async def _on_worker(
        self, job: DemoJob | DrillJob | FitJob, on_progress: Callable[[dict], None] | None = None
    ) -> JobReply:
        # A drill bounds its own child's wall time; the outer guard only catches a stuck worker.
        # A fit carries its own bound (at most 300 s, FitJob): minutes, where a demo has seconds.
        if isinstance(job, DrillJob):
            timeout = job.wall_s + 5
        elif isinstance(job, FitJob):
            timeout = job.timeout_s
        else:
            timeout = self.limits.job_timeout_s
        w = await self._acquire()
        if w is None:
            return JobReply(
                error="crashed",
                message="compute workers exit as soon as they start; the server log says why",
            )
        self.stats["jobs"] += 1
        try:
            raw = await asyncio.wait_for(w.ask(encode(job), on_progress), timeout)
        except TimeoutError:
            self.stats["timeouts"] += 1
            await self.retire(w)
            return JobReply(
                error="timeout",
                message=f"the job ran past its {timeout:g} s limit and was stopped",
            )
        except (asyncio.IncompleteReadError, ConnectionError, ProtocolError):
            self.stats["crashes"] += 1
            await self.retire(w)
            return JobReply(error="crashed", message="the worker running this job died")
        w.jobs += 1
        rss = raw.pop("rss_mb", 0.0)
        if w.jobs >= self.limits.recycle_after_jobs or rss > self.limits.recycle_rss_mb:
            await self.retire(w)
        else:
            w.idle_since = time.monotonic()
            self.idle.put_nowait(w)
        return JobReply.model_validate(raw)

    # ---- serving -------------------------------------------------------------------------
    async def client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    msg = await read_frame(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                try:
                    reply = await self.run(msg, lambda frame: writer.write(encode(frame)))
                except Exception as e:  # a malformed job is that client's problem
                    reply = JobReply(error="failed", message=f"bad job: {e}"[:600])
                writer.write(encode(reply))
                await writer.drain()
        except (ConnectionError, ProtocolError):
            pass
        except asyncio.CancelledError:
            # Shutting down with the client still connected. Ending quietly: asyncio's stream
            # callback would print a traceback for a handler task left cancelled.
            pass
        finally:
            writer.close()


def _preload(extra_modules: list[str]) -> None:
    """What every worker inherits warm: torch, the demo registry, the drill harness."""
    import torch

    # torch._check (behind nn.MultiheadAttention's mask checks, optimizers, much of torch's Python
    # code) imports torch.fx's symbolic shapes, and with them sympy and mpmath: ~0.4 s on first
    # use, in every fresh worker and in every drill's sandboxed child. Once here, for all of them.
    importlib.import_module("torch.fx.experimental.symbolic_shapes")
    # The drill harness compares with torch.testing.assert_close, which imports DTensor on first
    # use to unwrap one (~0.15 s of every drill submission's fresh child).
    importlib.import_module("torch.testing")
    if torch.distributed.is_available():
        importlib.import_module("torch.distributed.tensor")

    from app.demos import load_all

    load_all()
    with contextlib.suppress(ImportError):
        importlib.import_module("app.drills.harness")
    for name in extra_modules:
        importlib.import_module(name)


def _to_devnull(fd: int) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, fd)
    os.close(null)


async def _watch_parent(ppid: int) -> None:
    while os.getppid() == ppid:
        await asyncio.sleep(0.5)
    os._exit(0)  # the app that started us is gone


async def main_async(sock_path: Path, limits: PoolLimits, extra: list[str]) -> None:
    ppid = os.getppid()
    _preload(extra)
    # Out of the collector's sight: a collection would touch every object's header and unshare
    # the pages the forked workers share with us.
    gc.freeze()
    sup = Supervisor(limits)
    await sup.top_up()
    reaper = asyncio.create_task(sup.reap_idle())
    with contextlib.suppress(FileNotFoundError):
        sock_path.unlink()
    server = await asyncio.start_unix_server(sup.client, path=str(sock_path))
    os.chmod(sock_path, 0o600)
    print("ready", flush=True)  # the client waits for this line
    _to_devnull(1)  # nobody reads our stdout after that line: a full pipe would block us
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.create_task(_watch_parent(ppid))
    async with server:
        await stop.wait()
    watcher.cancel()
    reaper.cancel()
    while not sup.idle.empty():
        sup.idle.get_nowait().kill()
    with contextlib.suppress(FileNotFoundError):
        sock_path.unlink()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True, type=Path)
    ap.add_argument("--limits", default="{}", help="PoolLimits as JSON")
    ap.add_argument("--extra-module", action="append", default=[], help="import (tests only)")
    a = ap.parse_args(argv)
    limits = PoolLimits.model_validate_json(a.limits)
    started = time.monotonic()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(a.socket, limits, a.extra_module))
    if os.environ.get("TQ_COMPUTE_DEBUG"):
        print(f"supervisor up {time.monotonic() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
