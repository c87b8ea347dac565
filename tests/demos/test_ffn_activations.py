import pytest
from pydantic import ValidationError

from app.demos.ffn_activations import Params, run


def test_a_negative_bias_kills_relu_units_gelu_keeps_a_gradient():
    healthy = run(Params(), 0)
    dying = run(Params(bias_shift=-2.0), 0)
    assert healthy.scalar("dead_relu_fraction") < 0.05
    assert dying.scalar("dead_relu_fraction") > 0.5
    assert 0.3 < healthy.scalar("relu_zero_fraction") < 0.7  # about half are off for a given input
    assert healthy.scalar("gelu_grad_at_minus_1") < 0  # non-zero below 0, unlike ReLU
    assert healthy.scalar("gelu_tanh_max_error") < 1e-3
    dead = dying.charts[2].series[0].y
    assert dead == sorted(dead, reverse=True)  # more negative shift, more dead units


def test_curves():
    r = run(Params(), 0)
    relu = dict(zip(r.charts[0].series[0].x, r.charts[0].series[0].y, strict=True))
    assert relu[-4.0] == 0.0 and relu[4.0] == 4.0


def test_deterministic():
    assert run(Params(batch=16), 2) == run(Params(batch=16), 2)


@pytest.mark.parametrize(
    "bad", [{"x_range": 0.5}, {"d_ff": 4096}, {"bias_shift": -6}, {"batch": 4}]
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
