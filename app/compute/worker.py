"""A worker: a process forked from the warm supervisor that runs one job at a time.

It reads jobs from its socket, runs a demo (or hands a drill to the sandbox), and answers with the
result and its own resident size, so the supervisor can recycle it when it has grown.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import socket
import time
import traceback

from app.compute.limits import PoolLimits
from app.compute.protocol import DemoJob, DrillJob, FitJob, JobReply, encode, recv_frame

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def vm_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * PAGE / 2**20


def _malloc_trim() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def pick_device(setting: str) -> str:
    """ "auto" → "cuda" when torch sees a GPU, else "cpu"; "cuda" without one is an error."""
    import torch

    if setting == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if setting == "cuda":
        raise RuntimeError("TQ_DEMO_DEVICE=cuda but torch sees no GPU")
    return "cpu"


def _is_oom(e: BaseException) -> bool:
    return isinstance(e, MemoryError) or (
        isinstance(e, RuntimeError)
        and any(
            s in str(e) for s in ("can't allocate memory", "not enough memory", "out of memory")
        )
    )


def run_demo(job: DemoJob, device: str, send=None) -> JobReply:
    import torch

    from app.demos import REGISTRY, progress_to

    demo = REGISTRY[job.demo_id]
    params = demo.params.model_validate(job.params)
    t0 = time.perf_counter()
    # Tensors a demo creates land on the chosen device. The device context intercepts every torch
    # call, so it is entered only off CPU, where it changes something.
    ctx = torch.device(device) if device != "cpu" else contextlib.nullcontext()
    with ctx, progress_to(_throttled(send) if job.stream and send else None):
        result = demo.run(params, job.seed)
    return JobReply(result_json=result.model_dump_json(), compute_ms=_ms(t0))


def _throttled(send, every_s: float = 0.2):
    """At most one progress frame per ``every_s``, and always the last step."""
    last = [0.0]

    def report(info: dict) -> None:
        now = time.perf_counter()
        if now - last[0] >= every_s or info.get("done") == info.get("total"):
            last[0] = now
            send({"progress": info})

    return report


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def handle(
    msg: dict, limits: PoolLimits, device: str, send=None, device_error: str | None = None
) -> JobReply:
    """``device_error``: why the configured demo device is unusable; demos fail with it, drills
    and fits (CPU only) run."""
    try:
        if msg.get("kind") == "drill":
            from app.compute.sandbox import run_submission

            return run_submission(DrillJob.model_validate(msg), limits)
        if msg.get("kind") == "fit":
            from app.compute.fit import run_fit

            return run_fit(FitJob.model_validate(msg))
        if device_error is not None:
            return JobReply(error="failed", message=device_error)
        return run_demo(DemoJob.model_validate(msg), device, send)
    except Exception as e:  # a job's failure is the job's, never the worker's
        if _is_oom(e):
            return JobReply(error="memory", message="the job ran out of its memory limit")
        tb = traceback.format_exception_only(type(e), e)[-1].strip()
        return JobReply(error="failed", message=tb[:600])


def serve(sock: socket.socket, limits: PoolLimits) -> None:
    """The worker's life: set its bounds, then answer jobs until the socket closes."""
    # Forked from an asyncio process: its signal plumbing is not ours.
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    from app.compute.server import _to_devnull

    _to_devnull(0)
    _to_devnull(1)  # the supervisor's "ready" pipe: a demo's print must not fill it
    # Compute is batch work, a page is someone waiting: on a busy host the kernel should give the
    # cores to the web processes first (their p99 under a demo flood depends on it).
    with contextlib.suppress(OSError):
        os.nice(limits.nice)
    # Nice alone still lets a busy worker delay a waking web process by a scheduler slice; the
    # idle policy makes the kernel preempt a worker the moment a web process wants its core.
    # (Jobs then run on what the web side leaves: a demo flood cannot slow a review.)
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    import torch

    torch.set_num_threads(limits.threads)
    # A device that is not there fails each demo with the reason, not the worker at start: a
    # worker that died on arrival would only be forked again, and again.
    try:
        device, device_error = pick_device(limits.device), None
    except RuntimeError as e:
        device, device_error = "cpu", str(e)
    # Address space beyond what the warm parent already mapped: an allocation past it fails in
    # this job alone (MemoryError / torch's allocator error), the worker survives and is recycled.
    extra = limits.worker_memory_mb * 2**20
    cap = int(vm_mb() * 2**20) + extra
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    base = rss_mb()
    sock.sendall(encode({"ready": True}))  # the supervisor counts a worker only from here
    while True:
        msg = recv_frame(sock)
        if msg is None or msg.get("kind") == "exit":
            return
        reply = handle(msg, limits, device, lambda frame: sock.sendall(encode(frame)), device_error)
        if rss_mb() > base + 64:
            # A heavy job's freed tensors stay in glibc's heap (its mmap threshold grows with
            # big allocations): hand them back, so an idle pool shrinks after a flood.
            _malloc_trim()
        body = reply.model_dump() | {"rss_mb": rss_mb()}
        sock.sendall(encode(body))
