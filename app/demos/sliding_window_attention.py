"""Sliding-window attention: query i sees only the w keys i − w + 1 … i (itself included). One
layer reaches w tokens back, but stacking layers chains windows: after L layers a position
depends on L·(w − 1) + 1 tokens. Counted twice: by propagating a one-hot dependency through L
banded masks, and by the gradient of a real L-layer attention stack.

Sources: Beltagy et al. 2020, "Longformer" (arXiv:2004.05150), §3.1 (sliding window, receptive
field l × w); Jiang et al. 2023, "Mistral 7B" (arXiv:2310.06825), §2 (window 4096 × 32 layers ≈
131K tokens).
"""

from __future__ import annotations

import math

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
from app.demos._lazy import F, torch


class Params(DemoParams):
    n: int = Field(32, ge=2, le=64, description="Sequence length.")
    window: int = Field(4, ge=1, le=64, description="Keys each query sees, itself included (w).")
    layers: int = Field(3, ge=1, le=16, description="Stacked attention layers (L).")
    d: int = Field(16, ge=2, le=64, description="Model width of the attention stack.")


def band_mask(n: int, w: int) -> torch.Tensor:
    """True where query i may attend key j: i − w < j ≤ i."""
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    return (j <= i) & (j > i - w)


def propagate(mask: torch.Tensor, layers: int, pos: int) -> torch.Tensor:
    """Input positions that output ``pos`` depends on after ``layers`` masked layers: a one-hot
    at ``pos`` pushed back through the mask once per layer (a residual keeps each token too,
    and the band already includes the diagonal)."""
    dep = torch.zeros(mask.shape[0], dtype=torch.bool)
    dep[pos] = True
    for _ in range(layers):
        dep = (mask[dep]).any(0)  # every key any dependent query may read
    return dep


def gradient_reach(mask: torch.Tensor, layers: int, d: int, g: torch.Generator) -> torch.Tensor:
    """Positions whose input changes the last output of a real attention stack (nonzero grad).
    A masked score gets weight exactly 0, so a position outside the reach gets exactly 0."""
    n = mask.shape[0]
    x = torch.randn(n, d, generator=g, dtype=torch.float64, requires_grad=True)
    h = x
    for _ in range(layers):
        wq, wk, wv = (
            torch.randn(d, d, generator=g, dtype=torch.float64) / d**0.5 for _ in range(3)
        )
        # Pre-LN keeps the scores near unit size: deep stacks otherwise saturate the softmax, and
        # a weight that underflows to exactly 0 would hide a real dependence.
        a = F.layer_norm(h, (d,))
        s = (a @ wq) @ (a @ wk).T / math.sqrt(d)
        h = h + s.masked_fill(~mask, float("-inf")).softmax(-1) @ (a @ wv)
    h[-1].sum().backward()
    return x.grad.abs().sum(-1) > 0


def field(w: int, layers: int) -> int:
    return layers * (w - 1) + 1


