import pytest
from pydantic import ValidationError

from app.demos.shared_qk import Params, run


@pytest.mark.parametrize("seed", range(5))
def test_shared_projection_is_symmetric_and_self_dominated(seed):
    r = run(Params(), seed)
    assert r.scalar("asym_shared") < 1e-6
    # qᵢ·qᵢ = ‖qᵢ‖² usually beats qᵢ·qⱼ; not always (a much longer qⱼ can win), hence ≥ 0.9.
    assert r.scalar("diag_shared") >= 0.9
    assert r.scalar("asym_separate") > 0.5
    assert r.scalar("diag_separate") < 0.5
    assert r.scalar("self_weight_shared") > r.scalar("self_weight_separate")


def test_deterministic():
    assert run(Params(n=8), 3) == run(Params(n=8), 3)


@pytest.mark.parametrize("bad", [{"n": 1}, {"n": 65}, {"d_k": 0}, {"d_model": 10_000}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
