"""Q11: in a deep stack the gradient reaching the first layer vanishes without residual
connections and survives with them (∂(x + F(x))/∂x = I + ∂F/∂x)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Scalar, Series, generator, register
from app.demos._lazy import torch


class Params(DemoParams):
    # Backprop keeps every layer's activations: at the maximum (100 × 128 × 256) that is about
    # 115 MB at peak; 512 × 512 took 765 MB (tests/demos/test_worst_case.py holds the budget).
    n_layers: int = Field(30, ge=2, le=100, description="Layers in the stack.")
    width: int = Field(64, ge=8, le=256, description="Units per layer.")
    activation: Literal["tanh", "relu"] = Field("tanh", description="Non-linearity in each block.")
    init_scale: float = Field(0.5, ge=0.1, le=2.0, description="Weight std, in units of 1/√width.")
    batch: int = Field(32, ge=1, le=128, description="Inputs in the batch.")


def _backprop(ws: list[torch.Tensor], x: torch.Tensor, r: torch.Tensor, residual: bool, act):
    """‖∂loss/∂h_l‖ at each layer's input (the signal backprop carries down) and ‖∂loss/∂W_l‖."""
    ws = [w.clone().requires_grad_(True) for w in ws]
    h = x.clone().requires_grad_(True)
    inputs = []
    for w in ws:
        h.retain_grad()
        inputs.append(h)
        f = act(h @ w)
        h = h + f if residual else f
    (h @ r).sum().backward()  # a linear read-out: the loss does not depend on the output scale
    return [t.grad.norm().item() for t in inputs], [w.grad.norm().item() for w in ws]


def _ratio(bottom: float, top: float) -> float:
    # Every ReLU can be off for a tiny batch: no signal at the top means none reaches the bottom.
    return bottom / top if top > 0 else 0.0


@register(
    "residual-gradients",
    title=L(zh="残差连接与梯度", en="Residual connections and gradients"),
    description=L(
        zh="同样的深层网络，有无残差连接：逐层看参数梯度的范数。没有残差时梯度逐层衰减，第一层几乎学不到；有残差时恒等路径把梯度直接送回去。",
        en="The same deep stack with and without residual connections: the gradient norm of each layer's weights. Without residuals the gradient decays layer by layer and the first layer barely learns; with them the identity path carries it back.",
    ),
    params=Params,
    serves=("Q11",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    std = p.init_scale / math.sqrt(p.width)
    ws = [torch.randn(p.width, p.width, generator=g) * std for _ in range(p.n_layers)]
    x = torch.randn(p.batch, p.width, generator=g)
    act = torch.tanh if p.activation == "tanh" else torch.relu
    r = torch.randn(p.width, generator=g)
    sig_res, w_res = _backprop(ws, x, r, True, act)
    sig_plain, w_plain = _backprop(ws, x, r, False, act)
    layers = list(range(1, p.n_layers + 1))
    # How much of the gradient signal entering the top layer reaches the bottom one.
    reach_res = _ratio(sig_res[0], sig_res[-1])
    reach_plain = _ratio(sig_plain[0], sig_plain[-1])
    return DemoResult(
        conclusion=L(
            zh=f"{p.n_layers} 层 {p.activation}：回传到第一层的梯度信号是顶层的 {reach_res:.3g} 倍（有残差）对 {reach_plain:.2g} 倍（无残差）。",
            en=f"{p.n_layers} {p.activation} layers: the gradient signal reaching the first layer is {reach_res:.3g}× the top layer's with residuals vs {reach_plain:.2g}× without.",
        ),
        scalars=[
            Scalar(
                key="reach_residual",
                label=L(
                    zh="有残差：第一层/顶层 梯度信号", en="residual: bottom/top gradient signal"
                ),
                value=reach_res,
            ),
            Scalar(
                key="reach_plain",
                label=L(zh="无残差：第一层/顶层 梯度信号", en="plain: bottom/top gradient signal"),
                value=reach_plain,
            ),
            Scalar(
                key="first_weight_grad_residual",
                label=L(
                    zh="有残差：第一层权重梯度范数", en="residual: first-layer weight grad norm"
                ),
                value=w_res[0],
            ),
            Scalar(
                key="first_weight_grad_plain",
                label=L(zh="无残差：第一层权重梯度范数", en="plain: first-layer weight grad norm"),
                value=w_plain[0],
            ),
        ],
        charts=[
            Chart(
                title=L(
                    zh="各层输入处的梯度范数 ‖∂L/∂h‖",
                    en="Gradient norm at each layer's input ‖∂L/∂h‖",
                ),
                x_label="layer",
                y_label="‖∂L/∂h‖",
                log_y=True,
                series=[
                    Series(name="with residual", x=layers, y=sig_res),
                    Series(name="without residual", x=layers, y=sig_plain),
                ],
            ),
            Chart(
                title=L(zh="各层权重梯度范数 ‖∂L/∂W‖", en="Weight-gradient norm per layer ‖∂L/∂W‖"),
                x_label="layer",
                y_label="‖∂L/∂W‖",
                log_y=True,
                series=[
                    Series(name="with residual", x=layers, y=w_res),
                    Series(name="without residual", x=layers, y=w_plain),
                ],
            ),
        ],
    )
