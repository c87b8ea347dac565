"""Q2: with W_Q = W_K the score matrix is symmetric and each token attends most to itself."""

from __future__ import annotations

import math

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import DemoParams, DemoResult, Heatmap, Scalar, Table, generator, register
from app.demos._lazy import torch


class Params(DemoParams):
    n: int = Field(12, ge=2, le=64, description="Tokens in the sequence.")
    d_model: int = Field(64, ge=4, le=512, description="Width of the token vectors.")
    d_k: int = Field(16, ge=1, le=256, description="Query/key width.")


def _stats(scores: torch.Tensor) -> tuple[float, float]:
    asym = ((scores - scores.T).norm() / scores.norm()).item()
    diag = (scores.argmax(dim=1) == torch.arange(scores.shape[0])).float().mean().item()
    return asym, diag


@register(
    "shared-qk",
    title=L(zh="W_Q = W_K 会怎样", en="What if W_Q = W_K"),
    description=L(
        zh="用同一个矩阵投影 Q 和 K：分数矩阵 XW(XW)ᵀ 对称，对角线（自己对自己）最大；分开的 W_Q、W_K 两者都不成立。",
        en="Project Q and K with one matrix: the score matrix XW(XW)ᵀ is symmetric and its diagonal (self-match) dominates; separate W_Q and W_K break both.",
    ),
    params=Params,
    serves=("Q2",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    x = torch.randn(p.n, p.d_model, generator=g)
    std = 1 / math.sqrt(p.d_model)
    w_q = torch.randn(p.d_model, p.d_k, generator=g) * std
    w_k = torch.randn(p.d_model, p.d_k, generator=g) * std
    scale = 1 / math.sqrt(p.d_k)
    shared = (x @ w_q) @ (x @ w_q).T * scale
    separate = (x @ w_q) @ (x @ w_k).T * scale
    a_sh, d_sh = _stats(shared)
    a_se, d_se = _stats(separate)
    w_sh, w_se = shared.softmax(-1), separate.softmax(-1)
    return DemoResult(
        conclusion=L(
            zh=f"共享：不对称度 {a_sh:.2g}，{d_sh:.0%} 的行最关注自己；分开：不对称度 {a_se:.2f}，{d_se:.0%}（随机水平约 {1 / p.n:.0%}）。",
            en=f"Shared: asymmetry {a_sh:.2g}, {d_sh:.0%} of rows attend most to themselves; separate: asymmetry {a_se:.2f}, {d_se:.0%} (chance ≈ {1 / p.n:.0%}).",
        ),
        scalars=[
            Scalar(
                key="asym_shared",
                label=L(zh="共享：‖S−Sᵀ‖/‖S‖", en="shared: ‖S−Sᵀ‖/‖S‖"),
                value=a_sh,
            ),
            Scalar(
                key="asym_separate",
                label=L(zh="分开：‖S−Sᵀ‖/‖S‖", en="separate: ‖S−Sᵀ‖/‖S‖"),
                value=a_se,
            ),
            Scalar(
                key="diag_shared",
                label=L(
                    zh="共享：对角线为行最大的比例", en="shared: rows whose max is the diagonal"
                ),
                value=d_sh,
            ),
            Scalar(
                key="diag_separate",
                label=L(
                    zh="分开：对角线为行最大的比例", en="separate: rows whose max is the diagonal"
                ),
                value=d_se,
            ),
            Scalar(
                key="self_weight_shared",
                label=L(zh="共享：自身平均权重", en="shared: mean self-weight"),
                value=w_sh.diagonal().mean().item(),
            ),
            Scalar(
                key="self_weight_separate",
                label=L(zh="分开：自身平均权重", en="separate: mean self-weight"),
                value=w_se.diagonal().mean().item(),
            ),
        ],
        heatmaps=[
            Heatmap(
                x_label="key token",
                y_label="query token",
                title=L(zh="W_Q = W_K 时的注意力权重", en="Weights with W_Q = W_K"),
                matrix=w_sh.tolist(),
            ),
            Heatmap(
                x_label="key token",
                y_label="query token",
                title=L(zh="W_Q ≠ W_K 时的注意力权重", en="Weights with W_Q ≠ W_K"),
                matrix=w_se.tolist(),
            ),
        ],
        tables=[
            Table(
                title=L(zh="对比", en="Comparison"),
                columns=["", "‖S−Sᵀ‖/‖S‖", "diag argmax", "mean self-weight"],
                rows=[
                    [
                        "W_Q = W_K",
                        round(a_sh, 6),
                        round(d_sh, 3),
                        round(w_sh.diagonal().mean().item(), 3),
                    ],
                    [
                        "W_Q ≠ W_K",
                        round(a_se, 3),
                        round(d_se, 3),
                        round(w_se.diagonal().mean().item(), 3),
                    ],
                ],
            )
        ],
    )
