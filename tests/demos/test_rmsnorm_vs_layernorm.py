import pytest
import torch
from pydantic import ValidationError

from app.demos.rmsnorm_vs_layernorm import Params, rms_norm, run

CASES = [
    Params(),
    Params(d_model=8, tokens=3, offset=0.5),
    Params(d_model=1024, std=5.0, offset=20),
]


@pytest.mark.parametrize("p", CASES)
def test_on_zero_mean_input_rmsnorm_equals_layernorm(p):
    assert run(p, 0).scalar("zero_mean_diff") < 1e-5


@pytest.mark.parametrize("p", CASES)
def test_layernorm_removes_an_offset_and_rmsnorm_keeps_it(p):
    r = run(p, 0)
    assert r.scalar("layernorm_shift_change") < 1e-4
    assert abs(r.scalar("layernorm_output_mean")) < 1e-5
    assert r.scalar("rmsnorm_shift_change") > 0.2
    assert r.scalar("rmsnorm_output_mean") > 0.2
    _, rms, theory = r.charts[0].series
    assert rms.y == pytest.approx(theory.y, abs=1e-5)  # c / √(c² + σ²)
    assert rms.y[0] == pytest.approx(0, abs=1e-6) and rms.y[-1] > 0.89  # towards 1


@pytest.mark.parametrize("p", CASES)
def test_torch_rmsnorm_is_the_hand_formula_with_half_the_parameters(p):
    r = run(p, 1)
    assert r.scalar("module_vs_formula") < 1e-5
    assert r.scalar("rmsnorm_params") == p.d_model
    assert r.scalar("layernorm_params") == 2 * p.d_model


def test_default_module_eps_is_the_dtype_epsilon():
    x = torch.randn(4, 16)
    ours = rms_norm(x, torch.finfo(torch.float32).eps)
    assert torch.allclose(torch.nn.RMSNorm(16)(x), ours, rtol=0, atol=1e-6)
    assert not torch.allclose(torch.nn.RMSNorm(16)(x + 1), ours, rtol=0, atol=1e-2)


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad", [{"d_model": 1}, {"tokens": 0}, {"offset": -1}, {"std": 0}, {"eps": 1.0}]
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
