import pytest
from pydantic import ValidationError

from app.demos.dot_vs_additive import Params, costs, run


def test_cost_model():
    c = costs(64, 128, 128)
    assert c["dot_params"] == 0 and c["add_params"] == 2 * 128 * 128 + 128
    assert c["add_intermediate"] == 128 * c["dot_intermediate"]  # an n×n×d_a tensor vs n×n
    assert c["add_madds"] > c["dot_madds"]


def test_demo_reports_the_counts_not_just_timings():
    r = run(Params(n=32, max_d_k=64, repeats=1), 0)
    assert r.scalar("dot_params") == 0
    assert r.scalar("add_params") == 2 * 64 * 64 + 64
    assert r.scalar("intermediate_ratio") == 64
    params_col = [row[2] for row in r.tables[0].rows]
    assert params_col == sorted(params_col)  # additive parameters grow with d_k
    # (timings are shown but never asserted: they depend on the machine)


def test_deterministic_counts():
    a, b = run(Params(n=16, max_d_k=16, repeats=1), 1), run(Params(n=16, max_d_k=16, repeats=1), 1)
    assert [row[:6] for row in a.tables[0].rows] == [row[:6] for row in b.tables[0].rows]


@pytest.mark.parametrize("bad", [{"n": 1}, {"max_d_k": 1024}, {"hidden_ratio": 3}, {"repeats": 0}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
