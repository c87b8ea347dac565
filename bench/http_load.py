"""The request path under load, measured with a C load generator beside a bare FastAPI endpoint.

    python bench/http_load.py                 # the full matrix (about 10 minutes), Markdown on stdout
    python bench/http_load.py --quick         # SQLite, 1 worker, empty and one-year DB, c=10 and 50
    python bench/http_load.py --variant before=/tmp/old-checkout --variant after=.   # A/B, same run

Method. ``wrk`` (Debian's package; ``make bench`` installs it) drives each server with one thread
and 1, 10 or 50 keep-alive connections. Where the machine has a core to spare, wrk runs on core 0
and the server on the others (``taskset``), so the generator does not steal the server's CPU; with
more workers than spare cores the server gets every core and shares one with wrk, which the
output says. For each backend every server is up at once, idle unless measured: the bare app
(bench/bare_app.py) and every variant of ours, for each worker count and each history. Each cell's
runs are interleaved across all of them (run 1 of every server, then run 2, ...), so that the
noise of a shared machine falls on all alike and every ratio (to bare, busy day to one year, two
workers to one) compares runs made close together: read the ratios, not the absolutes.
Each cell: a discarded warm-up, then ``--runs`` timed runs; the median and the spread (min-max)
of the throughput, the median p50/p99, and the server's CPU per request: the utime+stime that
/proc/<pid>/stat shows for every process of the server (the uvicorn supervisor and its workers)
across the run, divided by the requests wrk completed. On PostgreSQL the database's own CPU per
request (every process of the throwaway cluster) is shown beside it.

Databases: ``empty`` (the local user, nothing studied), ``year`` (a year of study, ~30,000
reviews) and ``busy`` (the year plus 1,000 reviews today); see bench/seed.py. Every server gets
its own copy. Within a server next card is measured first, then review, which adds reviews: the
history named is the one each server starts from.

The compute pool (demos, drills) is not started: these endpoints never use it, and its torch
import would compete for the cores. Cold start is measured separately, with the pool, as
``transformer-quiz serve`` runs in production.

Profile. ``--profile DIR`` also samples each app worker with py-spy (``record --nonblocking --gil
--format raw``: only the thread holding the GIL, so idle threads and the loop's wait are left
out, and so is SQLite's own work, done with the GIL released) during every timed run, writes the
raw stacks to DIR, and prints where the samples fall by bucket (``profile_buckets``);
bench/PROFILE.md is made from it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.seed import HISTORIES  # noqa: E402

PY = sys.executable
PY_SPY = str(Path(PY).with_name("py-spy"))
TICK = os.sysconf("SC_CLK_TCK")
ENDPOINTS = ("next", "review")
BACKENDS = ("sqlite", "postgres")
ENDPOINT_NAMES = {"next": "next card (GET /api/next)", "review": "review (POST /api/reviews)"}
BARE_NAMES = {"next": "bare GET", "review": "bare POST"}

# wrk's report, one JSON line, read back by parse_wrk.
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def lua_get(token: str) -> str:
    # The CSRF cookie a browser holds: without it every response would mint and set a new one.
    return f'wrk.headers["Cookie"] = "tq_csrf={token}"\n' + _DONE


def lua_post(token: str, qids: list[str]) -> str:
    """POST a grade per request, the question id rotating through the bank, with the CSRF cookie
    and header the page's script sends."""
    ids = ",".join(json.dumps(q) for q in qids)
    return (
        f"""
local ids = {{{ids}}}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = "tq_csrf={token}"
wrk.headers["X-CSRF-Token"] = "{token}"
request = function()
  i = i % #ids + 1
  local body = '{{"question_id":"' .. ids[i] .. '","rating":' .. (i % 4 + 1) .. '}}'
  return wrk.format(nil, nil, nil, body)
end
"""
        + _DONE
    )


# ---- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (scanning /proc: children files need CONFIG_PROC_CHILDREN)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += [c for c, pp in parent.items() if pp == p]
    return out


def cpu_ticks(pids: list[int]) -> dict[int, int]:
    """utime + stime of each of these processes (fields 14 and 15 of /proc/<pid>/stat)."""
    out = {}
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited
        out[p] = int(fields[11]) + int(fields[12])
    return out


