"""A real server in a subprocess: `transformer-quiz serve`, the command `make run` and the Docker
image run, on a free port. For the browser, concurrency and crash tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(
        self,
        data_dir: Path,
        questions_dir: Path,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ):
        self.data_dir = data_dir
        self.questions_dir = questions_dir
        self.workers = workers
        self.extra_env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / f"server-{self.port}.log"

    def start(self, timeout: float = 60.0) -> LiveServer:
        env = {
            **os.environ,
            "TQ_DATA_DIR": str(self.data_dir),
            "TQ_QUESTIONS_DIR": str(self.questions_dir),
            # The drills beside the bank: tests/fixtures/drills for the fixture bank, else drills/.
            "TQ_DRILLS_DIR": str(self.questions_dir.parent / "drills"),
            "TQ_FSRS_FUZZ": "false",
            **self.extra_env,
        }
        for var in ("TQ_MIGRATE_ON_START", "DATABASE_URL", "TQ_DATABASE_URL"):
            if var not in self.extra_env:
                env.pop(var, None)
        cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)]
        cmd += ["--workers", str(self.workers)]
        # Own process group: a SIGKILL reaches the uvicorn supervisor and all its workers at once.
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not answer /healthz in {timeout}s:\n{self.log.read_text()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def csrf_client(base_url: str, **kw) -> Iterator[httpx.Client]:
    """An httpx client that carries the CSRF cookie and echoes it in the header, as the JS does."""
    with httpx.Client(base_url=base_url, **kw) as c:
        c.get("/healthz")
        token = c.cookies.get("tq_csrf")
        if token:
            c.headers["X-CSRF-Token"] = token
        yield c
