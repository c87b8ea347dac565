"""Runs a learner's code: a fresh child of a warm worker per submission, locked down before the
code is even compiled.

Layers (each reported in the result, so a deployment can see what it actually gets):
- ``seccomp``: a syscall filter: no sockets, no exec, no new processes or threads, no signals to
  other processes, no ptrace, mount, namespaces, bpf or io_uring. Needs Linux (x86_64, aarch64).
- ``landlock``: the filesystem is read-only and only where Python and torch live; the learner's
  private empty directory is the one writable place; the app's code, drills, database, /etc and
  /home are not even readable. Needs Linux ≥ 5.13 with Landlock enabled.
- ``netns``: a fresh network namespace with no interfaces (root, or unprivileged user namespaces).
- ``nobody``: when the worker runs as root, the child drops to uid/gid 65534 (where Python is
  installed somewhere uid 65534 can read); else ``no-capabilities``: root keeps its uid but loses
  every capability.
- ``rlimits``: CPU seconds, address space, file size, open files, no core dumps; wall time is
  enforced by the worker, which SIGKILLs the child.
Without both seccomp and landlock a submission is refused (unless the admin allows a weak sandbox).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import platform
import resource
import select
import shutil
import signal
import stat
import struct
import sys
import tempfile
import time
from typing import Literal

from pydantic import BaseModel

from app.compute.limits import PoolLimits
from app.compute.protocol import DrillJob, JobReply

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
NOBODY = 65534


class SubmissionResult(BaseModel):
    """What running a submission came to. ``verdict`` is the harness's Verdict as a dict."""

    status: Literal["ok", "timeout", "crashed", "refused"]
    message: str = ""
    verdict: dict | None = None
    output: str = ""
    isolation: list[str] = []
    wall_ms: float = 0.0


# ---- seccomp ---------------------------------------------------------------------------------
# Syscall numbers by machine: https://github.com/torvalds/linux (arch/*/syscall tables).
_DENY = {
    "x86_64": (
        0xC000003E,
        dict(
            socket=41,
            socketpair=53,
            connect=42,
            bind=49,
            listen=50,
            fork=57,
            vfork=58,
            clone=56,
            clone3=435,
            execve=59,
            execveat=322,
            kill=62,
            tkill=200,
            tgkill=234,
            rt_sigqueueinfo=129,
            rt_tgsigqueueinfo=297,
            pidfd_open=434,
            pidfd_send_signal=424,
            ptrace=101,
            process_vm_readv=310,
            process_vm_writev=311,
            unshare=272,
            setns=308,
            mount=165,
            umount2=166,
            pivot_root=155,
            chroot=161,
            bpf=321,
            keyctl=250,
            io_uring_setup=425,
            perf_event_open=298,
            userfaultfd=323,
            setuid=105,
            setgid=106,
        ),
    ),
    "aarch64": (
        0xC00000B7,
        dict(
            socket=198,
            socketpair=199,
            connect=203,
            bind=200,
            listen=201,
            clone=220,
            clone3=435,
            execve=221,
            execveat=281,
            kill=129,
            tkill=130,
            tgkill=131,
            rt_sigqueueinfo=138,
            rt_tgsigqueueinfo=240,
            pidfd_open=434,
            pidfd_send_signal=424,
            ptrace=117,
            process_vm_readv=270,
            process_vm_writev=271,
            unshare=97,
            setns=268,
            mount=40,
            umount2=39,
            pivot_root=41,
            chroot=51,
            bpf=280,
            keyctl=219,
            io_uring_setup=425,
            perf_event_open=241,
            userfaultfd=282,
            setuid=146,
            setgid=144,
        ),
    ),
}


