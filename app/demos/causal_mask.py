"""Q16: the causal mask makes attention weights lower-triangular, so changing tokens after
position t leaves every output at positions ≤ t exactly unchanged; without the mask they move."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Heatmap, Scalar, Series, generator, register
from app.demos._lazy import torch


class Params(DemoParams):
    n: int = Field(8, ge=2, le=64, description="Sequence length.")
    d_model: int = Field(32, ge=2, le=512, description="Model width.")
    t: int = Field(3, ge=0, le=63, description="Perturb every token after position t (0-based).")

    @model_validator(mode="after")
    def _inside(self) -> Params:
        if self.t >= self.n - 1:
            raise ValueError(
                f"t ({self.t}) must be below n − 1 ({self.n - 1}) so some token comes after it"
            )
        return self


def attend(
    x: torch.Tensor, w: tuple[torch.Tensor, ...], causal: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    w_q, w_k, w_v = w
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if causal:
        future = torch.ones_like(scores, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    weights = scores.softmax(-1)
    return weights @ v, weights


@register(
    "causal-mask",
    title=L(zh="因果掩码", en="The causal mask"),
    description=L(
        zh="下三角的注意力权重；把位置 t 之后的 token 全部换掉：加了因果掩码时 ≤ t 的输出一点都不变，不加时会变。",
        en="Lower-triangular attention weights; replace every token after position t: with the causal mask the outputs at ≤ t do not change at all, without it they do.",
    ),
    params=Params,
    serves=("Q16",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    std = 1 / math.sqrt(p.d_model)
    w = tuple(torch.randn(p.d_model, p.d_model, generator=g) * std for _ in range(3))
    x = torch.randn(p.n, p.d_model, generator=g)
    x2 = x.clone()
    x2[p.t + 1 :] = torch.randn(p.n - p.t - 1, p.d_model, generator=g)  # new future tokens

    out_c, weights = attend(x, w, causal=True)
    out_c2, _ = attend(x2, w, causal=True)
    out_f, _ = attend(x, w, causal=False)
    out_f2, _ = attend(x2, w, causal=False)
    past = slice(0, p.t + 1)
    diff_causal = (out_c[past] - out_c2[past]).abs().max().item()
    diff_full = (out_f[past] - out_f2[past]).abs().max().item()
    upper = weights.triu(1).abs().max().item()
    per_pos_c = (out_c - out_c2).abs().amax(-1).tolist()
    per_pos_f = (out_f - out_f2).abs().amax(-1).tolist()
    positions = list(range(p.n))
    return DemoResult(
        conclusion=L(
            zh=f"换掉位置 {p.t} 之后的 token：有因果掩码时位置 0..{p.t} 的输出最大变化 {diff_causal:g}，没有掩码时 {diff_full:.3g}。",
            en=f"Replacing the tokens after position {p.t}: with the causal mask outputs 0..{p.t} change by at most {diff_causal:g}; without it by {diff_full:.3g}.",
        ),
        scalars=[
            Scalar(
                key="max_diff_causal",
                label=L(zh="有掩码：≤ t 的输出最大变化", en="masked: max change at ≤ t"),
                value=diff_causal,
            ),
            Scalar(
                key="max_diff_unmasked",
                label=L(zh="无掩码：≤ t 的输出最大变化", en="unmasked: max change at ≤ t"),
                value=diff_full,
            ),
            Scalar(
                key="max_weight_above_diagonal",
                label=L(zh="对角线以上的最大权重", en="max weight above the diagonal"),
                value=upper,
            ),
        ],
        heatmaps=[
            Heatmap(
                x_label="key position",
                y_label="query position",
                title=L(
                    zh="因果注意力权重（行 = query，列 = key）",
                    en="Causal attention weights (rows = queries, columns = keys)",
                ),
                matrix=weights.tolist(),
            )
        ],
        charts=[
            Chart(
                title=L(zh="每个位置的输出变化", en="Output change per position"),
                kind="bar",
                x_label="position",
                y_label="max |Δ|",
                series=[
                    Series(name="causal mask", x=positions, y=per_pos_c),
                    Series(name="no mask", x=positions, y=per_pos_f),
                ],
            )
        ],
    )
