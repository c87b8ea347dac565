import pytest
import torch
from pydantic import ValidationError

from app.demos.lora import Params, run, train

CASES = [Params(), Params(d_in=32, d_out=96, rank=2, alpha=16), Params(rank=1, target_rank=1)]


@pytest.mark.parametrize("params", CASES)
def test_zero_b_means_training_starts_from_the_base_output_exactly(params):
    assert run(params, 0).scalar("initial_output_diff") == 0.0


@pytest.mark.parametrize("params", CASES)
def test_merged_weight_gives_the_adapters_outputs(params):
    r = run(params, 1)
    assert r.scalar("merged_vs_adapter") < 1e-5
    assert r.scalar("base_weight_change") == 0.0  # W itself was never trained
    assert r.scalar("loss_end") < 0.6 * r.scalar("loss_start")


@pytest.mark.parametrize("params", CASES)
def test_the_update_has_rank_at_most_r(params):
    t = train(params, 0)
    assert torch.linalg.matrix_rank(t["delta"]).item() == params.rank
    assert run(params, 0).scalar("delta_rank") == params.rank
    # The full-rank target is out of reach: singular values past r are numerically zero.
    sv = run(params, 0).charts[1].series[0].y
    assert max(sv[params.rank :], default=0) < 1e-4 * sv[0]


def test_a_high_enough_rank_fits_a_low_rank_target():
    low = run(Params(rank=8, target_rank=4, steps=150), 0)
    short = run(Params(rank=2, target_rank=4, steps=150), 0)
    assert low.scalar("loss_end") < 0.02 < short.scalar("loss_end")


@pytest.mark.parametrize("params", CASES)
def test_parameter_counts_match_the_module(params):
    t = train(params, 0)
    assert not any(q.requires_grad for q in t["base"].parameters())
    trainable = sum(q.numel() for q in t["adapter"].parameters() if q.requires_grad)
    r = run(params, 0)
    assert trainable == r.scalar("lora_params") == params.rank * (params.d_in + params.d_out)
    assert r.scalar("full_params") == t["base"].weight.numel()
    rows = {row[0]: row for row in r.tables[0].rows}
    assert rows[params.rank][1] == trainable


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad",
    [{"rank": 0}, {"rank": 9, "d_in": 8}, {"target_rank": 40, "d_out": 32}, {"steps": 1000}],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
