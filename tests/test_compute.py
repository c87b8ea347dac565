"""The compute pool: every job bounded, a worker that dies is replaced, the web side stays clean.

Each test talks to a real supervisor process with its own (tight) limits, as the app would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.compute.client import ComputePool, ComputeUnavailable
from app.compute.limits import PoolLimits
from app.compute.protocol import DemoJob, JobReply

pytestmark = pytest.mark.slow


def job(demo_id: str, seed: int = 0, **params) -> DemoJob:
    return DemoJob(demo_id=demo_id, params=params, seed=seed)


def pid_of(pool: ComputePool) -> int:
    reply = pool.submit_sync(job("test-pid", seed=len(str(id(pool)))))
    return int(json.loads(reply.result_json)["conclusion"]["en"])


@pytest.fixture(scope="module")
def pool() -> Iterator[ComputePool]:
    p = ComputePool(
        PoolLimits(workers=1, job_timeout_s=2.0, worker_memory_mb=300, queue_max=1, cache_mb=0),
        extra_modules=("tests.compute_demos",),
    )
    p.start()
    yield p
    p.close()


def stats(pool: ComputePool) -> dict:
    return json.loads(pool.submit_sync({"kind": "stats"}).result_json)


def alive(pool: ComputePool) -> None:
    r = pool.submit_sync(job("causal-mask", seed=99))
    assert r.error is None, r.message


def test_a_job_past_its_timeout_is_killed_and_the_worker_replaced(pool):
    before = stats(pool)["replaced"]
    r = pool.submit_sync(job("test-sleep", seconds=30))
    assert r.error == "timeout" and "2 s" in r.message
    assert stats(pool)["replaced"] == before + 1
    alive(pool)


def test_a_job_past_the_memory_limit_fails_alone(pool):
    r = pool.submit_sync(job("test-alloc", mb=2000))
    assert r.error == "memory", r
    ok = pool.submit_sync(job("test-alloc", mb=50))
    assert ok.error is None, ok.message
    alive(pool)


def test_a_segfault_fails_that_job_alone(pool):
    r = pool.submit_sync(job("test-segfault"))
    assert r.error == "crashed"
    alive(pool)


def test_a_full_queue_answers_busy_with_retry_after(pool):
    # One worker, one waiting place: the third concurrent job is refused at once.
    with ThreadPoolExecutor(4) as ex:
        futs = [
            ex.submit(pool.submit_sync, job("test-sleep", seed=i, seconds=1.0)) for i in range(4)
        ]
        replies: list[JobReply] = [f.result() for f in futs]
    busy = [r for r in replies if r.error == "busy"]
    assert len(busy) >= 2 and all(r.retry_after_s for r in busy)
    assert sum(r.error is None for r in replies) >= 1


def test_workers_are_recycled_after_n_jobs():
    p = ComputePool(
        PoolLimits(workers=1, recycle_after_jobs=2, cache_mb=0),
        extra_modules=("tests.compute_demos",),
    )
    try:
        pids = [pid_of(p) for _ in range(5)]
    finally:
        p.close()
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]


def test_results_are_cached_across_clients(pool):
    shared = ComputePool(PoolLimits(cache_mb=16), extra_modules=())
    try:
        a = shared.submit_sync(job("causal-mask", seed=5))
        other_client = ComputePool(socket=shared.socket)
        b = other_client.submit_sync(job("causal-mask", seed=5))
    finally:
        shared.close()
    assert not a.cached and b.cached and a.result_json == b.result_json


def test_every_demo_through_the_pool_equals_the_function_and_torch_stays_out():
    """The web side of the pool never imports torch, and what comes back is exactly what the
    pure function returns (checked in a child that does import torch)."""
    code = r"""
import json, sys
from app.compute.client import ComputePool, ComputeUnavailable
from app.demos import REGISTRY, load_all
from app.demos.runner import DemoRunner
load_all()
pool = ComputePool()
runner = DemoRunner(pool)
out = {d: runner.run_sync(d, REGISTRY[d].params(), 0).result.model_dump_json() for d in sorted(REGISTRY)}
pool.close()
assert "torch" not in sys.modules, "the web side imported torch"
print(json.dumps(out))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    served = json.loads(res.stdout.strip().splitlines()[-1])
    import torch

    from app.demos import REGISTRY, load_all

    torch.set_num_threads(1)  # as the workers (and the in-thread runner before them) compute

    load_all()
    for demo_id, text in served.items():
        d = REGISTRY[demo_id]
        assert _untimed(demo_id, text) == _untimed(demo_id, d.run(d.params(), 0).model_dump_json())


# These two also show a measured wall-clock time: all but that part must be identical.
TIMED = {"dot-vs-additive", "parallel-decoding"}