def _bpf(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def install_seccomp() -> bool:
    spec = _DENY.get(platform.machine())
    if spec is None:
        return False
    arch, calls = spec
    ld_w_abs, jeq_k, jge_k, ret_k = 0x20, 0x15, 0x35, 0x06
    eperm = 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM
    prog = [_bpf(ld_w_abs, 4), _bpf(jeq_k, arch, 1, 0), _bpf(ret_k, 0x80000000), _bpf(ld_w_abs, 0)]
    if arch == 0xC000003E:  # the x32 ABI numbers the same calls from 0x40000000
        prog += [_bpf(jge_k, 0x40000000, 0, 1), _bpf(ret_k, eperm)]
    for nr in sorted(set(calls.values())):
        # clone3 answers ENOSYS, so glibc falls back to clone (which we refuse with EPERM).
        err = 0x00050000 | 38 if nr == 435 else eperm
        prog += [_bpf(jeq_k, nr, 0, 1), _bpf(ret_k, err)]
    prog.append(_bpf(ret_k, 0x7FFF0000))  # allow the rest
    buf = ctypes.create_string_buffer(b"".join(prog))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.addressof(buf))
    if _libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    return _libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0  # PR_SET_SECCOMP, MODE_FILTER


# ---- landlock --------------------------------------------------------------------------------
_LL_CREATE, _LL_ADD, _LL_RESTRICT = 444, 445, 446
_FS_ALL_V1 = (1 << 13) - 1
_FS_READ = 1 | 4 | 8  # EXECUTE | READ_FILE | READ_DIR
_FILE_RIGHTS = 1 | 2 | 4  # rights that apply to a file rule (not a directory)


def install_landlock(read_paths: list[str], write_paths: list[str]) -> bool:
    abi = _libc.syscall(_LL_CREATE, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    if abi < 1:
        return False
    handled = _FS_ALL_V1 | (1 << 13 if abi >= 2 else 0) | (1 << 14 if abi >= 3 else 0)
    attr = struct.pack("Q", handled)
    fd = _libc.syscall(_LL_CREATE, ctypes.c_char_p(attr), len(attr), 0)
    if fd < 0:
        return False
    try:
        for paths, rights in ((read_paths, _FS_READ), (write_paths, handled)):
            for path in paths:
                with contextlib.suppress(OSError):
                    pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                    try:
                        allowed = rights if os.path.isdir(path) else rights & _FILE_RIGHTS
                        rule = struct.pack("=Qi", allowed, pfd)
                        _libc.syscall(_LL_ADD, fd, 1, ctypes.c_char_p(rule), 0)
                    finally:
                        os.close(pfd)
        if _libc.prctl(38, 1, 0, 0, 0) != 0:
            return False
        return _libc.syscall(_LL_RESTRICT, fd, 0) == 0
    finally:
        os.close(fd)


def _readable_roots() -> list[str]:
    """Where Python, its packages and shared libraries live: read-only, nothing else."""
    roots = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        "/usr/lib",
        "/usr/lib64",
        "/lib",
        "/lib64",
        "/usr/local/lib",
        "/dev/null",
        "/dev/urandom",
        "/dev/zero",
        "/proc/self",
        "/proc/cpuinfo",  # torch's cpuinfo reads these on its first half-precision op
        "/sys/devices/system/cpu",
    }
    roots |= {p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p}
    return sorted(roots)


# ---- the child -------------------------------------------------------------------------------
def _unshare_net() -> bool:
    return _libc.unshare(0x40000000) == 0  # CLONE_NEWNET


def _reachable_by_others(path: str) -> bool:
    """Every directory from / down to ``path`` lets other users through (o+x)."""
    parts = os.path.realpath(path).split(os.sep)
    for i in range(1, len(parts) + 1):
        d = os.sep.join(parts[:i]) or os.sep
        try:
            if os.path.isdir(d) and not os.stat(d).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _can_be_nobody() -> bool:
    # Only where Python itself stays reachable: an interpreter under /root (pyenv as root) would
    # leave nobody unable to import a single module that is not already loaded.
    return os.geteuid() == 0 and all(_reachable_by_others(p) for p in {sys.prefix, sys.base_prefix})


def _drop_to_nobody(workdir: str) -> bool:
    if not _can_be_nobody():
        return False
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    return True


def _drop_capabilities() -> bool:
    """Root that cannot become nobody still loses every capability: from the bounding set (no
    exec could regain one, and exec is refused anyway) and from its own sets (capset)."""
    if os.geteuid() != 0:
        return False
    for cap in range(64):
        if _libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP; past the last cap: EINVAL
            break

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3: two Data structs
    data = (Data * 2)()
    return _libc.capset(ctypes.byref(header), data) == 0


