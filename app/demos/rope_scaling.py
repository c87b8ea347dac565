"""Stretching RoPE past its trained length. RoPE rotates pair i of q and k by position·θ_i,
θ_i = base^(−2i/d), so q_m·k_n depends only on m − n. Run to L > L_train (s = L/L_train):
plain RoPE turns the slow pairs to angles never seen in training; position interpolation (PI)
divides positions by s, keeping every angle inside the trained range but slowing the fast pairs
too; NTK-aware scaling raises the base to base·s^(d/(d−2)), which leaves the fastest pair alone
and slows the slowest pair by exactly s.

Sources: Su et al. 2021, "RoFormer" (arXiv:2104.09864), §3.2-3.4; Chen et al. 2023, "Extending
Context Window of Large Language Models via Positional Interpolation" (arXiv:2306.15595), §2;
bloc97 2023, "NTK-Aware Scaled RoPE" (Reddit r/LocalLLaMA post), restated in Peng et al. 2023,
"YaRN" (arXiv:2309.00071), §3.1.
"""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import (
    Chart,
    DemoParams,
    DemoResult,
    Scalar,
    Series,
    Table,
    generator,
    register,
)
from app.demos._lazy import torch

METHODS = ("plain", "PI", "NTK")


class Params(DemoParams):
    d: int = Field(64, ge=4, le=256, multiple_of=2, description="Head width (even).")
    base: float = Field(10_000.0, ge=10.0, le=10_000_000.0, description="RoPE base.")
    train_len: int = Field(128, ge=8, le=8192, description="Trained context length L_train.")
    target_len: int = Field(
        512, ge=8, le=65_536, description="Context length L to run at (≥ L_train)."
    )
    shift: int = Field(1000, ge=1, le=100_000, description="Shift both positions by this much.")

    @model_validator(mode="after")
    def _longer(self) -> Params:
        if self.target_len < self.train_len:
            raise ValueError(
                f"target_len ({self.target_len}) must be at least train_len ({self.train_len})"
            )
        return self


def frequencies(d: int, base: float) -> torch.Tensor:
    """θ_i = base^(−2i/d), i = 0 … d/2 − 1: radians per position of each pair."""
    return base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)


def method_setup(method: str, d: int, base: float, s: float) -> tuple[torch.Tensor, float]:
    """(θ, position scale) of a method at scale factor s = L / L_train."""
    if method == "PI":
        return frequencies(d, base), 1 / s
    if method == "NTK":
        return frequencies(d, base * s ** (d / (d - 2))), 1.0
    return frequencies(d, base), 1.0


