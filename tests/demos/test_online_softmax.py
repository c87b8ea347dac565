import math

import pytest
import torch
from pydantic import ValidationError

from app.demos.online_softmax import Params, full_attention, online_attention, run


@pytest.mark.parametrize(
    "params",
    [
        Params(),
        Params(n=64, tile=1),
        Params(n=50, tile=7),  # the last tile is short
        Params(n=33, tile=33),
        Params(n=10, tile=256),  # one tile larger than the sequence
        Params(n=256, d=128, tile=3, logit_scale=100.0),
    ],
)
def test_tiled_online_softmax_equals_full_attention_for_any_tile(params):
    r = run(params, 0)
    assert r.scalar("max_abs_diff") < 1e-12  # float64: rounding only
    assert r.scalar("max_diff_over_tile_sizes") < 1e-12
    assert len(r.charts[0].series[0].x) >= int(math.log2(params.n)) + 1


def test_subtracting_the_running_max_survives_scores_that_overflow_a_naive_softmax():
    r = run(Params(logit_scale=100.0), 0)
    assert r.scalar("max_score") > 88.8  # exp overflows fp32 above ln(3.4e38) ≈ 88.7
    assert r.scalar("naive_finite") is False
    assert r.scalar("max_abs_diff") < 1e-12
    assert run(Params(), 0).scalar("naive_finite") is True


def test_running_max_and_sum_end_at_the_row_max_and_the_softmax_denominator():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(20, 8, generator=g, dtype=torch.float64) for _ in range(3))
    _, trace = online_attention(q, k, v, 6)
    s = q @ k.T / math.sqrt(8)
    row_max = s.amax(-1)
    assert torch.equal(trace[-1, 1], row_max)
    assert torch.allclose(trace[-1, 3], torch.exp(s - row_max[:, None]).sum(-1), atol=1e-12)
    # The rescale factor is below 1 exactly where the running max grew.
    grew = trace[1:, 1] > trace[:-1, 1]
    assert torch.equal(trace[1:, 2] < 1, grew)


def test_the_table_shows_the_max_growing_and_the_sum_rescaled():
    r = run(Params(tile=4), 0)
    rows = r.tables[0].rows
    assert len(rows) == 16
    maxes = [row[3] for row in rows]
    assert maxes == sorted(maxes) and maxes[-1] > maxes[0]  # the running max only grows
    for prev, row in zip(rows, rows[1:], strict=False):
        assert (row[4] < 1) == (row[3] > prev[3])


def test_scores_held_at_once_grow_as_n_squared_vs_n():
    r = run(Params(tile=16), 0)
    assert r.scalar("numbers_held_full") == 64 * 64
    assert r.scalar("numbers_held_tiled") == 64 * 16 + 2 * 64
    full, tiled = r.charts[1].series
    assert full.y[-1] / full.y[-2] == 4  # doubling n: 4× the n × n matrix
    assert tiled.y[-1] / tiled.y[-2] == 2  # but 2× the n × tile strip
    assert full.y[-1] == 4 * 131_072**2 / 2**20  # 64 GiB of fp32 scores at 128k tokens


def test_full_attention_is_plain_softmax():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(5, 4, generator=g) for _ in range(3))
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    assert torch.allclose(full_attention(q, k, v), ref, atol=1e-6)


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad",
    [
        {"n": 1},
        {"n": 257},
        {"tile": 257},
        {"d": 1},
        {"tile": 0},
        {"logit_scale": 0.0},
        {"logit_scale": 101},
    ],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
