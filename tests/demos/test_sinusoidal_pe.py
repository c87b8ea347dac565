import math

import pytest
import torch
from pydantic import ValidationError

from app.demos.sinusoidal_pe import Params, rotation, run, sinusoidal


def test_sin_on_even_cos_on_odd():
    pe = sinusoidal(50, 8)
    pos = torch.arange(50, dtype=torch.float64)
    assert torch.allclose(pe[:, 0], torch.sin(pos)) and torch.allclose(pe[:, 1], torch.cos(pos))
    w = 10000 ** (-2 / 8)
    assert torch.allclose(pe[:, 2], torch.sin(pos * w)) and torch.allclose(
        pe[:, 3], torch.cos(pos * w)
    )


@pytest.mark.parametrize("k", [1, 5, 37])
def test_offset_is_a_rotation_and_dot_products_depend_only_on_k(k):
    r = run(Params(k=k), 0)
    assert r.scalar("rotation_max_error") < 1e-9
    assert r.scalar("dot_spread_over_pos") < 1e-9
    assert r.scalar("norm") == pytest.approx(math.sqrt(64 / 2))
    assert r.scalar("dim0_is_sin_pos") is True
    m = rotation(k, 8)
    assert torch.allclose(m @ m.T, torch.eye(8, dtype=torch.float64))  # orthogonal


def test_result_is_small_and_deterministic():
    r = run(Params(max_len=2048, d_model=1024), 0)
    assert len(r.heatmaps[0].matrix) <= 64 and len(r.heatmaps[0].matrix[0]) <= 64
    assert run(Params(), 0) == run(Params(), 1)  # no randomness at all


@pytest.mark.parametrize("bad", [{"d_model": 63}, {"d_model": 0}, {"max_len": 1}, {"k": 0}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
