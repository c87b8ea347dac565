import pytest
from pydantic import ValidationError

from app.demos.multihead_subspaces import Params, cost, run


def test_heads_cost_the_same_as_one_full_head():
    r = run(Params(), 0)
    assert r.scalar("d_k") == 16
    assert r.scalar("params_h") == r.scalar("params_1") == 4 * 64 * 64
    assert r.scalar("flops_h") == r.scalar("flops_1")
    costs = {cost(512, h, 20) for h in (1, 2, 4, 8, 16)}
    assert len(costs) == 1


def test_heads_attend_differently():
    r = run(Params(), 0)
    assert r.scalar("mean_pattern_distance") > 0.01
    assert r.scalar("top_key_agreement") < 0.6
    assert len(r.heatmaps) == 4
    for hm in r.heatmaps:
        for row in hm.matrix:
            assert sum(row) == pytest.approx(1.0, abs=1e-5)


def test_deterministic():
    assert run(Params(heads=2), 9) == run(Params(heads=2), 9)


@pytest.mark.parametrize("bad", [{"heads": 3}, {"heads": 0}, {"d_model": 4}, {"n": 100}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
