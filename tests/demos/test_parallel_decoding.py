import pytest
from pydantic import ValidationError

from app.demos.parallel_decoding import Params, run


@pytest.mark.parametrize("params", [Params(), Params(n=5, n_layers=1, heads=1, d_model=8)])
def test_teacher_forced_pass_equals_step_by_step(params):
    r = run(params, 0)
    assert r.scalar("max_abs_diff") < 1e-5
    assert r.scalar("forward_calls_stepwise") == params.n
    assert r.scalar("positions_stepwise") == params.n * (params.n + 1) // 2
    assert r.scalar("positions_one_pass") == params.n


def test_deterministic_outputs():
    a, b = run(Params(n=6), 1), run(Params(n=6), 1)
    assert a.scalar("max_abs_diff") == b.scalar("max_abs_diff")
    assert a.charts == b.charts


@pytest.mark.parametrize("bad", [{"n": 1}, {"heads": 3}, {"n_layers": 5}, {"d_model": 4}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
