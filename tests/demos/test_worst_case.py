"""Every demo's heaviest corner stays within a memory budget.

Bounds on the parameters are what cap a demo's work: the worst a visitor can ask for is every
numeric parameter at its maximum. Running that corner must not take a shared server's worker
far past its footprint. Memory, not time, is asserted (times belong to ``bench/``): the peak
resident set (Linux ``VmHWM``, reset before each demo) above the resident set before it.
"""

from __future__ import annotations

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


@pytest.mark.slow
@pytest.mark.skipif(not STATUS.exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("demo_id", sorted(REGISTRY))
def test_heaviest_corner_fits_the_memory_budget(demo_id):
    demo = REGISTRY[demo_id]
    params = demo.params.model_validate(corner(demo_id))
    demo.run(demo.params(), 0)  # warm: torch's own one-off allocations are not the demo's
    before = _mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    demo.run(params, 0)
    grew = _mb("VmHWM") - before
    assert grew < BUDGET_MB, f"{demo_id} at {params!r} peaked {grew:.0f} MB above its start"