def _limits(limits: PoolLimits, wall_s: float) -> None:
    from app.compute.worker import vm_mb

    cap = int(vm_mb() * 2**20) + limits.drill_memory_mb * 2**20
    cpu = math.ceil(wall_s) + 1
    for res, val in (
        (resource.RLIMIT_AS, cap),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, limits.drill_file_kb * 1024),
        (resource.RLIMIT_NOFILE, 64),
        (resource.RLIMIT_CORE, 0),
    ):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(res, (val, val))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails (EFBIG), not the run


def _child(job: DrillJob, limits: PoolLimits, workdir: str, out_fd: int, res_fd: int) -> None:
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: never outlive the worker
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.dup2(res_fd, 3)
    os.closerange(4, 1 << 16)  # the worker's socket, the supervisor's, the pool's: none of them
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    layers = []
    if _unshare_net():
        layers.append("netns")
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "PATH": "/nonexistent"})
    tempfile.tempdir = workdir
    if _drop_to_nobody(workdir):
        layers.append("nobody")
    elif _drop_capabilities():
        layers.append("no-capabilities")
    _limits(limits, job.wall_s)
    layers.append("rlimits")
    if install_landlock(_readable_roots(), [workdir]):
        layers.append("landlock")
    if install_seccomp():
        layers.append("seccomp")
    head = json.dumps({"isolation": layers}).encode() + b"\n"
    os.write(3, head)
    if not {"landlock", "seccomp"} <= set(layers) and not limits.drill_allow_weak_sandbox:
        os.write(3, json.dumps({"refused": True}).encode())
        return
    from app.drills.harness import run_drill

    verdict = run_drill(
        submission=job.submission, reference=job.reference, tests=job.tests, entry=job.entry
    )
    data = verdict.model_dump_json().encode()
    while data:
        data = data[os.write(3, data) :]


def run_submission(job: DrillJob, limits: PoolLimits) -> JobReply:
    """Fork, confine, run the harness, and read back what happened within the wall limit."""
    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="tq-drill-")
    if _can_be_nobody():
        os.chown(workdir, NOBODY, NOBODY)
    out_fd = os.memfd_create("drill-output")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            _child(job, limits, workdir, out_fd, w)
        finally:
            os._exit(0)
    os.close(w)
    raw, timed_out = _read_until(r, t0 + job.wall_s)
    os.close(r)
    if timed_out:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    output = _output(out_fd, limits.drill_output_kb * 1024)
    os.close(out_fd)
    shutil.rmtree(workdir, ignore_errors=True)
    res = _interpret(raw, status, timed_out, job.wall_s)
    res.output, res.wall_ms = output, (time.monotonic() - t0) * 1000
    return JobReply(result_json=res.model_dump_json(), compute_ms=res.wall_ms)


def _read_until(fd: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), True
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), False
        size += len(chunk)
        if size < 8 << 20:  # a verdict is small; a flood on the pipe is not kept
            chunks.append(chunk)


def _output(fd: int, limit: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    data = os.read(fd, limit + 1)
    text = data[:limit].decode("utf-8", "replace")
    return text + ("\n… (output trimmed)" if len(data) > limit else "")


def _interpret(raw: bytes, status: int, timed_out: bool, wall_s: float) -> SubmissionResult:
    head, _, body = raw.partition(b"\n")
    try:
        layers = json.loads(head).get("isolation", [])
    except ValueError:
        layers = []
    if timed_out:
        return SubmissionResult(
            status="timeout",
            isolation=layers,
            message=f"your code ran past the {wall_s:g} s limit and was stopped",
        )
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    if sig in (signal.SIGXCPU, signal.SIGKILL) and not body:
        return SubmissionResult(
            status="timeout", isolation=layers, message="your code used up its CPU time"
        )
    try:
        data = json.loads(body)
    except ValueError:
        why = f"signal {signal.Signals(sig).name}" if sig else "no result"
        return SubmissionResult(
            status="crashed",
            isolation=layers,
            message=f"the process running your code died ({why}); "
            "out of memory, a crash in native code, or output that broke the harness",
        )
    if data.get("refused"):
        return SubmissionResult(
            status="refused",
            isolation=layers,
            message="this server cannot isolate learner code (it needs seccomp and Landlock); "
            "drills are off here",
        )
    return SubmissionResult(status="ok", verdict=data, isolation=layers)