def cpu_between(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds spent between two readings by the processes alive at the second (one that
    started in between counts from zero)."""
    return sum(t - before.get(p, 0) for p, t in after.items()) / TICK


@dataclass
class Server:
    """A server in its own process group, pinned to ``cpus``."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    cwd: Path
    cpus: str | None
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    pids: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> float:
        """Start, wait for the first 200 on /healthz; the seconds that took."""
        cmd = [*self.cmd, "--port", str(self.port)]
        if self.cpus is not None:
            cmd = ["taskset", "-c", self.cpus, *cmd]
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            env=self.env,
            cwd=self.cwd,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with httpx.Client(timeout=1.0) as c:
            while time.perf_counter() - t0 < timeout:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
                try:
                    if c.get(self.url + "/healthz").status_code == 200:
                        return time.perf_counter() - t0
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer in {timeout} s:\n{self.log.read_text()}")

    def settle(self) -> None:
        """Remember the process tree (the workers are up once /healthz answered a few times)."""
        assert self.proc is not None
        self.pids = tree(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


# ---- PostgreSQL ------------------------------------------------------------------------------


class Postgres:
    """A throwaway cluster of our own (scripts/pg-test-server, on its own directory and port, so
    that it never meets a test run's), one database per server, copied from a seeded template."""

    def __init__(self) -> None:
        # Outside our private (0700) work directory: the server runs as the postgres user.
        self.parent = Path(tempfile.mkdtemp(prefix="tq-bench-pg-"))
        self.parent.chmod(0o755)
        self.dir = self.parent / "pg"
        self.port = free_port()
        self.env = {**os.environ, "TQ_PG_DIR": str(self.dir), "TQ_PG_PORT": str(self.port)}
        self.admin = f"postgresql://tq@127.0.0.1:{self.port}/postgres"

    def __enter__(self) -> Postgres:
        script = str(ROOT / "scripts" / "pg-test-server")
        subprocess.run([script, "start"], env=self.env, check=True, stdout=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc: object) -> None:
        script = str(ROOT / "scripts" / "pg-test-server")
        subprocess.run([script, "stop"], env=self.env, check=False, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.parent, ignore_errors=True)

    def sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(
            self.admin.replace("postgresql://", "postgres://"), autocommit=True
        ) as c:
            c.execute(statement)  # type: ignore[arg-type]

    def url(self, db: str) -> str:
        return f"postgresql://tq@127.0.0.1:{self.port}/{db}"

    def pids(self) -> list[int]:
        pidfile = self.dir / "data" / "postmaster.pid"
        return tree(int(pidfile.read_text().split()[0]))


# ---- measuring -------------------------------------------------------------------------------


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # server CPU per request
    db_cpu_ms: float | None
    errors: int


@dataclass
class Cell:
    target: str  # "bare" or a variant name
    backend: str
    workers: int
    history: str  # "-" for the bare app
    endpoint: str
    conc: int
    runs: list[Run] = field(default_factory=list)

    def med(self, attr: str) -> float:
        xs = [getattr(r, attr) for r in self.runs if getattr(r, attr) is not None]
        return statistics.median(xs) if xs else float("nan")

    @property
    def rps(self) -> float:
        return self.med("rps")

    @property
    def spread(self) -> str:
        xs = [r.rps for r in self.runs]
        return f"{min(xs):.0f}–{max(xs):.0f}"

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)


def wrk(url: str, script: Path, conc: int, seconds: int, cpu: str | None) -> dict[str, int]:
    cmd = ["wrk", "-t1", f"-c{conc}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url]
    if cpu is not None:
        cmd = ["taskset", "-c", cpu, *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("WRK "):
            return json.loads(line[4:])
    raise RuntimeError(f"no report from wrk:\n{out}")


def measure(
    srv: Server,
    path: str,
    script: Path,
    conc: int,
    seconds: int,
    wrk_cpu: str | None,
    pg: Postgres | None,
    profile: Path | None = None,
) -> Run:
    spy = None
    if profile is not None:  # every worker (the supervisor only waits), appended to one file
        out = profile / f"{srv.name}-{path.strip('/').replace('/', '-')}-c{conc}.raw"
        spy = [
            subprocess.Popen(
                [PY_SPY, "record", "--nonblocking", "--gil", "--format", "raw", "--rate", "250"]
                + ["--duration", str(seconds), "--pid", str(pid), "-o", f"{out}.{pid}"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid in srv.pids[1:] or srv.pids
        ]
        time.sleep(0.3)  # py-spy attaches
    c0, d0 = cpu_ticks(srv.pids), cpu_ticks(pg.pids() if pg else [])
    r = wrk(srv.url + path, script, conc, seconds, wrk_cpu)
    c1, d1 = cpu_ticks(srv.pids), cpu_ticks(pg.pids() if pg else [])
    for proc in spy or ():
        proc.wait()
    n = max(1, r["requests"])
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return Run(
        rps=r["requests"] / (r["duration_us"] / 1e6),
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        cpu_ms=cpu_between(c0, c1) * 1000 / n,
        db_cpu_ms=cpu_between(d0, d1) * 1000 / n if pg else None,
        errors=errors,
    )


# ---- the run ---------------------------------------------------------------------------------


@dataclass
class Options:
    seconds: int
    runs: int
    warmup: int
    conc: list[int]
    workers: list[int]
    backends: list[str]
    histories: list[str]
    endpoints: list[str]
    variants: dict[str, Path]
    cold_starts: int
    profile: Path | None = None


def placement(workers: int) -> tuple[str | None, str | None, str]:
    """(wrk's cpus, the server's cpus, a note) for ``workers`` server processes."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, None, "one core: wrk and the server share it"
    gen = str(cores[0])
    if len(cores) - 1 >= workers:
        srv = ",".join(map(str, cores[1 : 1 + workers]))
        return gen, srv, f"wrk on core {gen}, server on core(s) {srv}"
    allc = ",".join(map(str, cores))
    return gen, allc, f"wrk on core {gen}, server on cores {allc} (shares core {gen} with wrk)"


def app_env(data: Path, db_url: str | None, sock: Path, src: Path = ROOT) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TQ_") and k not in ("DATABASE_URL", "PYTHONPATH")
    }
    env.update(
        TQ_DATA_DIR=str(data),
        TQ_QUESTIONS_DIR=str(src / "questions"),
        TQ_DRILLS_DIR=str(src / "drills"),
        TQ_ACCESS_LOG="false",
        TQ_COMPUTE_SOCKET=str(sock),
    )
    if db_url:
        env["TQ_DATABASE_URL"] = db_url
    return env


@contextlib.contextmanager
def dummy_pool(workdir: Path) -> Iterator[Path]:
    """A socket that accepts connections, so the workers' background wait for a compute pool
    ends at once; no pool runs (see the module docstring)."""
    path = workdir / "pool.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(path))
        s.listen(64)
        yield path


def seed(db_url: str, history: str, src: Path) -> None:
    """bench/seed.py with the code and migrations of ``src`` (the first variant: the oldest
    schema, which the others' servers migrate forward when they start)."""
    cmd = [PY, str(ROOT / "bench" / "seed.py"), db_url, history, "--bank", str(src / "questions")]
    subprocess.run([*cmd, "--app-dir", str(src)], check=True, cwd=src, stdout=subprocess.DEVNULL)


def csrf_token(url: str) -> str:
    r = httpx.get(url + "/healthz", timeout=10)
    return r.cookies.get("tq_csrf") or "bench-token"


def run_backend(
    opts: Options,
    backend: str,
    workdir: Path,
    sock: Path,
    pg: Postgres | None,
    seeded: dict[str, str],
    qids: list[str],
    log: Path,
) -> list[Cell]:
    """Every server of one backend up at once (the bare app and each variant, for every worker
    count and history; idle unless measured), and each (endpoint, concurrency) cell measured
    with its runs interleaved across all of them: the ratios to bare, busy day to one year and
    two workers to one then compare runs made minutes apart at most."""
    servers: dict[tuple[str, int, str], Server] = {}
    bare_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for w in opts.workers:
        servers[("bare", w, "-")] = Server(
            f"bare-{w}",
            [PY, "-m", "uvicorn", "bench.bare_app:app", "--workers", str(w)]
            + ["--log-level", "warning", "--no-access-log"],
            bare_env,
            ROOT,
            placement(w)[1],
            log,
        )
        for history in opts.histories:
            for name, vdir in opts.variants.items():
                data = workdir / f"{backend}-{w}-{history}-{name}"
                data.mkdir()
                if pg is None:
                    shutil.copy(seeded[history], data / "quiz.db")
                    db_url = None
                else:
                    db = f"b_{w}_{history}_{name}".replace("-", "_").lower()
                    pg.sql(f"DROP DATABASE IF EXISTS {db}")
                    pg.sql(f"CREATE DATABASE {db} TEMPLATE {seeded[history]}")
                    db_url = pg.url(db)
                servers[(name, w, history)] = Server(
                    f"{name}-{w}-{history}",
                    [PY, "-m", "app.cli", "serve", "--workers", str(w)],
                    app_env(data, db_url, sock, vdir),
                    vdir,
                    placement(w)[1],
                    log,
                )
    gen_cpu = placement(1)[0]
    path = {"next": "/api/next", "review": "/api/reviews"}
    cells: list[Cell] = []
    try:
        for srv in servers.values():
            srv.start()
        time.sleep(0.5 * max(opts.workers))
        scripts: dict[tuple[tuple[str, int, str], str], Path] = {}
        for i, (key, srv) in enumerate(servers.items()):
            srv.settle()
            token = csrf_token(srv.url)
            for ep in opts.endpoints:
                p = workdir / f"{backend}-{i}-{ep}.lua"
                p.write_text(lua_get(token) if ep == "next" else lua_post(token, qids))
                scripts[(key, ep)] = p

        def url_path(key: tuple[str, int, str], ep: str) -> str:
            return "/bare" if key[0] == "bare" else path[ep]

        for ep in opts.endpoints:
            if opts.warmup > 0:  # discarded: once per server and endpoint
                for key, srv in servers.items():
                    measure(
                        srv, url_path(key, ep), scripts[(key, ep)], opts.conc[-1], opts.warmup,
                        gen_cpu, None,
                    )  # fmt: skip
            for conc in opts.conc:
                group = {key: Cell(key[0], backend, key[1], key[2], ep, conc) for key in servers}
                for _ in range(opts.runs):
                    for key, srv in servers.items():
                        run = measure(
                            srv, url_path(key, ep), scripts[(key, ep)], conc, opts.seconds,
                            gen_cpu, pg if key[0] != "bare" else None,
                            opts.profile if key[0] != "bare" else None,
                        )  # fmt: skip
                        group[key].runs.append(run)
                cells += group.values()
                progress(group.values())
    finally:
        for srv in servers.values():
            srv.stop()
    return cells


def progress(cells: object) -> None:
    for c in cells:  # type: ignore[attr-defined]
        print(
            f"  {c.target:>8} {c.backend:8} w={c.workers} {c.history:5} {c.endpoint:6} "
            f"c={c.conc:<3} {c.rps:7.0f} req/s ({c.spread}) p99 {c.med('p99_ms'):6.1f} ms "
            f"cpu {c.med('cpu_ms'):.2f} ms/req err {c.errors}",
            file=sys.stderr,
            flush=True,
        )


def cold_start(opts: Options, workdir: Path, log: Path) -> dict[str, list[float]]:
    """``transformer-quiz serve`` as production runs it (its compute pool too) on a fresh SQLite
    file: seconds from spawn to the first 200 on /healthz, for each variant in turn."""
    times: dict[str, list[float]] = {n: [] for n in opts.variants}
    for i in range(opts.cold_starts):
        for name, src in opts.variants.items():
            data = workdir / f"cold-{name}-{i}"
            data.mkdir()
            env = app_env(data, None, workdir / "none.sock", src)
            del env["TQ_COMPUTE_SOCKET"]
            s = Server("cold", [PY, "-m", "app.cli", "serve"], env, src, None, log)
            try:
                times[name].append(s.start())
            finally:
                s.stop()
    return times


# ---- report ----------------------------------------------------------------------------------


def pct(x: float) -> str:
    return f"{x:.0%}"


def report(cells: list[Cell], opts: Options, cold: dict[str, list[float]]) -> str:
    out: list[str] = []
    bare = {(c.backend, c.workers, c.endpoint, c.conc): c for c in cells if c.target == "bare"}
    notes = sorted({placement(w)[2] + f" ({w} worker{'s' * (w > 1)})" for w in opts.workers})
    out.append(
        f"wrk, 1 thread; {opts.runs} run(s) of {opts.seconds} s per cell, interleaved across "
        f"every server of the backend (bare included), after a {opts.warmup} s warm-up per "
        f"server and endpoint; {'; '.join(notes)}. "
        "req/s: median (min–max); p50/p99: medians; CPU: server (uvicorn processes) CPU "
        "time per request, and on PostgreSQL the database's own. *vs bare*: throughput over "
        "the bare endpoint's in the same cell (same backend, workers, concurrency).\n"
    )
    out.append(
        "| target | DB | workers | history | endpoint | conc | req/s | vs bare | p50 ms "
        "| p99 ms | p99 vs bare | CPU ms/req | DB CPU ms/req | errors |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    order = {h: i for i, h in enumerate(("-", *HISTORIES))}
    for c in sorted(
        cells,
        key=lambda c: (
            c.backend,
            c.workers,
            c.endpoint,
            c.target != "bare",
            c.target,
            order[c.history],
            c.conc,
        ),
    ):
        b = bare.get((c.backend, c.workers, c.endpoint, c.conc))
        vs = pct(c.rps / b.rps) if b and c.target != "bare" else "—"
        p99 = f"{c.med('p99_ms') / b.med('p99_ms'):.1f}×" if b and c.target != "bare" else "—"
        db = c.med("db_cpu_ms")
        hist = "—" if c.history == "-" else c.history
        name = BARE_NAMES[c.endpoint] if c.target == "bare" else ENDPOINT_NAMES[c.endpoint]
        if len(opts.variants) > 1 and c.target != "bare":
            name = f"{name} [{c.target}]"
        out.append(
            f"| {name} | {c.backend} | {c.workers} | {hist} | {c.endpoint} | {c.conc} "
            f"| {c.rps:.0f} ({c.spread}) | {vs} | {c.med('p50_ms'):.2f} | {c.med('p99_ms'):.2f} "
            f"| {p99} | {c.med('cpu_ms'):.2f} | {'—' if db != db else f'{db:.2f}'} | {c.errors} |"
        )
    out.append("")
    out += bars(cells, bare)
    for name, ts in cold.items():
        if ts:
            label = f" [{name}]" if len(cold) > 1 else ""
            out.append(
                f"- cold start{label} (`transformer-quiz serve`: spawn → migrate → load bank → "
                f"first 200 on /healthz), {len(ts)} starts: median {statistics.median(ts):.2f} s "
                f"(min {min(ts):.2f}, max {max(ts):.2f})"
            )
    return "\n".join(out)


def bars(cells: list[Cell], bare: dict[tuple[str, int, str, int], Cell]) -> list[str]:
    """The issue's bars, each checked against the cells it names (those that were measured)."""
    lines = ["| bar | measured | met |", "|---|---|---|"]
    app = [c for c in cells if c.target != "bare"]

    def find(**kw: object) -> list[Cell]:
        return [c for c in app if all(getattr(c, k) == v for k, v in kw.items())]

    def row(bar: str, measured: list[str], ok: bool | None) -> None:
        if measured:
            verdict = "—" if ok is None else ("yes" if ok else "**no**")
            lines.append(f"| {bar} | {'; '.join(measured)} | {verdict} |")

    for backend in BACKENDS:
        sel = [
            c
            for c in find(backend=backend, workers=1)
            if c.conc in (10, 50) and c.history in ("empty", "year")
        ]
        ratios = [
            (c, c.rps / bare[(c.backend, 1, c.endpoint, c.conc)].rps)
            for c in sel
            if (c.backend, 1, c.endpoint, c.conc) in bare
        ]
        row(
            f"{backend}, 1 worker: next card and review ≥ 40% of bare at c=10 and 50, "
            "empty and one-year DB",
            [f"{c.endpoint} {c.history} c={c.conc} {pct(r)}" for c, r in ratios],
            all(r >= 0.4 for _, r in ratios),
        )
        row(
            f"{backend}, 1 worker: server CPU ≤ 0.5 ms per request",
            [f"{c.endpoint} {c.history} c={c.conc} {c.med('cpu_ms'):.2f}" for c in sel],
            all(c.med("cpu_ms") <= 0.5 for c in sel),
        )
        p99 = [
            (c, c.med("p99_ms") / bare[(c.backend, 1, c.endpoint, 50)].med("p99_ms"))
            for c in sel
            if c.conc == 50 and (c.backend, 1, c.endpoint, 50) in bare
        ]
        row(
            f"{backend}, 1 worker: p99 at c=50 ≤ 3× bare's",
            [f"{c.endpoint} {c.history} {r:.1f}×" for c, r in p99],
            all(r <= 3 for _, r in p99),
        )
        busy = []
        for c in find(backend=backend, workers=1, endpoint="next", history="busy"):
            year = find(backend=backend, workers=1, endpoint="next", history="year", conc=c.conc)
            if year and year[0].target == c.target:
                busy.append((c, 1 - c.rps / year[0].rps))
        row(
            f"{backend}: a busy day (1,000 reviews today) costs next card < 10% (vs one-year DB)",
            [f"c={c.conc} {d:+.0%}" for c, d in busy],
            all(d < 0.10 for _, d in busy),
        )
        for ep, need in (("next", 1.7), ("review", 1.5 if backend == "postgres" else None)):
            scale = []
            for c in find(backend=backend, workers=2, endpoint=ep):
                one = [
                    x
                    for x in find(backend=backend, workers=1, endpoint=ep, conc=c.conc)
                    if x.history == c.history and x.target == c.target
                ]
                if one and c.conc >= 10:
                    scale.append((c, c.rps / one[0].rps))
            what = "reads" if ep == "next" else "writes"
            row(
                f"{backend}: 1 → 2 workers, {what}"
                + (f" ≥ {need}×" if need else " (SQLite: one writer at a time)"),
                [f"{c.history} c={c.conc} {r:.2f}×" for c, r in scale],
                all(r >= need for _, r in scale) if need else None,
            )
    lines.append("")
    return lines


# ---- profile ---------------------------------------------------------------------------------

# Where a sample goes. First, what the request was doing in our code: the first of these phases
# any frame of the stack names (so the SQLAlchemy and driver work under a phase counts in it).
APP_PHASES = (
    (
        "the user's cards: version read, cache, read + check",
        r"^cards_by_question |^user_cards |^_load_cards |card_version",
    ),
    (
        "card version + prefs row (one statement), Prefs",
        r"^_member_prefs |^for_request |^_version_and_prefs ",
    ),
    ("new cards today (count)", r"^new_cards_today "),
    ("day bounds, zones", r"^day_bounds |^extra_new_today |^local_today |^day_start "),
    ("FSRS (preview, grade)", r"\(app/srs\.py"),
    ("grade: statements + commit", r"^_submit_once |^write_turn "),
    ("queue logic (next card, counts)", r"^next_card |^queue_counts[ .]|^_most_overdue "),
    ("response models + JSON", r"model_dump_json|^card_out |^summary |BaseModel\.__init__"),
    ("session open/close", r"^Session\.|^SessionTransaction|_ConnectionFairy|pool/impl"),
    ("request body + ReviewIn", r"request_body|_validate_value|Request\.json|Request\.body"),
    ("our endpoint, other", r"\(app/(services|study/|web/api|web/deps|web/auth|models)"),
)
# Otherwise the framework layer of the innermost frame that names one.
FRAMEWORK_LAYERS = (
    ("thread-pool hop (anyio)", r"anyio/|run_in_threadpool|to_thread|threading\.py"),
    ("dependency solving (FastAPI)", r"solve_dependencies|dependencies/"),
    ("middleware chain", r"[Mm]iddleware|_exception_handler|_body_limit|telemetry|web/security"),
    ("routing (Starlette/FastAPI)", r"routing\.py|applications\.py"),
    ("uvicorn HTTP protocol", r"uvicorn/|httptools|h11"),
    ("event loop (uvloop/asyncio)", r"asyncio|uvloop|Runner\.run"),
    ("SQLAlchemy (partial stack)", r"sqlalchemy"),
)


def profile_buckets(raw: list[tuple[list[str], int]]) -> dict[str, int]:
    """Samples by bucket, from py-spy raw stacks (frames root first)."""
    import re

    out: dict[str, int] = {}
    for frames, n in raw:
        name = next((b for b, rx in APP_PHASES if any(re.search(rx, f) for f in frames)), None)
        if name is None:
            name = "other"
            for f in reversed(frames):
                hit = next((b for b, rx in FRAMEWORK_LAYERS if re.search(rx, f)), None)
                if hit is not None:
                    name = hit
                    break
        out[name] = out.get(name, 0) + n
    return out


def read_raw(path: Path) -> list[tuple[list[str], int]]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():  # a frame with a newline in it breaks its line: dropped
            out.append((stack.split(";"), int(n)))
    return out


def profile_report(folder: Path) -> str:
    """One table per server and endpoint: the share of samples in each bucket."""
    groups: dict[str, list[tuple[list[str], int]]] = {}
    for f in sorted(folder.glob("*.raw.*")):
        key = f.name.split(".raw.")[0].rsplit("-c", 1)[0]
        groups.setdefault(key, []).extend(read_raw(f))
    lines = ["## Profile (py-spy --gil, share of samples)", ""]
    for key, raw in groups.items():
        b = profile_buckets(raw)
        total = sum(b.values()) or 1
        lines += [f"{key}: {total} samples", ""]
        lines += [
            f"| {100 * n / total:5.1f}% | {name} |"
            for name, n in sorted(b.items(), key=lambda x: -x[1])
        ]
        lines.append("")
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> Options:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a short development run")
    ap.add_argument("--seconds", type=int, help="each timed run, whole seconds (default 1)")
    ap.add_argument("--runs", type=int, help="timed runs per cell (default 4)")
    ap.add_argument("--warmup", type=int, help="discarded seconds per endpoint (default 1)")
    ap.add_argument("--conc", help="connections, comma-separated (default 1,10,50)")
    ap.add_argument("--workers", help="uvicorn workers, comma-separated (default 1,2)")
    ap.add_argument("--backends", help="sqlite,postgres (default both); none: cold start only")
    ap.add_argument("--histories", help="empty,year,busy (default all)")
    ap.add_argument("--endpoints", help="next,review (default both)")
    ap.add_argument("--cold-starts", type=int, help="cold starts timed (default 3)")
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="serve the app from this checkout too (repeatable; default: this one as 'app')",
    )
    ap.add_argument("--profile", metavar="DIR", help="py-spy the app workers; raw stacks to DIR")
    a = ap.parse_args(argv)
    q = a.quick

    def csv(v: str | None, default: str) -> list[str]:
        return [x for x in (v or default).split(",") if x]

    variants = {n: Path(d).resolve() for n, d in (v.split("=", 1) for v in a.variant)}
    return Options(
        seconds=a.seconds or 1,
        runs=a.runs or (2 if q else 4),
        warmup=a.warmup if a.warmup is not None else 1,
        conc=[int(x) for x in csv(a.conc, "10,50" if q else "1,10,50")],
        workers=[int(x) for x in csv(a.workers, "1" if q else "1,2")],
        backends=[b for b in csv(a.backends, "sqlite" if q else "sqlite,postgres") if b != "none"],
        histories=csv(a.histories, "empty,year" if q else "empty,year,busy"),
        endpoints=csv(a.endpoints, "next,review"),
        variants=variants or {"app": ROOT},
        cold_starts=a.cold_starts if a.cold_starts is not None else (1 if q else 3),
        profile=Path(a.profile).resolve() if a.profile else None,
    )


def main(argv: list[str] | None = None) -> None:
    opts = parse(argv)
    if shutil.which("wrk") is None:
        sys.exit(
            "bench/http_load.py needs wrk, the C load generator: `apt-get install wrk` (Debian/Ubuntu; "
            "`make bench` does it), or your system's package of it."
        )
    from app.bank.loader import load_bank

    first = next(iter(opts.variants.values()))
    qids = sorted(load_bank(first / "questions").questions)
    workdir = Path(tempfile.mkdtemp(prefix="tq-bench-http-"))
    log = workdir / "servers.log"
    if opts.profile is not None:
        if not Path(PY_SPY).exists():
            sys.exit(f"--profile needs py-spy: {PY} -m pip install py-spy")
        opts.profile.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    cells: list[Cell] = []
    cold: dict[str, list[float]] = {}
    ok = False
    try:
        cold = cold_start(opts, workdir, log)
        with dummy_pool(workdir) as sock:
            for backend in opts.backends:
                with contextlib.ExitStack() as stack:
                    pg = stack.enter_context(Postgres()) if backend == "postgres" else None
                    seeded: dict[str, str] = {}
                    for h in opts.histories:
                        if pg is None:
                            f = workdir / f"seed-{h}.db"
                            seed(f"sqlite:///{f}", h, first)
                            seeded[h] = str(f)
                        else:
                            pg.sql(f"CREATE DATABASE seed_{h}")
                            seed(pg.url(f"seed_{h}"), h, first)
                            seeded[h] = f"seed_{h}"
                    print(f"{backend}:", file=sys.stderr, flush=True)
                    cells += run_backend(opts, backend, workdir, sock, pg, seeded, qids, log)
        ok = True
    except BaseException:
        ok = False
        raise
    finally:
        elapsed = time.perf_counter() - t0
        print(report(cells, opts, cold))
        if opts.profile is not None:
            print(profile_report(opts.profile))
        print(f"\n{elapsed:.0f} s for the whole run.")
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"Kept for a look: {workdir} (server logs: {log})", file=sys.stderr)


if __name__ == "__main__":
    main()
