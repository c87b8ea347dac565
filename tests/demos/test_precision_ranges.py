import math

import pytest
import torch
from pydantic import ValidationError

from app.demos.precision_ranges import Params, cast, run

FORMATS = {
    "fp32": torch.float32,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
    "fp8 e4m3fn": torch.float8_e4m3fn,
    "fp8 e5m2": torch.float8_e5m2,
}


def _table(r, title_start: str) -> dict[str, list]:
    table = next(t for t in r.tables if t.title.en.startswith(title_start))
    return {row[0]: row for row in table.rows}


def test_finfo_table_gives_each_formats_bits_and_range():
    rows = _table(run(Params(), 0), "torch.finfo")
    # exponent and mantissa bits: 8/23, 5/10, 8/7, 4/3, 5/2
    assert [rows[n][2:4] for n in FORMATS] == [[8, 23], [5, 10], [8, 7], [4, 3], [5, 2]]
    assert rows["fp16"][4] == 65504 and rows["fp8 e4m3fn"][4] == 448
    assert rows["fp8 e5m2"][4] == 57344 and rows["bf16"][4] > 3e38
    assert rows["fp16"][7] == 2**-10 and rows["bf16"][7] == 2**-7


@pytest.mark.parametrize("name", list(FORMATS))
def test_smallest_subnormal_is_the_last_representable_step_above_zero(name):
    sub = _table(run(Params(), 0), "torch.finfo")[name][6]
    assert cast(sub, FORMATS[name]) == sub > 0
    if name != "fp32":  # below half of it, the cast rounds to zero
        assert cast(sub * 0.49, FORMATS[name]) == 0


def test_fp16_overflows_and_underflows_where_bf16_does_not():
    r = run(Params(), 0)
    assert r.scalar("big_in_fp16") == "inf"  # 70000 > 65504
    assert r.scalar("big_in_bf16") == pytest.approx(70_000, rel=2**-7)
    assert r.scalar("tiny_in_fp16") == 0.0  # 1e-8 < 2^-25, half fp16's smallest subnormal
    assert r.scalar("tiny_in_bf16") == pytest.approx(1e-8, rel=2**-7)


def test_softmax_without_the_max_subtraction_overflows_past_log_max():
    assert run(Params(max_logit=20), 0).scalar("naive_softmax_fp16_finite") is False
    assert run(Params(max_logit=10), 0).scalar("naive_softmax_fp16_finite") is True
    r = run(Params(), 0)
    assert r.scalar("softmax_fp16_err") < 2e-3  # torch.softmax subtracts the max: fine
    sweep = {s.name: s for s in r.charts[0].series}
    for name, limit in [("fp16", math.log(65504)), ("fp32", math.log(torch.finfo().max))]:
        s = sweep[f"naive {name}"]
        assert all((y is None) == (x > limit) for x, y in zip(s.x, s.y, strict=True))
    assert None not in sweep["torch.softmax fp16 (max subtracted)"].y


def test_fewer_mantissa_bits_mean_larger_softmax_and_layernorm_errors():
    rows = _table(run(Params(), 0), "Max error")
    for col in (2, 4):  # torch.softmax, LayerNorm
        errs = [float(rows[n][col]) for n in FORMATS]
        assert errs == sorted(errs), errs  # fp32 < fp16 < bf16 < e4m3 < e5m2
        assert errs[0] < 1e-6


def test_loss_scaling_rescues_fp16_gradients_and_too_much_overflows():
    r = run(Params(), 0)
    assert r.scalar("fp16_grads_zeroed") > 0.2
    assert r.scalar("fp16_scaled_grads_zeroed") == 0.0
    assert r.scalar("fp16_scaled_grads_inf") == 0.0
    assert r.scalar("bf16_grads_zeroed") == 0.0  # bf16 has fp32's exponent range
    big = run(Params(grad_std=1e-3, scale_log2=32), 0)
    assert big.scalar("fp16_scaled_grads_inf") > 0.9
    zeroed = r.charts[1].series[0].y
    assert zeroed[0] > zeroed[8] > zeroed[16] == 0  # more scale, fewer zeros


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad",
    [{"big_value": 1e39}, {"tiny_value": 0}, {"max_logit": 500}, {"width": 1}, {"scale_log2": 33}],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
