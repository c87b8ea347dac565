import pytest
import torch
from pydantic import ValidationError

from app.demos.rope_vs_alibi import Params, alibi_bias, alibi_slopes, rope, run


@pytest.mark.parametrize("shift", [1, 100, 5000])
def test_rope_scores_depend_only_on_the_offset(shift):
    r = run(Params(shift=shift), 0)
    assert r.scalar("rope_shift_error") < 1e-9
    assert r.scalar("rope_norm_error") < 1e-9  # a rotation keeps lengths


def test_rope_is_not_shift_invariant_for_one_position_alone():
    g = torch.Generator().manual_seed(0)
    q, k = (
        torch.randn(16, generator=g, dtype=torch.float64),
        torch.randn(16, generator=g, dtype=torch.float64),
    )
    a = torch.dot(rope(q, torch.tensor(3)), rope(k, torch.tensor(5)))
    b = torch.dot(rope(q, torch.tensor(3)), rope(k, torch.tensor(9)))
    assert abs(a - b) > 1e-3


def test_alibi_slopes_and_bias():
    assert alibi_slopes(8) == [2**-1, 2**-2, 2**-3, 2**-4, 2**-5, 2**-6, 2**-7, 2**-8]
    b = alibi_bias(4, 0.5)
    assert b[3, 0] == -1.5 and b[2, 2] == 0 and torch.isinf(b[0, 1])


def test_deterministic():
    assert run(Params(), 2) == run(Params(), 2)


@pytest.mark.parametrize("bad", [{"d": 3}, {"n": 65}, {"heads": 0}, {"shift": 0}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
