import pytest
from pydantic import ValidationError

from app.demos.softmax_saturation import Params, run


def test_unscaled_softmax_saturates_and_its_gradient_vanishes():
    r = run(Params(), 0)  # d_k = 512
    assert r.scalar("top_unscaled") > 0.8
    assert r.scalar("entropy_unscaled") < 0.5
    assert r.scalar("top_scaled") < 0.5
    assert r.scalar("entropy_scaled") > 2.0  # log 32 ≈ 3.47 is uniform
    assert r.scalar("jacobian_unscaled") < r.scalar("jacobian_scaled") / 2


def test_scaled_entropy_is_flat_across_d_k_unscaled_falls():
    r = run(Params(), 1)
    raw, scaled = r.charts[0].series[0].y, r.charts[0].series[1].y
    assert raw[-1] < raw[0] / 3
    assert max(scaled) - min(scaled) < 0.3


def test_deterministic():
    assert run(Params(queries=20, max_d_k=16), 2) == run(Params(queries=20, max_d_k=16), 2)


@pytest.mark.parametrize("bad", [{"d_k": 0}, {"n_keys": 1}, {"queries": 301}, {"max_d_k": 1}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
