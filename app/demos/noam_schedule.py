"""Q19: the Transformer's warmup schedule lr = d_model^-0.5 · min(step^-0.5, step · warmup^-1.5)
(Vaswani et al. 2017, §5.3), computed from the formula.

It used to drive torch.optim.Adam through LambdaLR to show a training loop applies the formula;
Adam's first step imports torch._dynamo, sympy and mpmath (+73 MB per worker and a pause of a
second or more) for a one-line formula. That check now lives in the test (LambdaLR with Adam equals ``noam``)."""

from __future__ import annotations

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Scalar, Series, register


class Params(DemoParams):
    d_model: int = Field(512, ge=16, le=8192, description="Model width (the schedule's scale).")
    warmup: int = Field(4000, ge=1, le=100_000, description="Warmup steps (the paper: 4000).")
    steps: int = Field(20_000, ge=10, le=500_000, description="Steps to plot.")
    factor: float = Field(1.0, ge=0.01, le=10.0, description="Multiplier (1 in the paper).")


def noam(step: int, p: Params) -> float:
    step = max(step, 1)
    return p.factor * p.d_model**-0.5 * min(step**-0.5, step * p.warmup**-1.5)


@register(
    "noam-schedule",
    title=L(zh="Warmup 学习率曲线", en="The warmup learning-rate schedule"),
    description=L(
        zh="lr = d_model^(-0.5)·min(step^(-0.5), step·warmup^(-1.5))：前 warmup 步线性上升，之后按 1/√step 衰减，峰值在 step = warmup。",
        en="lr = d_model^(-0.5)·min(step^(-0.5), step·warmup^(-1.5)): linear rise for warmup steps, then decay as 1/√step; the peak is at step = warmup.",
    ),
    params=Params,
    serves=("Q19",),
)
def run(p: Params, seed: int) -> DemoResult:
    del seed  # the schedule is a formula: nothing is drawn
    stride = max(1, p.steps // 200)
    xs = sorted({1, *range(stride, p.steps + 1, stride), min(p.warmup, p.steps)})
    ys = [noam(x, p) for x in xs]
    peak_step = min(p.warmup, p.steps)
    peak = noam(peak_step, p)
    return DemoResult(
        conclusion=L(
            zh=f"峰值 lr = {peak:.3g}，在第 {peak_step} 步（= d_model^(-0.5)·warmup^(-0.5)）；之后按 1/√step 衰减，到第 {p.steps} 步为 {noam(p.steps, p):.3g}。",
            en=f"Peak lr = {peak:.3g} at step {peak_step} (= d_model^(-0.5)·warmup^(-0.5)); after it the rate decays as 1/√step, to {noam(p.steps, p):.3g} at step {p.steps}.",
        ),
        scalars=[
            Scalar(key="peak_step", label=L(zh="峰值所在步", en="peak step"), value=peak_step),
            Scalar(key="peak_lr", label=L(zh="峰值学习率", en="peak learning rate"), value=peak),
            Scalar(
                key="lr_at_end",
                label=L(zh="最后一步的学习率", en="lr at the last step"),
                value=noam(p.steps, p),
            ),
        ],
        charts=[
            Chart(
                title=L(zh="学习率随步数", en="Learning rate by step"),
                x_label="step",
                y_label="lr",
                series=[Series(name="lr", x=xs, y=ys)],
            )
        ],
    )
