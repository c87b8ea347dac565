import pytest
from pydantic import ValidationError

from app.demos.layernorm_vs_batchnorm import Params, run


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batchnorm_depends_on_batch_mates_layernorm_does_not(seed):
    r = run(Params(), seed)
    assert r.scalar("ln_batchmate_diff") == 0.0
    assert r.scalar("bn_batchmate_diff") > 0.05
    assert r.scalar("mean_shift_from_pads") > 0.05  # zeros pull the batch mean away from the data


def test_train_eval_and_batch_of_one():
    r = run(Params(), 0)
    assert r.scalar("bn_train_vs_eval") > 0.1
    assert r.scalar("ln_train_vs_eval") == 0.0
    said = {row[0]: row[1] for row in r.tables[1].rows}
    assert said["(1, 4)"].startswith("ValueError: Expected more than 1 value per channel")
    assert said["(1, 4, 5)"].startswith("runs")


def test_deterministic():
    assert run(Params(batch=3), 5) == run(Params(batch=3), 5)


@pytest.mark.parametrize(
    "bad", [{"batch": 1}, {"max_len": 100}, {"d_model": 1}, {"len0": 11, "max_len": 10}]
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