@register(
    "sliding-window-attention",
    title=L(zh="滑动窗口注意力", en="Sliding-window attention"),
    description=L(
        zh="每个 query 只看自己和前面共 w 个 key，形成一条带状掩码。单层只能往回看 w 个 token，但层层叠加后窗口首尾相接：L 层之后一个位置依赖 L·(w−1)+1 个 token。这里用掩码传播 one-hot 依赖和真实注意力堆叠的梯度各数一遍。",
        en="Each query sees only w keys, itself and the ones just before it: a banded mask. One layer reaches w tokens back, but stacked layers chain the windows: after L layers a position depends on L·(w−1)+1 tokens. Counted here twice: by pushing a one-hot dependency through the masks, and by the gradient of a real attention stack.",
    ),
    params=Params,
    serves=("efficient-attention",),
)
def run(p: Params, seed: int) -> DemoResult:
    gen = generator(seed)
    mask = band_mask(p.n, p.window)
    last = p.n - 1
    dep = propagate(mask, p.layers, last)
    with torch.enable_grad():  # whatever the caller's grad mode
        reach_grad = gradient_reach(mask, p.layers, p.d, gen)
    formula = min(field(p.window, p.layers), p.n)  # the sequence start caps it
    counted = int(dep.sum())
    counted_grad = int(reach_grad.sum())
    agree = bool(torch.equal(dep, reach_grad))

    # Which inputs every output position depends on after L layers (rows: outputs).
    reach = mask.double()
    for _ in range(p.layers - 1):
        reach = ((reach @ mask.double()) > 0).double()
    per_layer = [int(propagate(mask, k, last).sum()) for k in range(1, p.layers + 1)]
    labels = [str(i) for i in range(p.n)]
    scores_banded = sum(min(i + 1, p.window) for i in range(p.n))
    scores_causal = p.n * (p.n + 1) // 2
    return DemoResult(
        conclusion=L(
            zh=f"窗口 w = {p.window}、{p.layers} 层：最后一个位置依赖 {counted} 个输入 token（公式 L·(w−1)+1 = {field(p.window, p.layers)}，序列长 {p.n} 为上限）；真实注意力堆叠里梯度非零的输入也是 {counted_grad} 个，且位置{'完全相同' if agree else '不同'}。单层每个 query 只算 {p.window} 个分数：整段共 {scores_banded} 个，完整因果注意力 {scores_causal} 个。",
            en=f"Window w = {p.window}, {p.layers} layers: the last position depends on {counted} input tokens (formula L·(w−1)+1 = {field(p.window, p.layers)}, capped by the length {p.n}); in a real attention stack the inputs with a nonzero gradient number {counted_grad}, {'exactly the same positions' if agree else 'at different positions'}. Each query computes only {p.window} scores per layer: {scores_banded} in all, against {scores_causal} for full causal attention.",
        ),
        scalars=[
            Scalar(
                key="receptive_field_formula",
                label=L(zh="公式 min(L·(w−1)+1, n)", en="formula min(L·(w−1)+1, n)"),
                value=formula,
                unit="tokens",
            ),
            Scalar(
                key="receptive_field_propagated",
                label=L(zh="掩码传播 one-hot 数出的依赖", en="counted by propagating a one-hot"),
                value=counted,
                unit="tokens",
            ),
            Scalar(
                key="receptive_field_gradient",
                label=L(zh="梯度非零的输入位置数", en="inputs with a nonzero gradient"),
                value=counted_grad,
                unit="tokens",
            ),
            Scalar(
                key="same_positions",
                label=L(zh="两种方法找到的位置相同", en="both methods find the same positions"),
                value=agree,
            ),
            Scalar(
                key="scores_per_layer",
                label=L(zh="每层分数个数：滑动窗口", en="scores per layer: sliding window"),
                value=scores_banded,
            ),
            Scalar(
                key="scores_per_layer_causal",
                label=L(zh="每层分数个数：完整因果", en="scores per layer: full causal"),
                value=scores_causal,
            ),
        ],
        heatmaps=[
            Heatmap(
                x_label="key position",
                y_label="query position",
                title=L(
                    zh=f"滑动窗口掩码，w = {p.window}（行 = query 位置，列 = key 位置；1 = 可见）",
                    en=f"Sliding-window mask, w = {p.window} (rows = query positions, columns = key positions; 1 = visible)",
                ),
                matrix=mask.double().tolist(),
                row_labels=labels,
                col_labels=labels,
            ),
            Heatmap(
                x_label="key position",
                y_label="query position",
                title=L(
                    zh=f"{p.layers} 层之后的依赖（行 = 输出位置，列 = 输入位置；1 = 有依赖）",
                    en=f"Dependence after {p.layers} layers (rows = output positions, columns = input positions; 1 = depends)",
                ),
                matrix=reach.tolist(),
                row_labels=labels,
                col_labels=labels,
            ),
        ],
        charts=[
            Chart(
                title=L(
                    zh=f"最后一个位置的感受野随层数增长（w = {p.window}）",
                    en=f"Receptive field of the last position by depth (w = {p.window})",
                ),
                x_label="layers",
                y_label="input tokens it depends on",
                series=[
                    Series(
                        name="counted",
                        x=list(range(1, p.layers + 1)),
                        y=per_layer,
                    ),
                    Series(
                        name="L·(w−1)+1",
                        x=list(range(1, p.layers + 1)),
                        y=[field(p.window, k) for k in range(1, p.layers + 1)],
                    ),
                ],
            )
        ],
        tables=[
            Table(
                title=L(
                    zh="感受野 L·(w−1)+1（不受序列长度限制时）",
                    en="Receptive field L·(w−1)+1 (when the sequence is long enough)",
                ),
                columns=["window w", "layers L", "receptive field (tokens)", "model"],
                rows=[
                    [p.window, p.layers, field(p.window, p.layers), "this demo"],
                    [4096, 32, field(4096, 32), "Mistral 7B"],
                ],
            )
        ],
    )
