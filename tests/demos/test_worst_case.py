"""Every demo's heaviest corner stays within a memory budget.

Bounds on the parameters are what cap a demo's work: the worst a visitor can ask for is every
numeric parameter at its maximum. Running that corner must not take a shared server's worker
far past its footprint. Memory, not time, is asserted (times belong to ``bench/``): the peak
resident set (Linux ``VmHWM``, reset before each demo) above the resident set before it. The
demos run in a fresh interpreter set up as a compute worker is, so what earlier
tests left in this process's heap does not blur the numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.demos import REGISTRY, load_all

load_all()
STATUS = Path("/proc/self/status")
BUDGET_MB = 256

# Corners that break a cross-field rule get the nearest valid value instead.
ADJUST: dict[str, dict[str, int]] = {"causal-mask": {"t": 62}}


def corner(demo_id: str) -> dict:
    props = REGISTRY[demo_id].params.model_json_schema().get("properties", {})
    values = {}
    for name, prop in props.items():
        if "maximum" in prop:
            values[name] = prop["maximum"]
        elif "exclusiveMaximum" in prop:
            step = 1 if prop.get("type") == "integer" else 1e-6
            values[name] = prop["exclusiveMaximum"] - step
    return values | ADJUST.get(demo_id, {})


def _mb(key: str) -> float:
    for line in STATUS.read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def measure() -> dict[str, float]:
    """Peak growth in MB of each demo at its heaviest corner (run by ``peaks`` in a child)."""
    import torch

    torch.set_num_threads(1)  # as a compute worker runs (PoolLimits.threads)
    out = {}
    for demo_id in sorted(REGISTRY):
        demo = REGISTRY[demo_id]
        demo.run(demo.params(), 0)  # warm: torch's one-off allocations are not the demo's
        before = _mb("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
        demo.run(demo.params.model_validate(corner(demo_id)), 0)
        out[demo_id] = _mb("VmHWM") - before
    return out


@pytest.fixture(scope="module")
def peaks() -> dict[str, float]:
    code = (
        "import json; from tests.demos.test_worst_case import measure; print(json.dumps(measure()))"
    )
    root = Path(__file__).resolve().parents[2]
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.skipif(not STATUS.exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("demo_id", sorted(REGISTRY))
def test_heaviest_corner_fits_the_memory_budget(demo_id, peaks):
    grew = peaks[demo_id]
    assert grew < BUDGET_MB, f"{demo_id} at {corner(demo_id)} peaked {grew:.0f} MB above its start"
