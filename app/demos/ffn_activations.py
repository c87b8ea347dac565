"""Q14: ReLU, GELU (exact and tanh approximation), SiLU and the SwiGLU gate; and the share of an
FFN's ReLU units that never fire over a batch, as a negative bias shift kills them."""

from __future__ import annotations

import math

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Scalar, Series, Table, generator, register
from app.demos._lazy import F, torch


class Params(DemoParams):
    x_range: float = Field(
        4.0, ge=1.0, le=10.0, description="Curves are drawn on [−x_range, x_range]."
    )
    d_model: int = Field(64, ge=4, le=512, description="FFN input width.")
    d_ff: int = Field(256, ge=4, le=2048, description="FFN hidden width.")
    batch: int = Field(256, ge=8, le=2048, description="Inputs in the batch.")
    bias_shift: float = Field(
        0.0, ge=-5.0, le=5.0, description="Added to every hidden bias (negative kills ReLU units)."
    )


def dead_fraction(pre: torch.Tensor) -> float:
    """Share of hidden units whose pre-activation is ≤ 0 for every input in the batch."""
    return (pre <= 0).all(dim=0).float().mean().item()


@register(
    "ffn-activations",
    title=L(zh="FFN 的激活函数", en="FFN activations"),
    description=L(
        zh='ReLU、GELU（精确和 tanh 近似）、SiLU 曲线与 SwiGLU 门控；随机 FFN 在一批输入上从不激活的 ReLU 单元比例，以及负偏置如何让单元"死掉"。',
        en="ReLU, GELU (exact and tanh approximation), SiLU curves and the SwiGLU gate; the share of a random FFN's ReLU units that never fire over a batch, and how a negative bias kills them.",
    ),
    params=Params,
    serves=("Q14",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    x = torch.linspace(-p.x_range, p.x_range, 161)
    curves = {
        "ReLU": F.relu(x),
        "GELU (erf)": F.gelu(x),
        "GELU (tanh)": F.gelu(x, approximate="tanh"),
        "SiLU / Swish": F.silu(x),
    }
    grads = {}
    for name, fn in [("ReLU", F.relu), ("GELU (erf)", F.gelu), ("SiLU / Swish", F.silu)]:
        xx = x.clone().requires_grad_(True)
        fn(xx).sum().backward()
        grads[name] = xx.grad.tolist()
    gelu_gap = (curves["GELU (erf)"] - curves["GELU (tanh)"]).abs().max().item()

    inp = torch.randn(p.batch, p.d_model, generator=g)
    bound = 1 / math.sqrt(p.d_model)  # nn.Linear's default init
    w1 = (torch.rand(p.d_model, p.d_ff, generator=g) * 2 - 1) * bound
    b1 = (torch.rand(p.d_ff, generator=g) * 2 - 1) * bound
    v = (torch.rand(p.d_model, p.d_ff, generator=g) * 2 - 1) * bound
    pre = inp @ w1 + b1 + p.bias_shift
    dead_relu = dead_fraction(pre)
    sparsity = (pre <= 0).float().mean().item()
    swiglu = F.silu(pre) * (inp @ v)  # the gated hidden layer of SwiGLU (before W₂)
    shifts = [-3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5]
    dead_curve = [dead_fraction(inp @ w1 + b1 + s) for s in shifts]
    return DemoResult(
        conclusion=L(
            zh=f"偏置平移 {p.bias_shift:+g}：{dead_relu:.1%} 的 ReLU 单元对整批输入都不激活（梯度恒为 0），{sparsity:.0%} 的激活为 0；GELU 的 tanh 近似与精确值最大差 {gelu_gap:.1e}。",
            en=f"Bias shift {p.bias_shift:+g}: {dead_relu:.1%} of ReLU units never fire on the whole batch (zero gradient), {sparsity:.0%} of activations are 0; GELU's tanh approximation differs from the exact one by at most {gelu_gap:.1e}.",
        ),
        scalars=[
            Scalar(
                key="dead_relu_fraction",
                label=L(zh="死亡 ReLU 单元比例", en="dead ReLU units"),
                value=dead_relu,
            ),
            Scalar(
                key="relu_zero_fraction",
                label=L(zh="ReLU 输出为 0 的比例", en="ReLU outputs that are 0"),
                value=sparsity,
            ),
            Scalar(
                key="gelu_tanh_max_error",
                label=L(zh="GELU tanh 近似的最大误差", en="GELU tanh approximation max error"),
                value=gelu_gap,
            ),
            Scalar(
                key="gelu_grad_at_minus_1",
                label=L(zh="GELU 在 x=−1 的导数", en="GELU derivative at x = −1"),
                value=grads["GELU (erf)"][min(range(len(x)), key=lambda i: abs(x[i].item() + 1))],
            ),
            Scalar(
                key="swiglu_zero_fraction",
                label=L(zh="SwiGLU 隐藏层恰为 0 的比例", en="SwiGLU hidden values exactly 0"),
                value=(swiglu == 0).float().mean().item(),
            ),
        ],
        charts=[
            Chart(
                title=L(zh="激活函数", en="Activation functions"),
                x_label="x",
                y_label="f(x)",
                series=[Series(name=k, x=x.tolist(), y=v.tolist()) for k, v in curves.items()],
            ),
            Chart(
                title=L(zh="导数", en="Derivatives"),
                x_label="x",
                y_label="f′(x)",
                series=[Series(name=k, x=x.tolist(), y=v) for k, v in grads.items()],
            ),
            Chart(
                title=L(zh="偏置平移与死亡单元比例", en="Bias shift and dead-unit share"),
                kind="bar",
                x_label="bias shift",
                y_label="share of units never active",
                series=[Series(name="dead ReLU units", x=shifts, y=dead_curve)],
            ),
        ],
        tables=[
            Table(
                title=L(zh="激活函数对比", en="Activations compared"),
                columns=["activation", "formula", "gradient for x < 0", "used in"],
                rows=[
                    ["ReLU", "max(0, x)", "0", "original Transformer"],
                    ["GELU", "x·Φ(x)", "small, non-zero", "BERT, GPT-2/3"],
                    ["SiLU / Swish", "x·σ(x)", "small, non-zero", "inside SwiGLU"],
                    ["SwiGLU", "SiLU(xW) ⊙ (xV), then W₂", "gated", "PaLM, LLaMA"],
                ],
            )
        ],
    )
