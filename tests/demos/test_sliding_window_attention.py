import pytest
import torch
from pydantic import ValidationError

from app.demos.sliding_window_attention import Params, band_mask, run


@pytest.mark.parametrize(
    ("n", "window", "layers"),
    [(32, 4, 3), (64, 3, 16), (64, 8, 5), (10, 4, 6), (16, 1, 7), (64, 64, 1), (2, 2, 1)],
)
def test_receptive_field_after_l_layers_is_l_times_w_minus_1_plus_1(n, window, layers):
    r = run(Params(n=n, window=window, layers=layers), 0)
    expected = min(layers * (window - 1) + 1, n)
    assert r.scalar("receptive_field_propagated") == expected
    # A real attention stack agrees: exactly these inputs reach the last output's gradient.
    assert r.scalar("receptive_field_gradient") == expected
    assert r.scalar("same_positions") is True
    counted, formula = r.charts[0].series
    assert counted.y == [min(k * (window - 1) + 1, n) for k in range(1, layers + 1)]


def test_the_reach_grows_by_w_minus_1_per_layer():
    r = run(Params(n=64, window=5, layers=10), 0)
    y = r.charts[0].series[0].y
    assert [b - a for a, b in zip(y, y[1:], strict=False)] == [4] * 9


def test_the_mask_is_a_causal_band_of_w_keys():
    mask = band_mask(8, 3)
    assert mask.sum(-1).tolist() == [1, 2, 3, 3, 3, 3, 3, 3]
    assert not mask.triu(1).any()  # no future key
    assert mask[5, 3] and not mask[5, 2]
    r = run(Params(n=8, window=3), 0)
    assert r.heatmaps[0].matrix == mask.double().tolist()
    assert r.heatmaps[0].row_labels == [str(i) for i in range(8)]
    assert r.scalar("scores_per_layer") == 1 + 2 + 6 * 3


def test_mistral_7b_example():
    rows = run(Params(), 0).tables[0].rows
    assert [4096, 32, 131_041, "Mistral 7B"] in rows


def test_gradient_count_holds_under_no_grad():
    with torch.no_grad():
        r = run(Params(), 0)
    assert r.scalar("receptive_field_gradient") == 10


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad", [{"n": 1}, {"n": 65}, {"window": 0}, {"window": 65}, {"layers": 0}, {"layers": 17}]
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
