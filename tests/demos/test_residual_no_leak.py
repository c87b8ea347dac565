import pytest
from pydantic import ValidationError

from app.demos.residual_no_leak import Params, run


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_no_leak_through_residuals_layernorm_and_ffn(norm):
    r = run(Params(norm=norm, n_layers=3), 0)
    assert r.scalar("max_change_past_masked") <= 1e-6
    assert r.scalar("max_change_past_unmasked") > 1e-2
    assert r.scalar("max_change_future_masked") > 1e-2  # the changed tokens themselves do move


def test_deterministic():
    assert run(Params(), 5) == run(Params(), 5)


@pytest.mark.parametrize("bad", [{"heads": 3}, {"n_layers": 7}, {"t": 9}, {"norm": "rms"}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
