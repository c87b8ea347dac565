import math

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from app.demos.label_smoothing import (
    Params,
    by_formula,
    gap_loss,
    minimise_gap,
    optimal_gap,
    run,
    target_entropy,
)


@pytest.mark.parametrize("p", [Params(), Params(classes=2, epsilon=0.3), Params(classes=100)])
def test_torch_label_smoothing_is_the_mixture_of_two_cross_entropies(p):
    assert run(p, 0).scalar("identity_max_diff") < 1e-6
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(64, p.classes, generator=g, dtype=torch.float64) * 5
    labels = torch.randint(0, p.classes, (64,), generator=g)
    ours = by_formula(logits, labels, p.epsilon)
    theirs = F.cross_entropy(logits, labels, label_smoothing=p.epsilon, reduction="none")
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-12)
    plain = F.cross_entropy(logits, labels, reduction="none")
    assert not torch.allclose(ours, plain, atol=1e-3)  # smoothing does change the loss


@pytest.mark.parametrize("k, eps", [(10, 0.1), (2, 0.5), (1000, 0.01), (50, 0.9)])
def test_the_optimal_gap_is_log_of_the_target_odds(k, eps):
    found = minimise_gap(k, eps)
    assert found == pytest.approx(math.log((1 - eps + eps / k) / (eps / k)), abs=1e-6)
    assert gap_loss(found, k, eps) == pytest.approx(target_entropy(k, eps), abs=1e-9)
    logits = torch.zeros(k, dtype=torch.float64)
    logits[0] = found
    assert logits.softmax(0)[0].item() == pytest.approx(1 - eps + eps / k, abs=1e-6)


def test_without_smoothing_the_loss_only_falls_and_with_it_turns_back_up():
    r = run(Params(), 0)
    series = {s.name: s for s in r.charts[0].series}
    plain = series["ε = 0"].y
    assert all(a > b for a, b in zip(plain, plain[1:], strict=False))
    smoothed = series["ε = 0.1"]
    best = min(range(len(smoothed.y)), key=smoothed.y.__getitem__)
    step = smoothed.x[1]
    assert 0 < best < len(smoothed.y) - 1  # an interior minimum
    assert abs(smoothed.x[best] - optimal_gap(10, 0.1)) <= step
    assert r.scalar("optimal_gap_found") == pytest.approx(r.scalar("optimal_gap_formula"), abs=1e-6)


def test_more_smoothing_means_a_smaller_gap():
    gaps = [run(Params(epsilon=e), 0).scalar("optimal_gap_found") for e in (0.01, 0.1, 0.5)]
    assert gaps[0] > gaps[1] > gaps[2] > 0


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad", [{"classes": 1}, {"epsilon": 0.0}, {"epsilon": 0.95}, {"batch": 2000}]
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