def rotate(x: torch.Tensor, pos: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Rotate each pair (x[2i], x[2i+1]) of x by pos·θ_i; pos may hold many positions."""
    ang = pos.double()[..., None] * theta
    c, s = torch.cos(ang), torch.sin(ang)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * c - x2 * s, x1 * s + x2 * c], -1).flatten(-2)


def scores(
    q: torch.Tensor,
    k: torch.Tensor,
    m: torch.Tensor,
    n: torch.Tensor,
    theta: torch.Tensor,
    pos_scale: float,
) -> torch.Tensor:
    """q rotated to position m · k rotated to position n, for each (m, n): absolute rotations,
    nothing assumes the score is relative."""
    return (rotate(q, m * pos_scale, theta) * rotate(k, n * pos_scale, theta)).sum(-1)


@register(
    "rope-scaling",
    title=L(
        zh="RoPE 外推：位置插值与 NTK 缩放", en="Stretching RoPE: interpolation and NTK scaling"
    ),
    description=L(
        zh="RoPE 按位置把 q、k 的每一对分量旋转 位置·θ_i，分数只依赖位置差。超出训练长度时：原始 RoPE 的低频对转到训练中没见过的角度；位置插值把位置除以 s，所有角度都回到训练范围内，但高频也被放慢；NTK 缩放把底数换成 base·s^(d/(d−2))，最快的一对不变，最慢的一对恰好慢 s 倍。",
        en="RoPE rotates each pair of q and k by position·θ_i, so the score depends only on the offset. Past the trained length, plain RoPE turns the slow pairs to angles training never showed; position interpolation divides positions by s, bringing every angle back into the trained range but slowing the fast pairs as well; NTK scaling sets the base to base·s^(d/(d−2)), leaving the fastest pair unchanged and slowing the slowest one by exactly s.",
    ),
    params=Params,
    serves=("long-context",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    q = torch.randn(p.d, generator=g, dtype=torch.float64)
    k = torch.randn(p.d, generator=g, dtype=torch.float64)
    s = p.target_len / p.train_len
    step = max(1, math.ceil(p.target_len / 200))
    offsets = torch.arange(0, p.target_len + 1, step, dtype=torch.float64)
    m0 = torch.zeros_like(offsets)
    trained = frequencies(p.d, p.base) * p.train_len  # largest angle of each pair in training

    curves: dict[str, list[float]] = {}
    rows = []
    spectrum = []
    shift_err = 0.0
    info: dict[str, dict[str, float]] = {}
    for method in METHODS:
        theta, scale = method_setup(method, p.d, p.base, s)
        # Query at m, key at m + offset (the key comes later: offset = n − m).
        base_curve = scores(q, q, m0, m0 + offsets, theta, scale)
        curves[method] = base_curve.tolist()
        a = scores(q, k, m0, m0 + offsets, theta, scale)
        b = scores(q, k, m0 + p.shift, m0 + p.shift + offsets, theta, scale)
        shift_err = max(shift_err, (a - b).abs().max().item())
        reach = theta * scale * p.target_len  # largest angle of each pair at L
        ratio = reach / trained
        # A pair that made a full turn in training has met every phase; only the slower pairs
        # can meet an angle they never saw, and do so when they turn further than in training.
        slow = trained < 2 * math.pi
        unseen = int((slow & (ratio > 1 + 1e-12)).sum())
        overshoot = ratio[slow].max().item() if bool(slow.any()) else 1.0
        info[method] = {
            "fast": (theta[0] * scale).item(),
            "slow_reach": reach[-1].item(),
            "ratio": ratio.max().item(),
            "overshoot": overshoot,
            "unseen": unseen,
        }
        rows.append(
            [
                method,
                round((theta[0] * scale).item(), 6),
                float(f"{(theta[-1] * scale).item():.4g}"),
                float(f"{reach[-1].item():.4g}"),
                float(f"{trained[-1].item():.4g}"),
                round(info[method]["ratio"], 4),
                round(overshoot, 4),
                unseen,
            ]
        )
        spectrum.append(Series(name=method, x=list(range(p.d // 2)), y=(theta * scale).tolist()))
    ntk_base = p.base * s ** (p.d / (p.d - 2))
    x = offsets.tolist()
    return DemoResult(
        conclusion=L(
            zh=f"训练长度 {p.train_len}，运行到 {p.target_len}（s = {s:.3g}）。两个位置同时平移 {p.shift}，三种方法的分数最大变化 {shift_err:.1e}：分数只依赖位置差。原始 RoPE 最慢的一对转到 {info['plain']['slow_reach']:.3g} rad，是训练中最大角度 {trained[-1].item():.3g} rad 的 {info['plain']['overshoot']:.3g} 倍，{info['plain']['unseen']} 对遇到没见过的角度；位置插值每一对都不超过训练范围（最大比值 {info['PI']['ratio']:.3g}），但最快的一对每个位置只转 {info['PI']['fast']:.3g} rad；NTK（底数 {ntk_base:.4g}）最快的一对仍是每个位置 {info['NTK']['fast']:.3g} rad，最慢的一对回到 {info['NTK']['slow_reach']:.3g} rad，但中间仍有 {info['NTK']['unseen']} 对超出训练范围（最多 {info['NTK']['overshoot']:.3g} 倍）。",
            en=f"Trained on {p.train_len} positions, run to {p.target_len} (s = {s:.3g}). Shifting both positions by {p.shift} changes the score by at most {shift_err:.1e} under all three methods: the score depends only on the offset. Plain RoPE turns its slowest pair to {info['plain']['slow_reach']:.3g} rad, {info['plain']['overshoot']:.3g}× the trained maximum of {trained[-1].item():.3g} rad, and {info['plain']['unseen']} pairs meet unseen angles. Interpolation keeps every pair inside its trained range (largest ratio {info['PI']['ratio']:.3g}) but the fastest pair now turns only {info['PI']['fast']:.3g} rad per position. NTK (base {ntk_base:.4g}) keeps the fastest pair at {info['NTK']['fast']:.3g} rad per position and brings the slowest back to {info['NTK']['slow_reach']:.3g} rad, yet {info['NTK']['unseen']} pairs in between still pass their trained range (by up to {info['NTK']['overshoot']:.3g}×).",
        ),
        scalars=[
            Scalar(
                key="shift_error",
                label=L(
                    zh="两个位置同时平移后分数的最大变化",
                    en="max score change when both positions shift",
                ),
                value=shift_err,
            ),
            Scalar(
                key="scale", label=L(zh="缩放倍数 s = L/L_train", en="scale s = L/L_train"), value=s
            ),
            Scalar(
                key="ntk_base",
                label=L(zh="NTK 缩放后的底数", en="NTK-scaled base"),
                value=ntk_base,
            ),
            *(
                Scalar(
                    key=f"max_angle_ratio_{m.lower()}",
                    label=L(
                        zh=f"{m}：运行到 L 的最大角度 / 训练中的最大角度（逐对取最大）",
                        en=f"{m}: largest angle at L / in training (worst pair)",
                    ),
                    value=info[m]["ratio"],
                )
                for m in METHODS
            ),
            *(
                Scalar(
                    key=f"unseen_pairs_{m.lower()}",
                    label=L(
                        zh=f"{m}：遇到没见过角度的对数", en=f"{m}: pairs meeting unseen angles"
                    ),
                    value=info[m]["unseen"],
                )
                for m in METHODS
            ),
            *(
                Scalar(
                    key=f"slow_overshoot_{m.lower()}",
                    label=L(
                        zh=f"{m}：训练中没转满一圈的对，运行到 L 的角度 / 训练中的最大角度",
                        en=f"{m}: pairs short of a full turn in training, angle at L / trained",
                    ),
                    value=info[m]["overshoot"],
                )
                for m in METHODS
            ),
        ],
        tables=[
            Table(
                title=L(
                    zh=f"每种方法的旋转角度（d = {p.d}，底数 {p.base:g}，训练 {p.train_len} → 运行 {p.target_len}）",
                    en=f"Rotation angles per method (d = {p.d}, base {p.base:g}, trained {p.train_len} → run {p.target_len})",
                ),
                columns=[
                    "method",
                    "fastest pair: rad / position",
                    "slowest pair: rad / position",
                    "slowest pair: angle at L (rad)",
                    "slowest pair: angle at L_train, trained (rad)",
                    "angle at L / trained, worst pair",
                    "… worst pair with no full turn in training",
                    "pairs meeting unseen angles",
                ],
                rows=rows,
            )
        ],
        charts=[
            Chart(
                title=L(
                    zh=f"q·k 与位置差（k = q；训练时位置差最多 {p.train_len}）",
                    en=f"q·k vs offset (k = q; training saw offsets up to {p.train_len})",
                ),
                x_label="offset n − m (positions)",
                y_label="q·k",
                series=[Series(name=m, x=x, y=curves[m]) for m in METHODS],
            ),
            Chart(
                title=L(
                    zh="每一对的旋转速度 θ_i（每个位置的弧度）",
                    en="Rotation speed θ_i of each pair (radians per position)",
                ),
                x_label="pair index i",
                y_label="θ_i (rad / position)",
                log_y=True,
                series=spectrum,
            ),
        ],
    )
