import math

import pytest
import torch
from pydantic import ValidationError

from app.demos.moe_routing import SWEEP_FACTORS, Params, balance_loss, capacity, route, run, slots


def test_balancing_loss_is_one_when_perfectly_balanced_and_e_when_collapsed():
    e, t = 8, 64
    # Token i strongly prefers expert i mod E: every expert gets the same number of tokens.
    logits = torch.full((t, e), -20.0)
    logits[torch.arange(t), torch.arange(t) % e] = 20.0
    probs, chosen = route(logits, 1)
    loss, f = balance_loss(probs, chosen)
    assert f.tolist() == [1 / e] * e
    assert loss == pytest.approx(1.0, abs=1e-12)
    # Uniform router probabilities give exactly 1 too, whatever the assignment.
    probs, chosen = route(torch.zeros(t, e), 2)
    assert balance_loss(probs, chosen)[0] == pytest.approx(1.0, abs=1e-12)
    # Every token to expert 0 with probability 1: the maximum, E.
    collapsed = torch.full((t, e), -50.0)
    collapsed[:, 0] = 50.0
    assert balance_loss(*route(collapsed, 1))[0] == pytest.approx(e, rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_a_bias_toward_one_expert_raises_the_loss_and_drops_tokens(seed):
    r = run(Params(), seed)
    assert r.scalar("loss_balanced") < 1.1  # a random router is nearly balanced
    assert r.scalar("loss_skewed") > r.scalar("loss_balanced") + 0.5
    load_biased = r.charts[0].series[1].y
    assert load_biased[0] == max(load_biased) > r.scalar("capacity")
    assert r.scalar("dropped_skewed") > r.scalar("dropped_balanced")


@pytest.mark.parametrize("params", [Params(), Params(bias=6, top_k=1), Params(capacity_factor=0.5)])
def test_dropped_assignments_are_the_load_above_capacity(params):
    r = run(params, 0)
    cap = r.scalar("capacity")
    assert cap == math.ceil(params.capacity_factor * params.top_k * params.tokens / params.experts)
    for series, key in zip(r.charts[0].series, ["dropped_balanced", "dropped_skewed"], strict=True):
        assert r.scalar(key) == sum(max(0, load - cap) for load in series.y)


def test_first_choices_are_served_before_second_choices():
    # Tokens 0 and 1 want expert 0 as their second choice, token 2 as its first: token 2 takes
    # expert 0's first slot although it comes last in the batch.
    chosen = torch.tensor([[1, 0], [2, 0], [0, 1]])
    assert slots(chosen, 3).tolist() == [[0, 1], [0, 2], [0, 1]]


def test_enough_capacity_drops_nothing_and_less_capacity_drops_more():
    r = run(Params(), 0)
    for series in r.charts[1].series:
        assert series.y == sorted(series.y, reverse=True)
    p = Params(capacity_factor=4.0)  # E/k = 4: every expert could take every token
    assert capacity(p) == p.tokens
    assert run(p, 0).scalar("dropped_skewed") == 0
    assert SWEEP_FACTORS[-1] == 4.0 and r.charts[1].series[1].y[-1] == 0


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad",
    [{"experts": 1}, {"experts": 4, "top_k": 5}, {"tokens": 5000}, {"capacity_factor": 0}],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
