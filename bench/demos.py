"""Every demo at its default parameters: raw compute vs served cold vs served cached.

raw    = the demo function alone, in this process (median of --repeat runs, after a warm-up run)
cold   = POST /api/demos/{id} with a seed not seen before: validation, the hand-off to a compute
         worker process over its socket, compute there, JSON back (median of --repeat seeds)
over   = cold minus the compute time the worker measured for that same request: what serving
         through the pool adds (target: <= 5 ms at the median)
cached = the same POST again (a hit in the pool's shared cache)
(Requests go to the ASGI app in-process through httpx: the app's cost without a socket, and
without TestClient's per-request thread hop, which alone costs more than a cached hit.)
worst  = the demo function alone at its heaviest in-bounds corner (every numeric parameter at its
         maximum): what one visitor can ask of a worker; the runner's timeout caps it
Ratios are measured in this one run, on this machine; targets: cold < 100 ms, cached < 5 ms.

    python bench/demos.py [--repeat 5] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.demos import REGISTRY, load_all  # noqa: E402
from app.main import create_app  # noqa: E402
from tests.demos.test_worst_case import corner  # noqa: E402


def _ms(fn, *args, **kw) -> float:
    t0 = time.perf_counter()
    fn(*args, **kw)
    return (time.perf_counter() - t0) * 1000


async def _ams(coro) -> float:
    t0 = time.perf_counter()
    await coro
    return (time.perf_counter() - t0) * 1000


async def bench_one(client: httpx.AsyncClient, headers: dict, demo_id: str, repeat: int):
    demo = REGISTRY[demo_id]
    p = demo.params()
    demo.run(p, 0)  # warm-up: first-call kernel/dispatch costs are not the demo's
    raw = statistics.median(_ms(demo.run, p, 1) for _ in range(repeat))

    def post(seed: int):
        return client.post(f"/api/demos/{demo_id}?seed={seed}", json={}, headers=headers)

    colds, overs = [], []
    for seed in range(12345, 12345 + repeat):
        t0 = time.perf_counter()
        r = await post(seed)
        r.raise_for_status()
        colds.append((time.perf_counter() - t0) * 1000)
        overs.append(colds[-1] - r.json()["elapsed_ms"])
    cold, over = statistics.median(colds), statistics.median(overs)
    cached = statistics.median([await _ams(post(12345)) for _ in range(repeat)])
    worst = _ms(demo.run, demo.params.model_validate(corner(demo_id)), 0)
    return demo_id, raw, cold, over, cached, worst


async def _bench_all(app, repeat: int) -> list:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        await client.get("/healthz")
        token = client.cookies.get("tq_csrf")
        headers = {"X-CSRF-Token": token} if token else {}
        # The pool up and its workers warm, as on a server that has started.
        (
            await client.post("/api/demos/causal-mask?seed=1", json={}, headers=headers)
        ).raise_for_status()
        try:
            return [await bench_one(client, headers, d, repeat) for d in sorted(REGISTRY)]
        finally:
            app.state.pool.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()

    load_all()
    import torch

    torch.set_num_threads(1)  # raw compute as a worker runs it (PoolLimits.threads)
    tmp = Path(tempfile.mkdtemp(prefix="tq-bench-"))
    settings = Settings(data_dir=tmp, questions_dir=ROOT / "questions", _env_file=None)
    app = create_app(settings)
    rows = asyncio.run(_bench_all(app, args.repeat))

    head = ["demo", "raw ms", "cold ms", "over ms", "cached ms", "cold/raw", "worst ms"]
    lines = []
    for demo_id, raw, cold, over, cached, worst in rows:
        lines.append(
            [
                demo_id,
                f"{raw:.1f}",
                f"{cold:.1f}",
                f"{over:.1f}",
                f"{cached:.2f}",
                f"{cold / raw:.2f}",
                f"{worst:.0f}",
            ]
        )
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in lines:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in lines)) for i, h in enumerate(head)]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
        for r in lines:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    slow = [r[0] for r in rows if r[2] >= 100]
    slow_cache = [r[0] for r in rows if r[4] >= 5]
    overs = sorted(r[3] for r in rows)
    print(
        f"\n{len(rows)} demos; cold >= 100 ms: {slow or 'none'}; cached >= 5 ms: "
        f"{slow_cache or 'none'}; pool overhead over compute: median {statistics.median(overs):.1f} ms, "
        f"max {overs[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
