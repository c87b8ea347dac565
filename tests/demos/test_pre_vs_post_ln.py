import pytest
from pydantic import ValidationError

from app.demos.pre_vs_post_ln import Params, build, growth, run


@pytest.mark.parametrize("seed", range(5))
def test_post_ln_gradients_grow_toward_the_output_and_pre_ln_ones_do_not(seed):
    r = run(Params(), seed)
    assert r.scalar("post_growth") > 1.1  # larger near the output than near the input
    assert r.scalar("pre_growth") < 0.85  # no growth (a mild fall) with Pre-LN
    assert r.scalar("post_growth") > 1.8 * r.scalar("pre_growth")
    assert r.scalar("last_layer_post_over_pre") > 1.5
    post, pre = r.charts[0].series
    assert post.y[-1] > pre.y[-1] and len(post.y) == Params().n_layers


def test_the_output_side_gap_widens_with_depth():
    # Xiong et al.: Pre-LN's output-side gradient shrinks as 1/√L, Post-LN's does not.
    gaps = [
        sum(run(Params(n_layers=n), s).scalar("last_layer_post_over_pre") for s in range(3))
        for n in (3, 12, 24)
    ]
    assert gaps[0] < gaps[1] < gaps[2]


def test_both_stacks_share_their_weights_and_differ_only_in_norm_placement():
    p = Params(n_layers=3)
    post, pre = build(p, False, 0), build(p, True, 0)
    for (name, a), (_, b) in zip(post.named_parameters(), pre.named_parameters(), strict=True):
        assert a.equal(b), name
    assert [blk.norm_first for blk in post] == [False] * 3
    assert [blk.norm_first for blk in pre] == [True] * 3


def test_growth_is_the_fitted_last_over_first_ratio():
    assert growth([1.0, 2.0, 4.0, 8.0]) == pytest.approx(8.0)
    assert growth([3.0, 3.0, 3.0]) == pytest.approx(1.0)


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad", [{"n_layers": 1}, {"n_layers": 25}, {"d_model": 30, "n_heads": 4}, {"batch": 0}]
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
