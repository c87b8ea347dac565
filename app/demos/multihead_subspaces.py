"""Q1/Q6: heads of one multi-head layer attend in different patterns, and h heads of width
d_model/h cost the same parameters and FLOPs as one head of width d_model."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import DemoParams, DemoResult, Heatmap, Scalar, Table, generator, register
from app.demos._lazy import torch


class Params(DemoParams):
    d_model: int = Field(64, ge=8, le=1024, description="Model width.")
    heads: int = Field(4, ge=1, le=16, description="Number of heads h (must divide d_model).")
    n: int = Field(10, ge=2, le=48, description="Tokens in the sequence.")

    @model_validator(mode="after")
    def _divides(self) -> Params:
        if self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")
        return self


def cost(d_model: int, heads: int, n: int) -> tuple[int, int]:
    """Parameters of W_Q, W_K, W_V, W_O and multiply-adds of one forward pass over n tokens."""
    d_k = d_model // heads
    params = 4 * d_model * d_model
    proj = 4 * n * d_model * d_model  # Q, K, V and output projections
    attn = heads * (n * n * d_k) * 2  # QKᵀ and weights·V, per head
    return params, proj + attn


@register(
    "multihead-subspaces",
    title=L(zh="多头：不同的子空间，同样的成本", en="Multi-head: different subspaces, same cost"),
    description=L(
        zh="把 d_model 切成 h 个 d_model/h 维的头：每个头的注意力模式不同；参数量和计算量与一个 d_model 维的单头相同。",
        en="Split d_model into h heads of d_model/h: each head attends in its own pattern, while parameters and FLOPs equal one head of width d_model.",
    ),
    params=Params,
    serves=("Q1", "Q6"),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    d_k = p.d_model // p.heads
    x = torch.randn(p.n, p.d_model, generator=g)
    std = 1 / math.sqrt(p.d_model)
    w_q, w_k = (torch.randn(p.d_model, p.d_model, generator=g) * std for _ in range(2))
    # (n, d_model) → (h, n, d_k): each head sees its own slice of the projected space.
    q = (x @ w_q).view(p.n, p.heads, d_k).transpose(0, 1)
    k = (x @ w_k).view(p.n, p.heads, d_k).transpose(0, 1)
    weights = (q @ k.transpose(1, 2) / math.sqrt(d_k)).softmax(-1)  # (h, n, n)
    flat = weights.reshape(p.heads, -1)
    if p.heads > 1:
        dist = torch.cdist(flat, flat) / math.sqrt(p.n)  # RMS difference per row
        off = dist[~torch.eye(p.heads, dtype=torch.bool)]
        mean_dist = off.mean().item()
        argmax_agree = (
            (weights.argmax(-1)[:, None, :] == weights.argmax(-1)[None, :, :]).float().mean(-1)
        )
        agree = argmax_agree[~torch.eye(p.heads, dtype=torch.bool)].mean().item()
    else:
        mean_dist, agree = 0.0, 1.0
    rows = []
    for h in [h for h in (1, 2, 4, 8, 16) if p.d_model % h == 0]:
        params, flops = cost(p.d_model, h, p.n)
        rows.append([h, p.d_model // h, params, flops])
    p1, f1 = cost(p.d_model, 1, p.n)
    ph, fh = cost(p.d_model, p.heads, p.n)
    return DemoResult(
        conclusion=L(
            zh=f"{p.heads} 个 {d_k} 维的头：参数 {ph:,} = 单头 {p1:,}，乘加 {fh:,} = 单头 {f1:,}；不同头的最关注位置只有 {agree:.0%} 相同。",
            en=f"{p.heads} heads of {d_k}: {ph:,} parameters = one head's {p1:,}, {fh:,} multiply-adds = one head's {f1:,}; heads pick the same top key only {agree:.0%} of the time.",
        ),
        scalars=[
            Scalar(key="d_k", label=L(zh="每个头的维度 d_k", en="per-head width d_k"), value=d_k),
            Scalar(
                key="params_h",
                label=L(zh=f"{p.heads} 个头的参数", en=f"parameters, {p.heads} heads"),
                value=ph,
            ),
            Scalar(key="params_1", label=L(zh="单头的参数", en="parameters, one head"), value=p1),
            Scalar(
                key="flops_h",
                label=L(zh=f"{p.heads} 个头的乘加", en=f"multiply-adds, {p.heads} heads"),
                value=fh,
            ),
            Scalar(key="flops_1", label=L(zh="单头的乘加", en="multiply-adds, one head"), value=f1),
            Scalar(
                key="mean_pattern_distance",
                label=L(zh="头之间注意力模式的平均差异", en="mean distance between head patterns"),
                value=mean_dist,
            ),
            Scalar(
                key="top_key_agreement",
                label=L(
                    zh="两头最关注位置相同的比例", en="how often two heads pick the same top key"
                ),
                value=agree,
            ),
        ],
        heatmaps=[
            Heatmap(
                x_label="key position",
                y_label="query position",
                title=L(zh=f"头 {i + 1} 的注意力权重", en=f"Head {i + 1} weights"),
                matrix=weights[i].tolist(),
            )
            for i in range(min(p.heads, 8))
        ],
        tables=[
            Table(
                title=L(zh="头数不同，成本相同", en="Different head counts, same cost"),
                columns=["h", "d_k = d_model/h", "parameters (W_Q,W_K,W_V,W_O)", "multiply-adds"],
                rows=rows,
            )
        ],
    )
