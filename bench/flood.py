"""The compute pool under a flood: heavy demo requests must not slow the review path.

    python bench/flood.py [--seconds 60] [--after 30] [--workers 1]

Phases, against one real server (`transformer-quiz serve` with its compute pool):
1. idle: 20 paced review clients, 2 requests a second each: 10 ask for the next card, 10 study
   (next card or a grade); the next-card clients' p50/p99.
2. flood: the same 20 review clients, plus 32 clients sending the heaviest in-bounds request of a
   demo (every numeric parameter at its maximum) with fresh seeds, back to back (a 503 from a
   full pool is honoured: the client waits its Retry-After, as a well-behaved client does).
3. after: the flood stops; memory is sampled for ``--after`` seconds.
Memory: every process of the app (uvicorn, its web workers, the compute supervisor and workers),
sampled twice a second: the sum of RSS (counts pages shared by forked workers once per process,
an over-estimate) and the sum of PSS (shares them out), and the largest web worker's RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from bench.server import Load, _paced  # noqa: E402
from tests.demos.test_worst_case import corner  # noqa: E402
from tests.live import LiveServer  # noqa: E402

HEAVY = [
    "scaling-variance",
    "softmax-saturation",
    "init-variance",
    "residual-gradients",
    "dot-vs-additive",
    "layernorm-vs-batchnorm",
]


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (by each process's parent in /proc/*/stat)."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            parent[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += [c for c, pp in parent.items() if pp == p]
    return out


def _kb(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(p: int) -> str:
    try:
        return Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Sampler(threading.Thread):
    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.samples, self.stop = root, [], False

    def run(self) -> None:
        while not self.stop:
            pids = tree(self.root)
            rss = sum(_kb(f"/proc/{p}/status", "VmRSS") for p in pids) / 1024
            pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss") for p in pids) / 1024
            web = [p for p in pids if "app.compute" not in cmdline(p)]
            web_rss = max((_kb(f"/proc/{p}/status", "VmRSS") for p in web), default=0) / 1024
            self.samples.append((time.monotonic(), rss, pss, web_rss))
            time.sleep(0.5)


async def flood(base: str, clients: int, seconds: float) -> dict[int | str, int]:
    codes: dict[int | str, int] = {}
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_connections=clients)
    ) as c:
        await c.get("/healthz")
        h = {"X-CSRF-Token": c.cookies.get("tq_csrf") or ""}

        async def one(i: int) -> None:
            rng = random.Random(i)
            while time.perf_counter() < stop:
                d = rng.choice(HEAVY)
                try:
                    r = await c.post(
                        f"/api/demos/{d}?seed={rng.randrange(2**31)}", json=corner(d), headers=h
                    )
                except httpx.TransportError:  # counted, and the client carries on
                    codes["connection lost"] = codes.get("connection lost", 0) + 1
                    continue
                codes[r.status_code] = codes.get(r.status_code, 0) + 1
                if r.status_code == 503:  # a full pool: wait as told, as a polite client does
                    codes["503 with Retry-After"] = codes.get("503 with Retry-After", 0) + (
                        "retry-after" in r.headers
                    )
                    await asyncio.sleep(float(r.headers.get("retry-after", 1)))

        await asyncio.gather(*(one(i) for i in range(clients)))
    return codes


def _flood_in_process(base: str, clients: int, seconds: float) -> dict[int | str, int]:
    return asyncio.run(flood(base, clients, seconds))


def main() -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--idle-seconds", type=float, default=20)
    ap.add_argument("--after", type=float, default=30)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--flooders", type=int, default=32)
    ap.add_argument("--reviewers", type=int, default=20)
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="tq-bench-flood-"))
    srv = LiveServer(data, ROOT / "questions", workers=args.workers, env={"TQ_ACCESS_LOG": "false"})
    t_spawn = time.perf_counter()
    with srv:
        cold = time.perf_counter() - t_spawn
        with httpx.Client(base_url=srv.url, timeout=120) as c:  # straight after the first 200
            c.get("/healthz")
            h = {"X-CSRF-Token": c.cookies.get("tq_csrf") or ""}
            t0 = time.perf_counter()
            c.post("/api/demos/causal-mask?seed=777", json={}, headers=h).raise_for_status()
            first_demo = time.perf_counter() - t0
        ids = [q["id"] for q in httpx.get(srv.url + "/api/questions").json()]

        async def again(send):
            # A kept-alive connection the server closed just then: a client sends once more.
            try:
                return await send()
            except httpx.TransportError:
                return await send()

        async def review(c, h, rng):
            if rng.random() < 0.5:
                return await again(lambda: c.get("/api/next"))
            body = {"question_id": rng.choice(ids), "rating": rng.randint(1, 4)}
            return await again(lambda: c.post("/api/reviews", json=body, headers=h))

        async def next_card(c, h, rng):
            return await again(lambda: c.get("/api/next"))

        with httpx.Client(base_url=srv.url, timeout=120) as c:  # the pool is up and warm
            c.get("/healthz")
            h = {"X-CSRF-Token": c.cookies.get("tq_csrf") or ""}
            c.post("/api/demos/scaling-variance", json={}, headers=h).raise_for_status()
        sampler = Sampler(srv.proc.pid)
        sampler.start()
        time.sleep(1)
        idle_rss = sampler.samples[-1]

        async def review_traffic(tag: str, seconds: float) -> tuple[Load, Load]:
            # The same mix in both phases, so the flood is the only difference: half the
            # clients ask for the next card, half study (next card or a grade, a write).
            n = args.reviewers // 2
            nxt, rev = await asyncio.gather(
                _paced(srv.url, f"{tag} next", next_card, n, seconds, 2.0),
                _paced(srv.url, f"{tag} review", review, n, seconds, 2.0),
            )
            return nxt, rev

        idle, idle_rev = asyncio.run(review_traffic("idle", args.idle_seconds))

        async def both():
            # The flood runs in a process of its own: parsing its replies in the review
            # clients' event loop would add the client's own delays to the latencies measured.
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(1, mp_context=ctx) as ex:
                ex.submit(int).result()  # its start and imports before the clock, not in it
                flooding = asyncio.get_running_loop().run_in_executor(
                    ex, _flood_in_process, srv.url, args.flooders, args.seconds
                )
                (nxt, rev), codes = await asyncio.gather(
                    review_traffic("flood", args.seconds), flooding
                )
                return nxt, rev, codes

        t_flood = time.monotonic()
        nxt, rev, codes = asyncio.run(both())
        t_end = time.monotonic()
        time.sleep(args.after)
        sampler.stop = True
        sampler.join()
    during = [s for s in sampler.samples if t_flood <= s[0] <= t_end]
    after = [s for s in sampler.samples if s[0] > t_end]
    peak_rss = max(s[1] for s in during)
    peak_pss = max(s[2] for s in during)
    web_peak = max(s[3] for s in sampler.samples)
    end_rss, end_pss = after[-1][1], after[-1][2]
    back = next((s[0] - t_end for s in after if s[1] < 700), None)
    out = [
        f"{args.flooders} clients flooding the heaviest demo corners with fresh seeds for "
        f"{args.seconds:.0f} s, beside {args.reviewers} paced review clients (2 req/s each); "
        f"{args.workers} web worker(s), the pool of TQ_COMPUTE_* settings "
        f"({Settings(_env_file=None).compute_workers} compute worker(s) at most)\n",
        "| | /api/next p50 ms | /api/next p99 ms | review-path 5xx | demo replies |",
        "|---|---|---|---|---|",
        f"| idle | {idle.pct(50):.1f} | {idle.pct(99):.1f} | {idle.errors + idle_rev.errors} | |",
        f"| flood | {nxt.pct(50):.1f} | {nxt.pct(99):.1f} | {nxt.errors + rev.errors} | "
        + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items(), key=str))
        + " |",
        "",
        f"- cold start (spawn → first 200 on /healthz): {cold:.2f} s (target < 3 s); the first "
        f"demo right after: {first_demo:.2f} s (target < 2 s)",
        f"- /api/next p99 under the flood: {nxt.pct(99) / idle.pct(99):.2f}× idle",
        f"- largest web-worker RSS: {web_peak:.0f} MB (idle {idle_rss[3]:.0f} MB)",
        f"- all app processes, sum of RSS: idle {idle_rss[1]:.0f} MB, peak {peak_rss:.0f} MB, "
        f"{args.after:.0f} s after {end_rss:.0f} MB"
        + (f" (under 700 MB {back:.1f} s after)" if back is not None else " (not under 700 MB)"),
        f"- all app processes, sum of PSS: idle {idle_rss[2]:.0f} MB, peak {peak_pss:.0f} MB, "
        f"after {end_pss:.0f} MB",
    ]
    print("\n".join(out))
    return out


if __name__ == "__main__":
    main()
