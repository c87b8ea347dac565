import pytest
import torch
from pydantic import ValidationError

from app.demos.sampling import (
    LOGITS,
    SWEEP,
    TOKENS,
    Params,
    entropy_bits,
    run,
    top_k,
    top_p,
    with_temperature,
)

logits = torch.tensor(LOGITS, dtype=torch.float64)


def test_temperature_one_is_the_plain_softmax():
    assert torch.equal(with_temperature(logits, 1.0), torch.softmax(logits, -1))
    r = run(Params(), 0)
    col = r.tables[0].columns.index("softmax (T = 1)")
    assert [row[col] for row in r.tables[0].rows] == [
        round(x, 4) for x in torch.softmax(logits, -1).tolist()
    ]


def test_low_temperature_approaches_greedy():
    r = run(Params(temperature=0.05), 0)
    assert r.scalar("top_prob") > 0.999_999
    top = r.charts[1].series[0].y
    assert all(a > b for a, b in zip(top, top[1:], strict=False))  # falls as T grows
    assert top[0] > 0.999_999


def test_entropy_grows_with_temperature():
    ent = run(Params(), 0).charts[0].series[0].y
    assert all(a < b for a, b in zip(ent, ent[1:], strict=False))
    assert ent[0] < 1e-6  # nearly one token
    assert ent[-1] < entropy_bits(torch.full((12,), 1 / 12)) == pytest.approx(3.585, abs=1e-3)
    assert SWEEP[0] == 0.05 and SWEEP[-1] == 5.0


@pytest.mark.parametrize("k", range(1, len(TOKENS) + 1))
def test_top_k_keeps_exactly_k_most_likely(k):
    probs = with_temperature(logits, 0.8)
    out = top_k(probs, k)
    kept = (out > 0).nonzero().flatten().tolist()
    assert kept == list(range(k))  # LOGITS are sorted, so the top k are the first k
    assert out.sum().item() == pytest.approx(1.0)
    assert run(Params(top_k=k), 0).scalar("kept_top_k") == k


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.6, 0.9, 0.95, 0.99, 1.0])
@pytest.mark.parametrize("t", [0.3, 1.0, 2.0])
def test_top_p_keeps_the_smallest_top_set_reaching_p(p, t):
    probs = with_temperature(logits, t)
    kept = (top_p(probs, p) > 0).nonzero().flatten().tolist()
    n = len(kept)
    assert kept == list(range(n))  # the most likely ones
    assert probs[:n].sum().item() >= p - 1e-12  # reaches p …
    assert probs[: n - 1].sum().item() < p  # … and one fewer would not


def test_the_demo_reports_what_top_p_keeps():
    r = run(Params(temperature=1.0, top_p=0.6), 0)
    # softmax: 0.485, 0.161 → 0.646 ≥ 0.6 with two tokens
    assert r.scalar("kept_top_p") == 2
    assert r.scalar("kept_top_p_mass") == pytest.approx(0.6462, abs=1e-4)


def test_seeded_draws_follow_the_distribution():
    r = run(Params(samples=20_000), 0)
    assert r.scalar("sample_tv") < 0.02
    # Cut tokens are never drawn.
    rows = r.tables[0].rows
    assert all(row[-1] == 0 for row in rows if row[-2] == 0)


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)
    assert run(Params(), 3) != run(Params(), 4)  # the seed drives the draws


@pytest.mark.parametrize(
    "bad",
    [
        {"temperature": 0.0},
        {"temperature": 5.1},
        {"top_k": 0},
        {"top_k": 13},
        {"top_p": 0.0},
        {"top_p": 1.01},
        {"samples": 0},
        {"samples": 100_001},
    ],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
