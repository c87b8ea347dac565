import pytest
from pydantic import ValidationError

from app.demos.residual_gradients import Params, run


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradient_reaches_the_first_layer_only_with_residuals(activation):
    r = run(Params(activation=activation), 0)
    assert r.scalar("reach_plain") < 1e-6  # vanishes through 30 plain layers
    assert (
        r.scalar("reach_residual") >= 1.0
    )  # ∂(h + F(h))/∂h = I + ∂F/∂h: never below the identity here
    assert r.scalar("first_weight_grad_residual") > 1e3 * r.scalar("first_weight_grad_plain")


def test_deterministic():
    assert run(Params(n_layers=5), 2) == run(Params(n_layers=5), 2)


@pytest.mark.parametrize(
    "bad", [{"n_layers": 1}, {"n_layers": 101}, {"init_scale": 3}, {"activation": "gelu"}]
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
