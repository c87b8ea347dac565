import pytest
from pydantic import ValidationError

from app.demos.dropout_train_eval import Params, run


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_inverted_dropout_in_train_identity_in_eval(p):
    r = run(Params(p=p), 0)
    assert r.scalar("zero_fraction") == pytest.approx(p, abs=0.01)
    assert r.scalar("kept_scale") == pytest.approx(1 / (1 - p), rel=1e-6)
    assert r.scalar("train_mean") == pytest.approx(1.0, abs=0.02)
    assert r.scalar("eval_max_diff") == 0.0


def test_deterministic():
    assert run(Params(n=1000), 4) == run(Params(n=1000), 4)


@pytest.mark.parametrize("bad", [{"p": -0.1}, {"p": 0.95}, {"n": 10}, {"n": 10**8}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
