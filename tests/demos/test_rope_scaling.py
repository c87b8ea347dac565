import math

import pytest
import torch
from pydantic import ValidationError

from app.demos.rope_scaling import Params, frequencies, method_setup, run, scores

CASES = [
    Params(),
    Params(d=128, train_len=4096, target_len=16_384, shift=12_345),
    Params(d=4, base=10.0, train_len=8, target_len=8, shift=1),  # s = 1: nothing to stretch
    Params(d=256, base=10_000_000.0, train_len=8192, target_len=65_536, shift=100_000),
]


@pytest.mark.parametrize("params", CASES)
def test_the_score_depends_only_on_the_offset(params):
    assert run(params, 0).scalar("shift_error") < 1e-9


def test_moving_one_position_alone_changes_the_score():
    g = torch.Generator().manual_seed(0)
    q, k = (torch.randn(16, generator=g, dtype=torch.float64) for _ in range(2))
    theta = frequencies(16, 10_000.0)
    one = torch.tensor([3.0])
    a = scores(q, k, one, one + 2, theta, 1.0)
    b = scores(q, k, one, one + 6, theta, 1.0)
    assert abs((a - b).item()) > 1e-3


@pytest.mark.parametrize("params", CASES)
def test_interpolation_keeps_every_angle_in_the_trained_range(params):
    r = run(params, 0)
    s = params.target_len / params.train_len
    assert r.scalar("max_angle_ratio_pi") <= 1 + 1e-12
    assert r.scalar("unseen_pairs_pi") == 0
    assert r.scalar("max_angle_ratio_plain") == pytest.approx(s)  # plain RoPE goes s× further
    if s > 1:
        assert r.scalar("unseen_pairs_plain") > 0


def test_ntk_keeps_the_fastest_pair_and_slows_the_slowest_by_s():
    p = Params(d=64, train_len=128, target_len=512)
    s = 4
    plain, _ = method_setup("plain", p.d, p.base, s)
    ntk, scale = method_setup("NTK", p.d, p.base, s)
    assert scale == 1.0 and ntk[0] == plain[0] == 1.0
    assert ntk[-1].item() == pytest.approx(plain[-1].item() / s, rel=1e-12)
    assert bool((ntk <= plain).all())  # every other pair in between
    r = run(p, 0)
    assert r.scalar("ntk_base") == pytest.approx(10_000 * 4 ** (64 / 62))
    # It shrinks the overshoot of the slow pairs without removing it, unlike PI.
    assert 1 < r.scalar("slow_overshoot_ntk") < r.scalar("slow_overshoot_plain") == s
    assert r.scalar("unseen_pairs_ntk") <= r.scalar("unseen_pairs_plain")


def test_interpolation_replays_the_trained_curve_stretched_by_s():
    r = run(Params(train_len=100, target_len=400), 0)
    chart = r.charts[0]
    x = chart.series[0].x
    pi = dict(zip(x, chart.series[1].y, strict=True))
    plain = dict(zip(x, chart.series[0].y, strict=True))
    checked = [off for off in x if off % 4 == 0 and off // 4 in plain]
    assert len(checked) > 20
    for off in checked:
        assert pi[off] == pytest.approx(plain[off // 4], abs=1e-9)
    assert len(x) <= 201


def test_angles_table():
    r = run(Params(d=64, base=10_000.0, train_len=128, target_len=512), 0)
    rows = {row[0]: row for row in r.tables[0].rows}
    assert rows["plain"][1] == 1.0 and rows["PI"][1] == 0.25 and rows["NTK"][1] == 1.0
    slowest = 10_000 ** (-62 / 64)
    assert rows["plain"][3] == pytest.approx(512 * slowest, rel=1e-3)
    assert rows["PI"][3] == rows["NTK"][3] == pytest.approx(128 * slowest, rel=1e-3)
    assert math.isclose(rows["PI"][4], 128 * slowest, rel_tol=1e-3)


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad",
    [
        {"d": 3},
        {"d": 258},
        {"base": 1.0},
        {"train_len": 4},
        {"target_len": 70_000},
        {"train_len": 512, "target_len": 256},  # shorter than trained
        {"shift": 0},
    ],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
