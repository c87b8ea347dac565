import pytest
import torch
from pydantic import ValidationError

from app.demos.speculative_decoding import (
    Params,
    acceptance,
    expected_tokens,
    output_distribution,
    run,
)

CASES = [
    Params(),
    Params(vocab=2, quality=0.0),
    Params(vocab=64, quality=0.9, k=16),
    Params(vocab=16, quality=1.0),  # a perfect draft: nothing is ever rejected
    Params(vocab=5, quality=0.1, k=1),
]


@pytest.mark.parametrize("params", CASES)
def test_speculative_sampling_emits_exactly_the_target_distribution(params):
    r = run(params, 0)
    assert r.scalar("max_abs_diff_output_vs_target") < 1e-6


@pytest.mark.parametrize("params", CASES)
def test_acceptance_is_one_minus_total_variation(params):
    r = run(params, 0)
    assert r.scalar("acceptance") == pytest.approx(1 - r.scalar("tv_draft_vs_target"), abs=1e-12)
    for row in r.tables[0].rows:
        assert row[2] == pytest.approx(1 - row[1], abs=2e-4)


def test_seeded_rounds_follow_p_not_q():
    r = run(Params(vocab=8, quality=0.2, samples=50_000), 0)
    assert r.scalar("tv_sampled_vs_target") < 0.02
    assert r.scalar("tv_draft_vs_target") > 0.2  # the draft alone is far from p
    assert r.scalar("acceptance_sampled") == pytest.approx(r.scalar("acceptance"), abs=0.01)


def test_output_equals_p_for_arbitrary_pairs():
    g = torch.Generator().manual_seed(5)
    for _ in range(20):
        p = torch.rand(10, generator=g, dtype=torch.float64).softmax(-1)
        q = (torch.randn(10, generator=g, dtype=torch.float64) * 3).softmax(-1)
        assert torch.allclose(output_distribution(p, q), p, atol=1e-12)
        # Taking the draft as it is would give q, not p.
        assert (q - p).abs().max() > 1e-3


def test_expected_tokens_per_target_call():
    assert expected_tokens(1.0, 4) == 5.0  # all k drafts plus the target's own token
    assert expected_tokens(0.0, 4) == 1.0  # every draft rejected: the target's token only
    assert expected_tokens(0.5, 2) == pytest.approx(1 + 0.5 + 0.25)
    r = run(Params(k=4, samples=50_000), 0)
    assert r.scalar("tokens_per_call_sampled") == pytest.approx(
        r.scalar("expected_tokens_per_call"), rel=0.02
    )
    assert run(Params(quality=1.0, k=7), 0).scalar("tokens_per_call_sampled") == 8.0


def test_a_better_draft_is_accepted_more_often():
    curve = run(Params(), 0).charts[1].series[0].y
    assert all(a < b for a, b in zip(curve, curve[1:], strict=False))
    assert curve[-1] == pytest.approx(1.0)
    p = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    assert acceptance(p, p) == pytest.approx(1.0)


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad",
    [
        {"vocab": 1},
        {"vocab": 65},
        {"quality": -0.1},
        {"quality": 1.1},
        {"k": 0},
        {"k": 17},
        {"samples": 99},
        {"samples": 100_001},
    ],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
