"""Numerics: the range and precision of fp32, fp16, bf16 and the two fp8 formats (torch.finfo;
the fp8 pair of Micikevicius et al. 2022, "FP8 Formats for Deep Learning"); what overflows and
underflows; softmax and LayerNorm in each format against fp32; why a softmax subtracts the max;
and why fp16 training scales the loss (Micikevicius et al. 2018, "Mixed Precision Training",
§3.2) while bf16, with fp32's exponent range, does not need to."""

from __future__ import annotations

import math

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Scalar, Series, Table, generator, register
from app.demos._lazy import F, torch


class Params(DemoParams):
    big_value: float = Field(
        70_000.0, ge=1.0, le=1e38, description="A large value to cast to each format."
    )
    tiny_value: float = Field(
        1e-8, ge=1e-30, le=1.0, description="A small positive value to cast to each format."
    )
    max_logit: float = Field(
        20.0, ge=1.0, le=200.0, description="Largest logit of the softmax rows (the rest below)."
    )
    width: int = Field(64, ge=2, le=4096, description="Vector length for softmax and LayerNorm.")
    grad_std: float = Field(
        1e-7, ge=1e-12, le=1e-2, description="Standard deviation of the toy gradients."
    )
    scale_log2: int = Field(16, ge=0, le=32, description="Loss scale 2^k: the k.")


ROWS = 16
N_GRADS = 4096
SWEEP_LOGITS = [float(v) for v in range(2, 121, 2)]  # 60 points, past fp32's exp overflow at 88.7


def _formats() -> list[tuple[str, torch.dtype]]:
    return [
        ("fp32", torch.float32),
        ("fp16", torch.float16),
        ("bf16", torch.bfloat16),
        ("fp8 e4m3fn", torch.float8_e4m3fn),
        ("fp8 e5m2", torch.float8_e5m2),
    ]


# torch 2.13 implements no arithmetic for the fp8 dtypes on CPU (softmax, add: "not implemented
# for 'Float8_e4m3fn'"); fp8 is a storage and matmul-input format, so its rows round the input
# to fp8 and compute in fp32.
def native(dt: torch.dtype) -> bool:
    return dt in (torch.float32, torch.float16, torch.bfloat16)


def finfo_row(name: str, dt: torch.dtype) -> list[str | int | float]:
    fi = torch.finfo(dt)
    mantissa = round(-math.log2(fi.eps))  # eps = 2^-mantissa bits
    return [
        name,
        fi.bits,
        fi.bits - 1 - mantissa,  # one sign bit, the rest exponent
        mantissa,
        fi.max,
        fi.smallest_normal,
        fi.smallest_normal * fi.eps,  # smallest subnormal: the last mantissa bit below it
        fi.eps,
    ]


def cast(v: float, dt: torch.dtype) -> float:
    return torch.tensor([v], dtype=torch.float32).to(dt).float().item()


def naive_softmax(x: torch.Tensor) -> torch.Tensor:
    """exp(x) / Σ exp(x) with no max subtracted: exp overflows to inf once x passes log(max)."""
    e = x.exp()
    return e / e.sum(-1, keepdim=True)


def _in(x: torch.Tensor, dt: torch.dtype) -> torch.Tensor:
    return x.to(dt) if native(dt) else x.to(dt).float()


def _err(a: torch.Tensor, ref: torch.Tensor) -> float:
    """Max |a − ref|; nan when a has a nan or inf (the overflow this demo is about)."""
    a = a.double()
    return (a - ref).abs().max().item() if torch.isfinite(a).all() else math.nan


def scaled_grads(g: torch.Tensor, k: int, dt: torch.dtype) -> torch.Tensor:
    """Gradients as they arrive when the loss was multiplied by 2^k and they were stored in dt,
    then unscaled in fp32 (what torch.amp.GradScaler does before the optimizer step)."""
    s = 2.0**k
    return (g * s).to(dt).float() / s


def grad_stats(g: torch.Tensor, got: torch.Tensor) -> tuple[float, float, float]:
    """Share flushed to zero, share overflowed to inf, median relative error of the rest."""
    zero = (got == 0) & (g != 0)
    inf = torch.isinf(got)
    ok = ~zero & ~inf
    rel = ((got - g).abs() / g.abs())[ok]
    med = rel.median().item() if rel.numel() else math.nan
    return zero.float().mean().item(), inf.float().mean().item(), med


def _fmt(v: float) -> str:
    return f"{v:.6g}"


