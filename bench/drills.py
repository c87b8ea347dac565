"""Every drill's reference solution submitted through the warm compute pool and its sandbox: the
time end to end (target < 1.5 s), and how soon an endless loop is reported (target: within the
drill's wall limit + 1 s).

    python bench/drills.py [--repeat 3] [--markdown]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.compute.client import ComputePool  # noqa: E402
from app.compute.protocol import DrillJob  # noqa: E402
from app.compute.sandbox import SubmissionResult  # noqa: E402
from app.drills.loader import load_drills  # noqa: E402


def run(pool: ComputePool, d, code: str) -> tuple[float, SubmissionResult]:
    t0 = time.perf_counter()
    reply = pool.submit_sync(
        DrillJob(
            drill_id=d.id,
            submission=code,
            reference=d.reference,
            tests=d.tests,
            entry=d.entry,
            wall_s=d.time_limit_s,
        )
    )
    ms = (time.perf_counter() - t0) * 1000
    return ms, SubmissionResult.model_validate_json(reply.result_json)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    drills = load_drills(ROOT / "drills")
    pool = ComputePool()
    pool.start()
    rows = []
    try:
        for d in drills.values():
            times, ok = [], True
            for _ in range(args.repeat):
                ms, res = run(pool, d, d.reference)
                times.append(ms)
                ok &= res.status == "ok" and bool(res.verdict and res.verdict["passed"])
            rows.append((d.id, statistics.median(times), max(times), ok))
        first = next(iter(drills.values()))
        loop_ms, loop = run(pool, first, "while True:\n    pass\n")
    finally:
        pool.close()
    print("| drill | median ms | max ms | reference passes |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.0f} | {r[2]:.0f} | {'yes' if r[3] else 'NO'} |")
    print(
        f"\n{len(rows)} drills; slowest median {max(r[1] for r in rows):.0f} ms (target < 1500); "
        f"an endless loop with a {first.time_limit_s:g} s limit was reported as {loop.status!r} "
        f"after {loop_ms / 1000:.2f} s (target < {first.time_limit_s + 1:g} s)"
    )


if __name__ == "__main__":
    main()
