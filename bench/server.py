"""Throughput and latency of next-card and submit-review under concurrent clients, beside a bare
FastAPI endpoint served the same way in the same run; cold start to first 200; RSS of a worker.

    python bench/server.py [--clients 50] [--seconds 5] [--workers 1]

Ratios are what matter: the load generator shares this machine's cores with the server, so
absolute numbers say as much about the client as about the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live import LiveServer, free_port  # noqa: E402


@dataclass
class Load:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


@contextlib.asynccontextmanager
async def _client(base: str, clients: int) -> AsyncIterator[tuple[httpx.AsyncClient, dict]]:
    """A client with a connection per simulated user, and the CSRF header the server asks for."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await client.get("/healthz")
        token = client.cookies.get("tq_csrf")
        yield client, ({"X-CSRF-Token": token} if token else {})


async def _load(base: str, name: str, make_request, clients: int, seconds: float) -> Load:
    lat: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    async with _client(base, clients) as (client, headers):

        async def worker(i: int) -> None:
            nonlocal errors
            rng = random.Random(i)
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = await make_request(client, headers, rng)
                lat.append((time.perf_counter() - t0) * 1000)
                if r.status_code >= 400:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - t0
    return Load(name, len(lat), errors, elapsed, lat)


async def _paced(
    base: str, name: str, make_request, clients: int, seconds: float, rate: float
) -> Load:
    """Open loop: each client sends ``rate`` requests a second on its own clock, whether or not the
    server keeps up, the way a group of people studying at once loads the server. Latency then
    measures the server, not a queue the benchmark itself built (as the saturating run does)."""
    lat: list[float] = []
    errors = 0
    async with _client(base, clients) as (client, headers):
        t_start = time.perf_counter()

        async def one(rng: random.Random) -> None:
            nonlocal errors
            t0 = time.perf_counter()
            r = await make_request(client, headers, rng)
            lat.append((time.perf_counter() - t0) * 1000)
            errors += r.status_code >= 400

        async def worker(i: int) -> None:
            rng = random.Random(i)
            tasks = []
            t = t_start + rng.uniform(0, 1 / rate)  # clients out of phase, as people are
            while t < t_start + seconds:
                await asyncio.sleep(max(0.0, t - time.perf_counter()))
                tasks.append(asyncio.create_task(one(rng)))
                t += rng.expovariate(rate)
            await asyncio.gather(*tasks)

        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - t_start
    return Load(name, len(lat), errors, elapsed, lat)


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn workers), in MB."""
    total = 0
    pids = [pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
    except FileNotFoundError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total = max(total, int(line.split()[1]))  # the largest single process
        except FileNotFoundError:
            continue
    return total / 1024


class BareServer:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        cmd = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(self.port)]
        cmd += ["--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT)
        for _ in range(300):
            try:
                if httpx.get(self.url + "/healthz").status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("bare server did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()


def main() -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument(
        "--rate", type=float, default=1.0, help="requests a second per client in the paced run"
    )
    ap.add_argument("--bank", type=Path, default=ROOT / "questions")
    args = ap.parse_args()

    bank = args.bank
    data = Path(tempfile.mkdtemp(prefix="tq-bench-server-"))
    out: list[str] = []

    async def next_card(c, h, rng):
        return await c.get("/api/next")

    async def review(c, h, rng):
        body = {"question_id": rng.choice(ids), "rating": rng.randint(1, 4)}
        return await c.post("/api/reviews", json=body, headers=h)

    async def bare_get(c, h, rng):
        return await c.get("/bare")

    async def bare_post(c, h, rng):
        return await c.post("/bare", json={"question_id": rng.choice(ids), "rating": 3})

    env = {"TQ_ACCESS_LOG": "false"}
    t0 = time.perf_counter()
    srv = LiveServer(data, bank, workers=args.workers, env=env)
    with srv:
        cold = time.perf_counter() - t0
        ids = [q["id"] for q in httpx.get(srv.url + "/api/questions").json()]
        # One demo first: it waits for the background torch import, which would otherwise
        # compete with the first load for the GIL, and the RSS below then includes torch.
        with httpx.Client(base_url=srv.url, timeout=60) as c:
            c.get("/healthz")
            h = {"X-CSRF-Token": c.cookies.get("tq_csrf") or ""}
            c.post("/api/demos/scaling-variance", json={}, headers=h).raise_for_status()
        # A discarded second of load first, for both servers alike: connection pools, the
        # thread pool and SQLite's page cache fill before anything is timed.
        asyncio.run(_load(srv.url, "warm-up", next_card, args.clients, 1.0))
        loads = [
            asyncio.run(
                _load(srv.url, "next card (GET /api/next)", next_card, args.clients, args.seconds)
            ),
            asyncio.run(
                _load(
                    srv.url, "submit review (POST /api/reviews)", review, args.clients, args.seconds
                )
            ),
        ]
        paced = [
            asyncio.run(_paced(srv.url, ld.name, fn, args.clients, args.seconds, args.rate))
            for ld, fn in zip(loads, (next_card, review), strict=True)
        ]
        rss = _rss_mb(srv.proc.pid)
    with BareServer() as bare:
        asyncio.run(_load(bare.url, "warm-up", bare_get, args.clients, 1.0))
        bare_loads = [
            asyncio.run(_load(bare.url, "bare GET", bare_get, args.clients, args.seconds)),
            asyncio.run(
                _load(bare.url, "bare POST (pydantic body)", bare_post, args.clients, args.seconds)
            ),
        ]
        paced += [
            asyncio.run(_paced(bare.url, ld.name, fn, args.clients, args.seconds, args.rate))
            for ld, fn in zip(bare_loads, (bare_get, bare_post), strict=True)
        ]

    out.append(
        f"{args.clients} concurrent clients, {args.seconds:.0f} s each, {args.workers} worker(s), "
        f"{os.cpu_count()} cores shared with the load generator\n"
    )
    out.append("| endpoint | req/s | p50 ms | p99 ms | errors | vs bare |")
    out.append("|---|---|---|---|---|---|")
    for load, base in zip(loads, bare_loads, strict=True):
        out.append(
            f"| {load.name} | {load.rps:.0f} | {load.pct(50):.1f} | {load.pct(99):.1f} | "
            f"{load.errors} | {load.rps / base.rps:.0%} of {base.name} |"
        )
    for base in bare_loads:
        out.append(
            f"| {base.name} | {base.rps:.0f} | {base.pct(50):.1f} | {base.pct(99):.1f} | {base.errors} | 100% |"
        )
    out.append("")
    out.append(
        f"Paced: the same {args.clients} clients, each sending {args.rate:g} request(s) a second "
        "on its own clock (open loop; a person grades a card every few seconds)\n"
    )
    out.append("| endpoint | req/s | p50 ms | p99 ms | errors |")
    out.append("|---|---|---|---|---|")
    for ld in paced:
        out.append(
            f"| {ld.name} | {ld.rps:.0f} | {ld.pct(50):.1f} | {ld.pct(99):.1f} | {ld.errors} |"
        )
    out.append("")
    out.append(f"- cold start (spawn → migrate → load bank → first 200 on /healthz): {cold:.2f} s")
    out.append(f"- RSS of one worker after the load and a demo (torch loaded): {rss:.0f} MB")
    print("\n".join(out))
    return out


if __name__ == "__main__":
    main()
