import pytest
import torch
from pydantic import ValidationError

from app.demos.embedding_lookup import Params, run

CASES = [
    Params(),
    Params(vocab=64, d=64, n=64),
    Params(vocab=2, d=1, n=1),
    Params(vocab=5, d=3, n=40),  # every id repeats
]


@pytest.mark.parametrize("params", CASES)
def test_lookup_equals_one_hot_times_the_table_exactly(params):
    r = run(params, 0)
    assert r.scalar("lookup_equals_matmul") is True
    assert r.scalar("max_grad_diff") < 1e-6


@pytest.mark.parametrize("params", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_only_looked_up_rows_get_a_gradient(params, seed):
    r = run(params, seed)
    assert r.scalar("max_grad_unused_rows") == 0.0  # exactly zero, not small
    assert r.scalar("rows_with_gradient") == r.scalar("distinct_ids")
    hm = r.heatmaps[0]
    for label, row in zip(hm.row_labels, hm.matrix, strict=True):
        used = not label.endswith("(×0)")
        assert any(x != 0 for x in row) == used


def test_a_row_looked_up_twice_gets_the_sum_of_both_gradients():
    r = run(Params(vocab=5, d=3, n=40), 0)
    assert r.scalar("repeated_row_sum_diff") < 1e-6
    # Independently: nn.Embedding's gradient is one_hotᵀ @ upstream.
    emb = torch.nn.Embedding(4, 2)
    ids = torch.tensor([1, 3, 1, 1])
    up = torch.arange(8.0).view(4, 2)
    (emb(ids) * up).sum().backward()
    assert emb.weight.grad.tolist() == [[0, 0], [0 + 4 + 6, 1 + 5 + 7], [0, 0], [2, 3]]


def test_one_hot_form_costs_two_v_d_flops_per_token():
    r = run(Params(calc_vocab=128_256, calc_d=4096), 0)
    assert r.scalar("matmul_flops_per_token") == 2 * 128_256 * 4096
    rows = {row[1]: row for row in r.tables[0].rows}
    assert rows[50_257][0] == "GPT-2"
    assert rows[128_256][2] == 2 * 128_256 * 4096 and rows[128_256][4] == 4096
    series = r.charts[0].series[0]
    assert series.y == [2 * v * 4096 for v in series.x]


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad",
    [
        {"vocab": 1},
        {"vocab": 65},
        {"d": 0},
        {"d": 65},
        {"n": 0},
        {"n": 65},
        {"calc_vocab": 1},
        {"calc_d": 40_000},
    ],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