@register(
    "precision-ranges",
    title=L(zh="数值格式：fp32、fp16、bf16、fp8", en="Number formats: fp32, fp16, bf16, fp8"),
    description=L(
        zh="用 torch.finfo 列出各格式的最大值、最小正规数和 eps；看一个大数和一个小数转换后变成什么；softmax 与 LayerNorm 在各格式下相对 fp32 的误差，不减最大值的 softmax 如何溢出；以及 fp16 的小梯度为何要靠 loss scaling 才不被冲成 0。",
        en="torch.finfo's max, smallest normal and eps for each format; what a large and a small value become when cast; softmax and LayerNorm in each format against fp32, and how a softmax that skips the max subtraction overflows; and why small fp16 gradients need loss scaling to survive.",
    ),
    params=Params,
    serves=("numerics",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    formats = _formats()
    by_name = dict(formats)

    # 1. Range and precision, straight from torch.finfo.
    finfo_rows = [finfo_row(n, dt) for n, dt in formats]
    casts = {n: (cast(p.big_value, dt), cast(p.tiny_value, dt)) for n, dt in formats}

    # 2. Softmax and LayerNorm in each format against a float64 reference. Logits are shifted so
    # each row's largest is max_logit: the naive softmax then sees exp(max_logit).
    x = torch.randn(ROWS, p.width, generator=g, dtype=torch.float64) * 3
    logits = x - x.amax(-1, keepdim=True) + p.max_logit
    ref_sm = logits.softmax(-1)
    ref_ln = F.layer_norm(x, (p.width,))
    op_rows, errs = [], {}
    for name, dt in formats:
        sm = _err(_in(logits.float(), dt).softmax(-1), ref_sm)
        naive = _err(naive_softmax(_in(logits.float(), dt)), ref_sm)
        ln = _err(F.layer_norm(_in(x.float(), dt), (p.width,)), ref_ln)
        errs[name] = (sm, naive, ln)
        how = "native" if native(dt) else "input rounded to fp8, op in fp32"
        op_rows.append([name, how, _fmt(sm), _fmt(naive), _fmt(ln)])

    # The naive softmax across a sweep of largest logits: it breaks where exp overflows.
    sweep_base = x[:4].float() - x[:4].float().amax(-1, keepdim=True)
    sweep_series = []
    for name in ("fp16", "bf16", "fp32"):
        ys = []
        for m in SWEEP_LOGITS:
            z = (sweep_base + m).double()
            ys.append(_err(naive_softmax(_in(z.float(), by_name[name])), z.softmax(-1)))
        sweep_series.append(Series(name=f"naive {name}", x=SWEEP_LOGITS, y=ys))
    stable16 = [
        _err(
            _in((sweep_base + m).float(), torch.float16).softmax(-1),
            (sweep_base + m).double().softmax(-1),
        )
        for m in SWEEP_LOGITS
    ]
    sweep_series.append(
        Series(name="torch.softmax fp16 (max subtracted)", x=SWEEP_LOGITS, y=stable16)
    )
    overflow_at = {
        name: math.log(torch.finfo(by_name[name]).max) for name in ("fp16", "bf16", "fp32")
    }

    # 3. Loss scaling: small gradients stored in fp16, without and with a 2^k scale.
    grads = torch.randn(N_GRADS, generator=g) * p.grad_std
    fp16_plain = grad_stats(grads, scaled_grads(grads, 0, torch.float16))
    fp16_scaled = grad_stats(grads, scaled_grads(grads, p.scale_log2, torch.float16))
    bf16_plain = grad_stats(grads, scaled_grads(grads, 0, torch.bfloat16))
    ks = list(range(0, 33))
    zero_by_k, inf_by_k = [], []
    for k in ks:
        z, i, _ = grad_stats(grads, scaled_grads(grads, k, torch.float16))
        zero_by_k.append(z)
        inf_by_k.append(i)

    big16, bigbf = casts["fp16"][0], casts["bf16"][0]
    tiny16, tinybf = casts["fp16"][1], casts["bf16"][1]
    naive16_ok = not math.isnan(errs["fp16"][1])
    k = p.scale_log2
    return DemoResult(
        conclusion=L(
            zh=(
                f"{_fmt(p.big_value)} 转成 fp16 得 {_fmt(big16)}，转成 bf16 得 {_fmt(bigbf)}；{_fmt(p.tiny_value)} 转成 fp16 得 {_fmt(tiny16)}，bf16 得 {_fmt(tinybf)}。"
                f"最大 logit 为 {p.max_logit:g} 时，不减最大值的 fp16 softmax {'仍然有限' if naive16_ok else '溢出成 NaN'}（exp 在 logit 超过 {overflow_at['fp16']:.2f} 时溢出），torch.softmax 的误差 {errs['fp16'][0]:.2g}。"
                f"标准差 {p.grad_std:.0e} 的梯度存成 fp16 时 {fp16_plain[0]:.1%} 变成 0；先乘 2^{k} 再存，变 0 的只剩 {fp16_scaled[0]:.1%}，溢出 {fp16_scaled[1]:.1%}；bf16 不缩放也只有 {bf16_plain[0]:.1%} 变 0。"
            ),
            en=(
                f"{_fmt(p.big_value)} becomes {_fmt(big16)} in fp16 and {_fmt(bigbf)} in bf16; {_fmt(p.tiny_value)} becomes {_fmt(tiny16)} in fp16 and {_fmt(tinybf)} in bf16. "
                f"With a largest logit of {p.max_logit:g}, the fp16 softmax without the max subtraction {'stays finite' if naive16_ok else 'overflows to NaN'} (exp overflows past {overflow_at['fp16']:.2f}), while torch.softmax errs by {errs['fp16'][0]:.2g}. "
                f"Of gradients with std {p.grad_std:.0e} stored in fp16, {fp16_plain[0]:.1%} become 0; scaled by 2^{k} first, {fp16_scaled[0]:.1%} do and {fp16_scaled[1]:.1%} overflow; in bf16 without any scale {bf16_plain[0]:.1%} do."
            ),
        ),
        scalars=[
            Scalar(
                key="big_in_fp16", label=L(zh="大数 → fp16", en="large value → fp16"), value=big16
            ),
            Scalar(
                key="big_in_bf16", label=L(zh="大数 → bf16", en="large value → bf16"), value=bigbf
            ),
            Scalar(
                key="tiny_in_fp16", label=L(zh="小数 → fp16", en="small value → fp16"), value=tiny16
            ),
            Scalar(
                key="tiny_in_bf16", label=L(zh="小数 → bf16", en="small value → bf16"), value=tinybf
            ),
            Scalar(
                key="naive_softmax_fp16_finite",
                label=L(zh="不减最大值的 fp16 softmax 有限", en="naive fp16 softmax finite"),
                value=naive16_ok,
            ),
            Scalar(
                key="softmax_fp16_err",
                label=L(zh="fp16 torch.softmax 最大误差", en="fp16 torch.softmax max error"),
                value=errs["fp16"][0],
            ),
            Scalar(
                key="fp16_grads_zeroed",
                label=L(zh="fp16 不缩放：梯度变 0 的比例", en="fp16 unscaled: gradients zeroed"),
                value=fp16_plain[0],
            ),
            Scalar(
                key="fp16_scaled_grads_zeroed",
                label=L(zh="fp16 乘 2^k：梯度变 0 的比例", en="fp16 ×2^k: gradients zeroed"),
                value=fp16_scaled[0],
            ),
            Scalar(
                key="fp16_scaled_grads_inf",
                label=L(zh="fp16 乘 2^k：梯度溢出的比例", en="fp16 ×2^k: gradients overflowed"),
                value=fp16_scaled[1],
            ),
            Scalar(
                key="bf16_grads_zeroed",
                label=L(zh="bf16 不缩放：梯度变 0 的比例", en="bf16 unscaled: gradients zeroed"),
                value=bf16_plain[0],
            ),
        ],
        tables=[
            Table(
                title=L(
                    zh="torch.finfo：范围与精度（subnormal 最小值 = 最小正规数 × eps）",
                    en="torch.finfo: range and precision (smallest subnormal = smallest normal × eps)",
                ),
                columns=[
                    "format",
                    "bits",
                    "exponent bits",
                    "mantissa bits",
                    "max",
                    "smallest normal",
                    "smallest subnormal",
                    "eps",
                ],
                rows=finfo_rows,
            ),
            Table(
                title=L(zh="转换后的值", en="Values after the cast"),
                columns=["format", _fmt(p.big_value), _fmt(p.tiny_value)],
                rows=[[n, _fmt(b), _fmt(t)] for n, (b, t) in casts.items()],
            ),
            Table(
                title=L(
                    zh=f"与 float64 参考值的最大误差（{ROWS}×{p.width}，最大 logit {p.max_logit:g}；nan = 溢出）",
                    en=f"Max error against a float64 reference ({ROWS}×{p.width}, largest logit {p.max_logit:g}; nan = overflow)",
                ),
                columns=["format", "how", "torch.softmax", "naive exp/Σexp", "LayerNorm"],
                rows=op_rows,
            ),
            Table(
                title=L(
                    zh=f"{N_GRADS} 个标准差 {p.grad_std:.0e} 的梯度",
                    en=f"{N_GRADS} gradients with std {p.grad_std:.0e}",
                ),
                columns=["stored as", "zeroed", "overflowed", "median relative error"],
                rows=[
                    ["fp16", *(_fmt(v) for v in fp16_plain)],
                    [f"fp16, loss × 2^{k}", *(_fmt(v) for v in fp16_scaled)],
                    ["bf16", *(_fmt(v) for v in bf16_plain)],
                ],
            ),
        ],
        charts=[
            Chart(
                title=L(
                    zh="不减最大值的 softmax：误差随最大 logit（空缺 = 溢出成 NaN）",
                    en="Softmax without the max subtraction: error by largest logit (gap = NaN overflow)",
                ),
                x_label="largest logit",
                y_label="max |error| vs float64",
                log_y=True,
                series=sweep_series,
            ),
            Chart(
                title=L(
                    zh="fp16 梯度：loss scale 2^k 下变 0 与溢出的比例",
                    en="fp16 gradients: share zeroed and overflowed under a loss scale of 2^k",
                ),
                x_label="k (loss scale 2^k)",
                y_label="share of gradients",
                series=[
                    Series(name="zeroed", x=ks, y=zero_by_k),
                    Series(name="overflowed to inf", x=ks, y=inf_by_k),
                ],
            ),
        ],
    )
