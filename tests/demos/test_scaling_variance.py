import math

import pytest
from pydantic import ValidationError

from app.demos.scaling_variance import Params, run


@pytest.mark.parametrize("seed", range(5))
def test_variance_of_q_dot_k_is_d_k_and_one_after_scaling(seed):
    """The fact of soul question 4, at the default sample size."""
    r = run(Params(), seed)
    assert abs(r.scalar("var_over_dk") - 1) < 0.1
    assert abs(r.scalar("var_unscaled") / 64 - 1) < 0.1
    assert abs(r.scalar("var_scaled") - 1) < 0.1


@pytest.mark.parametrize("d_k", [1, 16, 256, 1024])
def test_holds_across_d_k(d_k):
    r = run(Params(d_k=d_k, max_d_k=2), 0)
    assert abs(r.scalar("var_over_dk") - 1) < 0.1


def test_the_sweep_grows_like_d_k_and_the_scaled_line_stays_flat():
    r = run(Params(max_d_k=1024), 0)
    rows = r.tables[0].rows
    assert [row[0] for row in rows] == [2**i for i in range(1, 11)]
    for d, var, ratio, scaled in rows:
        assert abs(var / d - 1) < 0.15 and math.isclose(ratio, scaled)
    raw = next(s for s in r.charts[0].series if s.name == "var(q·k)").y
    assert raw[-1] / raw[0] > 256  # 2 → 1024: the variance grows ~512-fold


def test_deterministic_per_seed():
    assert run(Params(samples=500), 3) == run(Params(samples=500), 3)
    assert run(Params(samples=500), 3) != run(Params(samples=500), 4)


@pytest.mark.parametrize(
    "bad", [{"d_k": 0}, {"d_k": 4097}, {"samples": 99}, {"samples": 20_001}, {"max_d_k": 4096}]
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
