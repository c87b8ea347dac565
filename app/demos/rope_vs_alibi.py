"""Q10: RoPE makes q·k depend only on the offset between positions (shift both and the score is
unchanged); ALiBi adds a per-head linear distance penalty −m_h·(i−j) with slopes 2^(−8h/H)."""

from __future__ import annotations

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import (
    Chart,
    DemoParams,
    DemoResult,
    Heatmap,
    Scalar,
    Series,
    Table,
    generator,
    register,
)
from app.demos._lazy import torch


class Params(DemoParams):
    d: int = Field(64, ge=2, le=512, multiple_of=2, description="Head width (even).")
    n: int = Field(16, ge=2, le=64, description="Sequence length for the ALiBi bias.")
    heads: int = Field(8, ge=1, le=16, description="ALiBi heads.")
    shift: int = Field(100, ge=1, le=10_000, description="Shift both positions by this much.")


def rope(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Rotate each pair (x[2i], x[2i+1]) by pos·θ_i, θ_i = 10000^(−2i/d)."""
    d = x.shape[-1]
    theta = 10000 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    ang = pos[..., None].double() * theta
    c, s = torch.cos(ang), torch.sin(ang)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x1 * c - x2 * s
    out[..., 1::2] = x1 * s + x2 * c
    return out


def alibi_slopes(heads: int) -> list[float]:
    return [2 ** (-8 * (h + 1) / heads) for h in range(heads)]


def alibi_bias(n: int, slope: float) -> torch.Tensor:
    """Causal ALiBi: −slope·(i − j) for keys j ≤ i, −inf above the diagonal."""
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    bias = -slope * (i - j).double()
    return bias.masked_fill(j > i, float("-inf"))


@register(
    "rope-vs-alibi",
    title=L(zh="RoPE 与 ALiBi", en="RoPE and ALiBi"),
    description=L(
        zh="RoPE：把 q、k 按位置旋转后，分数只依赖位置差——两个位置同时平移，分数不变；ALiBi：每个头在分数上加 −m_h·(i−j) 的线性偏置，斜率 2^(−8h/H)。",
        en="RoPE: after rotating q and k by position, the score depends only on the offset — shift both positions and it stays the same. ALiBi: each head adds a linear bias −m_h·(i−j) to the scores, with slopes 2^(−8h/H).",
    ),
    params=Params,
    serves=("Q10",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    q = torch.randn(p.d, generator=g, dtype=torch.float64)
    k = torch.randn(p.d, generator=g, dtype=torch.float64)
    offsets = list(range(-20, 21))
    m0 = 7
    base = [
        torch.dot(rope(q, torch.tensor(m0)), rope(k, torch.tensor(m0 + o))).item() for o in offsets
    ]
    shifted = [
        torch.dot(
            rope(q, torch.tensor(m0 + p.shift)), rope(k, torch.tensor(m0 + p.shift + o))
        ).item()
        for o in offsets
    ]
    shift_err = max(abs(a - b) for a, b in zip(base, shifted, strict=True))
    norm_err = (rope(q, torch.tensor(p.shift)).norm() - q.norm()).abs().item()
    slopes = alibi_slopes(p.heads)
    first = alibi_bias(p.n, slopes[0])
    shown = first.masked_fill(torch.isinf(first), float("nan"))
    return DemoResult(
        conclusion=L(
            zh=f"RoPE：两个位置同时平移 {p.shift}，各偏移下的分数最大变化 {shift_err:.1e}（只依赖位置差）；ALiBi 斜率 {', '.join(f'{s:.4g}' for s in slopes[:4])}…",
            en=f"RoPE: shifting both positions by {p.shift} changes the scores at every offset by at most {shift_err:.1e} (only the offset matters); ALiBi slopes {', '.join(f'{s:.4g}' for s in slopes[:4])}…",
        ),
        scalars=[
            Scalar(
                key="rope_shift_error",
                label=L(
                    zh="RoPE：平移后分数的最大变化", en="RoPE: max score change after shifting"
                ),
                value=shift_err,
            ),
            Scalar(
                key="rope_norm_error",
                label=L(zh="RoPE：旋转前后范数差", en="RoPE: norm change from rotating"),
                value=norm_err,
            ),
            Scalar(
                key="alibi_first_slope",
                label=L(zh="ALiBi：第 1 个头的斜率", en="ALiBi: head 1 slope"),
                value=slopes[0],
            ),
            Scalar(
                key="alibi_last_slope",
                label=L(zh="ALiBi：最后一个头的斜率", en="ALiBi: last head slope"),
                value=slopes[-1],
            ),
        ],
        charts=[
            Chart(
                title=L(
                    zh="RoPE 分数与偏移（原位置 vs 平移后）",
                    en="RoPE score vs offset (original vs shifted)",
                ),
                x_label="offset n − m",
                y_label="q·k",
                series=[
                    Series(name=f"m = {m0}", x=offsets, y=base),
                    Series(name=f"m = {m0 + p.shift}", x=offsets, y=shifted),
                ],
            )
        ],
        heatmaps=[
            Heatmap(
                x_label="key position j",
                y_label="query position i",
                title=L(
                    zh=f"ALiBi 偏置，第 1 个头（斜率 {slopes[0]:.3g}；上三角被因果掩码屏蔽）",
                    en=f"ALiBi bias, head 1 (slope {slopes[0]:.3g}; upper triangle causally masked)",
                ),
                matrix=shown.tolist(),
            )
        ],
        tables=[
            Table(
                title=L(zh="ALiBi 各头斜率", en="ALiBi slope per head"),
                columns=["head", "slope m_h", "bias at distance 10"],
                rows=[[h + 1, s, -10 * s] for h, s in enumerate(slopes)],
            )
        ],
    )