def _untimed(demo_id: str, text: str) -> dict:
    r = json.loads(text)
    if demo_id in TIMED:
        r.pop("conclusion")
        r["scalars"] = [s for s in r["scalars"] if "time" not in s["key"]]
        r["charts"] = [c for c in r["charts"] if "time" not in c["title"]["en"].lower()]
        for t in r["tables"]:
            keep = [i for i, c in enumerate(t["columns"]) if not {"ms", "time"} & set(c.split())]
            t["columns"] = [t["columns"][i] for i in keep]
            t["rows"] = [[row[i] for i in keep] for row in t["rows"]]
    return r


def test_workers_yield_the_cpu_to_the_web_side(pool):
    pid = pid_of(pool)
    stat = Path(f"/proc/{pid}/stat").read_text()
    nice = int(stat.rsplit(")", 1)[1].split()[16])
    assert nice == PoolLimits().nice == 10
    assert os.sched_getscheduler(pid) == os.SCHED_IDLE  # preempted as soon as the web side wakes


def test_the_pool_forks_a_second_worker_under_load_and_hands_it_back_when_idle():
    p = ComputePool(
        PoolLimits(workers=2, warm_workers=1, idle_retire_s=0.5, cache_mb=0),
        extra_modules=("tests.compute_demos",),
    )
    try:
        p.start()
        assert stats(p)["live"] == 1  # idle: one warm worker, not the most allowed
        with ThreadPoolExecutor(1) as ex:
            slow = ex.submit(p.submit_sync, job("test-sleep", seed=1, seconds=5.0))
            while stats(p)["pending"] == 0:
                time.sleep(0.02)
            # Answered by a second worker forked for it, while the first still sleeps.
            second = pid_of(p)
            assert not slow.done()
            assert stats(p)["live"] == 2
            assert slow.result().error is None
        first = json.loads(p.submit_sync(job("test-pid", seed=2)).result_json)["conclusion"]
        deadline = time.monotonic() + 15
        while stats(p)["retired_idle"] < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        # Both workers that ran jobs were retired after idling; one fresh fork waits.
        assert stats(p)["retired_idle"] >= 2 and stats(p)["live"] == 1
        assert pid_of(p) not in {second, int(first["en"])}
    finally:
        p.close()


def test_a_fresh_worker_inherits_what_torch_imports_on_first_use():
    # torch._check (nn.MultiheadAttention's mask checks, optimizers) imports sympy on first use:
    # ~0.4 s in the first demo of every fresh worker and in every drill's sandboxed child, unless
    # the supervisor imported it before forking. A pool of its own: its worker has run nothing.
    fresh = ComputePool(PoolLimits(workers=1, cache_mb=0), extra_modules=("tests.compute_demos",))
    try:
        held = fresh.submit_sync(job("test-modules", seed=3)).result_json
    finally:
        fresh.close()
    held_names = set(json.loads(held)["conclusion"]["en"].split())
    assert {"sympy", "mpmath"} <= held_names
    # ... and what the drill harness's assert_close imports on first use (every drill's child).
    assert "torch.distributed.tensor" in held_names


def test_a_gpu_asked_for_but_absent_fails_each_demo_with_the_reason_and_the_pool_lives():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: TQ_DEMO_DEVICE=cuda is simply honoured")
    p = ComputePool(PoolLimits(workers=1, device="cuda", cache_mb=0))
    try:
        r = p.submit_sync(job("causal-mask", seed=1))
        assert r.error == "failed" and "TQ_DEMO_DEVICE=cuda" in (r.message or "")
        again = p.submit_sync(job("causal-mask", seed=2))
        assert again.error == "failed" and stats(p)["replaced"] == 0
    finally:
        p.close()


def test_workers_that_die_as_they_start_get_a_clear_error_not_an_endless_fork_loop():
    p = ComputePool(
        PoolLimits(workers=1, cache_mb=0), extra_modules=("tests.compute_broken_worker",)
    )
    try:
        for seed in (1, 2):  # and the next job is answered the same way, not left hanging
            r = p.submit_sync(job("causal-mask", seed=seed))
            assert r.error == "crashed" and "exit as soon as they start" in (r.message or "")
    finally:
        p.close()


def test_closing_a_pool_frees_a_start_still_waiting_for_its_supervisor(tmp_path):
    # A server stopped while its host's supervisor is still importing torch (or was stopped
    # first): the web worker's start() waits for the socket holding the pool's lock, and its
    # shutdown (close) must not wait out the start timeout behind it.
    p = ComputePool(socket=tmp_path / "never.sock")
    with ThreadPoolExecutor(1) as ex:
        waiting = ex.submit(p.start)
        time.sleep(0.3)
        assert not waiting.done()
        p.close()
        with pytest.raises(ComputeUnavailable, match="closing"):
            waiting.result(timeout=5)
