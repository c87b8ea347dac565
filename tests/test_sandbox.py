"""A learner's code is contained: each hostile submission fails alone, nothing outside is touched,
and the pool (and the app's health check) keeps answering. Runs the real sandbox in a real pool."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.compute.client import ComputePool
from app.compute.limits import PoolLimits
from app.compute.protocol import DrillJob
from app.compute.sandbox import SubmissionResult

pytestmark = pytest.mark.slow
DRILL = Path(__file__).resolve().parents[1] / "drills" / "scaled-dot-product-attention"
REF = (DRILL / "reference.py").read_text()
TESTS = (DRILL / "tests.py").read_text()


@pytest.fixture(scope="module")
def pool() -> Iterator[ComputePool]:
    p = ComputePool(PoolLimits(workers=1, drill_memory_mb=512, drill_file_kb=1024))
    p.start()
    yield p
    p.close()


def submit(pool: ComputePool, code: str, wall_s: float = 5.0) -> SubmissionResult:
    reply = pool.submit_sync(
        DrillJob(
            drill_id="t",
            submission=code,
            reference=REF,
            tests=TESTS,
            entry="attention",
            wall_s=wall_s,
        )
    )
    assert reply.error is None, reply.message
    return SubmissionResult.model_validate_json(reply.result_json)


def load_error(res: SubmissionResult) -> str:
    assert res.status == "ok", res
    return res.verdict["error"] or ""


def test_the_reference_passes_inside_the_sandbox_with_every_layer(pool):
    res = submit(pool, REF, wall_s=30)  # about 0.1 s; a loaded CI box must not make it flaky
    assert res.status == "ok" and res.verdict["passed"], res
    assert {"seccomp", "landlock", "rlimits"} <= set(res.isolation)


def test_an_endless_loop_is_stopped_within_the_wall_limit(pool):
    res = submit(pool, "while True:\n    pass\n", wall_s=1.5)
    assert res.status == "timeout" and res.wall_ms < 2500
    assert submit(pool, REF).verdict["passed"]


def test_a_huge_allocation_fails_alone(pool):
    assert "MemoryError" in load_error(submit(pool, "x = bytearray(10 * 2**30)\n" + REF))


def test_no_process_can_be_started(pool):
    for code in (
        "import os\nos.fork()\n",
        "import subprocess\nsubprocess.run(['true'])\n",
        "import os\nwhile True:\n    os.fork()\n",
    ):
        assert "PermissionError" in load_error(submit(pool, code + REF)), code


def test_a_big_file_cannot_be_written(pool):
    code = (
        "with open('big', 'wb') as f:\n    for _ in range(1024):\n        f.write(b'x' * 2**20)\n"
    )
    assert "File too large" in load_error(submit(pool, code + REF))


def test_secrets_and_the_app_are_unreadable(pool, tmp_path):
    secret = tmp_path / "quiz.db"  # as world-readable as a default SQLite file
    secret.write_text("secret")
    secret.chmod(0o644)
    for path in ("/etc/passwd", str(DRILL / "reference.py"), str(secret), "/root/.bashrc"):
        err = load_error(submit(pool, f"open({path!r}).read()\n" + REF))
        assert "PermissionError" in err, (path, err)
    err = load_error(submit(pool, "import os\nos.listdir('/home')\n" + REF))
    assert "PermissionError" in err, err
    assert "Permission" in load_error(submit(pool, "import app.config\n" + REF))


def test_no_socket_reaches_the_app(pool):
    # A real listener on loopback, as the app's own port would be: nothing arrives.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(3)
    port = srv.getsockname()[1]
    hits: list[object] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            hits.append(srv.accept())

    t = threading.Thread(target=accept)
    t.start()
    code = f"import socket\nsocket.socket().connect(('127.0.0.1', {port}))\n"
    assert "PermissionError" in load_error(submit(pool, code + REF))
    t.join()
    srv.close()
    assert hits == []


def test_signals_ctypes_and_the_parent(pool):
    assert "PermissionError" in load_error(
        submit(pool, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + REF)
    )
    crashed = submit(pool, "import ctypes\nctypes.string_at(0)\n" + REF)
    assert crashed.status == "crashed"
    libc = "import ctypes\nctypes.CDLL(None).syscall(62, os.getppid(), 9)\nimport os\n"
    res = submit(pool, "import os\n" + libc + REF)
    assert res.status in ("ok", "crashed")
    assert submit(pool, REF).verdict["passed"]  # the worker (the parent) is still there


def test_output_is_captured_and_trimmed(pool):
    res = submit(pool, "print('hello from the learner')\nprint('x' * 100000)\n" + REF)
    assert res.output.startswith("hello from the learner") and "trimmed" in res.output
    assert len(res.output) < 20_000


def test_the_worker_survives_everything_above(pool):
    assert os.path.exists(pool.socket)
    assert json.loads(pool.submit_sync({"kind": "stats"}).result_json)["pending"] == 0


def test_no_capability_is_left_to_the_learner(pool):
    # Root that cannot become nobody (Python under /root) keeps no capability either.
    code = "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n"
    res = submit(pool, code + REF)
    assert res.output.split()[0] == "0" * 16, res.output
    assert {"nobody", "no-capabilities"} & set(res.isolation) or os.geteuid() != 0
