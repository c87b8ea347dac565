import pytest
from pydantic import ValidationError

from app.demos.causal_mask import Params, run


@pytest.mark.parametrize("params", [Params(), Params(n=16, t=0), Params(n=5, d_model=4, t=3)])
def test_future_tokens_cannot_change_the_past_with_the_mask(params):
    r = run(params, 0)
    assert r.scalar("max_diff_causal") == 0.0  # exactly, not approximately
    assert r.scalar("max_diff_unmasked") > 1e-3
    assert r.scalar("max_weight_above_diagonal") == 0.0
    for row in r.heatmaps[0].matrix:
        assert sum(row) == pytest.approx(1.0, abs=1e-5)


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize("bad", [{"n": 1}, {"n": 65}, {"t": 7, "n": 8}, {"d_model": 1000}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
