import math

import pytest
from pydantic import ValidationError

from app.demos.embedding_scale import Params, run


def test_tied_init_is_small_until_scaled_then_matches_the_encoding():
    r = run(Params(), 0)
    assert r.scalar("pe_norm") == pytest.approx(math.sqrt(512 / 2), rel=1e-4)
    # N(0, 1/d): row norm ≈ 1 vs PE ≈ 16 → ratio ≈ 1/16; after ×√512 ≈ 22.6 vs 16 → ≈ √2.
    assert r.scalar("tied_ratio_before") == pytest.approx(1 / 16, rel=0.05)
    assert r.scalar("tied_ratio_after") == pytest.approx(math.sqrt(2), rel=0.05)
    # With N(0,1) the factor makes the embedding dominate: ≈ √(2·d) = 32.
    assert r.scalar("default_ratio_after") == pytest.approx(32, rel=0.05)


def test_deterministic():
    assert run(Params(vocab=50), 1) == run(Params(vocab=50), 1)


@pytest.mark.parametrize("bad", [{"d_model": 7}, {"d_model": 4096}, {"vocab": 5}, {"positions": 0}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
