"""A real fresh machine (issue #10, items 10-12): torch's CPU build by default with one variable to
change it and a fast fallback, pinned versions that `make` installs, and a Chromium for the
browser tests or one clear line saying how to get one. Read from `make -n` (what would run), so
nothing is installed here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


def _dry_run(target: str, **variables: str) -> str:
    # A venv path that does not exist, so make plans the whole install.
    args = ["make", "-n", "-C", str(ROOT), target, "VENV=/nonexistent/venv"]
    args += [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _torch_lines(plan: str) -> list[str]:
    return [line for line in plan.splitlines() if "torch==" in line and "pip install" in line]


def test_install_takes_torch_from_the_cpu_index_and_fails_fast():
    plan = _dry_run("install")
    first = _torch_lines(plan)[0]
    assert "--index-url https://download.pytorch.org/whl/cpu" in first
    assert "--retries 0" in first and re.search(r"--timeout [1-9]\b", first)
    assert "--no-deps" in first  # torch's own dependencies come pinned with the rest
    # Then the default index, if that one did not answer.
    assert "||" in plan and "trying the default index" in plan
    # And one line naming the build that was installed.
    assert "torch.version.cuda" in plan and "installed" in plan


def test_one_variable_points_torch_elsewhere():
    plan = _dry_run("install", TORCH_INDEX_URL="https://example.invalid/whl/cu126")
    assert "--index-url https://example.invalid/whl/cu126" in _torch_lines(plan)[0]
    assert "download.pytorch.org/whl/cpu" not in plan


def test_install_pins_everything_through_the_lock():
    plan = _dry_run("install")
    app_line = next(line for line in plan.splitlines() if '-e ".[dev,postgres]"' in line)
    assert "-c requirements.lock" in app_line


def test_the_lock_pins_every_dependency_exactly():
    lines = [x for x in LOCK.read_text().splitlines() if x and not x.startswith("#")]
    pins = dict(x.split("==", 1) for x in lines)
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+!\-]+", x) for x in lines), lines
    assert pins["torch"] == "2.13.0"
    assert not [n for n in pins if n.lower().startswith(("nvidia-", "triton"))]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [
        d for extra in ("dev", "postgres") for d in project["optional-dependencies"][extra]
    ]
    names = {re.split(r"[\[<>=!~ ;]", d, maxsplit=1)[0].lower().replace("_", "-") for d in wanted}
    pinned = {n.lower().replace("_", "-") for n in pins}
    assert names <= pinned, names - pinned


def test_make_lock_regenerates_it_from_a_fresh_venv():
    plan = _dry_run("lock")
    assert "-m venv .lock-venv" in plan and "pip freeze" in plan and "requirements.lock" in plan


def test_the_docker_image_uses_the_same_index_variable_and_lock():
    docker = (ROOT / "Dockerfile").read_text()
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in docker
    assert '--index-url "$TORCH_INDEX_URL"' in docker
    assert "-c requirements.lock" in docker and "COPY drills ./drills" in docker


_FIND = (
    "from tests.e2e.conftest import find_chromium, HOW_TO; import sys; "
    "p = find_chromium(); print('== chromium: ' + (p or HOW_TO)); sys.exit(0 if p else 1)"
)


def _find_chromium(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _FIND], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_no_chromium_is_one_clear_line_and_a_failure(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path), "TQ_CHROMIUM": str(tmp_path / "none")}
    r = _find_chromium(env)
    assert r.returncode == 1
    assert r.stdout.count("\n") == 1 and "apt-get install chromium" in r.stdout


def test_a_chromium_on_path_is_found(tmp_path):
    fake = tmp_path / "chromium-browser"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "TQ_CHROMIUM"}
    r = _find_chromium({**env, "PATH": str(tmp_path)})
    assert r.returncode == 0 and str(fake) in r.stdout


@pytest.mark.parametrize("target", ["test"])
def test_make_test_looks_for_a_chromium_first(target):
    plan = _dry_run(target)
    assert "find_chromium" in plan and "playwright install chromium" in plan
