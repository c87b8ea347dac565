"""LoRA (Hu et al. 2021, §4.1): a frozen Linear W plus a trainable low-rank update (α/r)·B·A, with
B initialised to zero so training starts from the base model exactly. r·(d_in + d_out) trainable
numbers instead of d_in·d_out; after training, W + (α/r)·B·A folds into one matrix that gives
the same outputs (no extra inference cost), and the update's rank is at most r."""

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
    seeded_global_rng,
)
from app.demos._lazy import nn, torch


class Params(DemoParams):
    d_in: int = Field(64, ge=2, le=256, description="Input width of the Linear.")
    d_out: int = Field(64, ge=2, le=256, description="Output width of the Linear.")
    rank: int = Field(4, ge=1, le=64, description="LoRA rank r.")
    alpha: float = Field(8.0, ge=0.5, le=128.0, description="LoRA α; the update is scaled by α/r.")
    target_rank: int = Field(
        8, ge=1, le=64, description="Rank of the change the toy target asks for."
    )
    steps: int = Field(40, ge=1, le=150, description="Adam steps on A and B.")
    lr: float = Field(0.02, ge=1e-4, le=0.1, description="Adam learning rate.")
    samples: int = Field(128, ge=8, le=512, description="Training inputs.")

    @model_validator(mode="after")
    def _ranks_fit(self) -> Params:
        most = min(self.d_in, self.d_out)
        for name in ("rank", "target_rank"):
            if getattr(self, name) > most:
                raise ValueError(
                    f"{name} ({getattr(self, name)}) cannot exceed min(d_in, d_out) = {most}"
                )
        return self


RANKS = [1, 2, 4, 8, 16, 32, 64]


# Functions over a ParameterDict rather than an nn.Module subclass: a subclass would import torch
# when this module loads, and start-up must stay torch-free.
def make_adapter(base: nn.Linear, rank: int, g: torch.Generator) -> nn.ParameterDict:
    """A random and B zero (Hu et al. 2021, §4.1): B·A = 0, so the first output is the base's."""
    a = torch.randn(rank, base.in_features, generator=g) / math.sqrt(base.in_features)
    return nn.ParameterDict(
        {"A": nn.Parameter(a), "B": nn.Parameter(torch.zeros(base.out_features, rank))}
    )


def forward(base: nn.Linear, ad: nn.ParameterDict, scale: float, x: torch.Tensor) -> torch.Tensor:
    """y = W x + b + (α/r)·B A x, with W and b frozen."""
    return base(x) + scale * (x @ ad["A"].T) @ ad["B"].T


def delta(ad: nn.ParameterDict, scale: float) -> torch.Tensor:
    return scale * ad["B"] @ ad["A"]


def merge(base: nn.Linear, ad: nn.ParameterDict, scale: float) -> nn.Linear:
    """One Linear with W + (α/r)·B·A: the adapter folded away."""
    out = nn.Linear(base.in_features, base.out_features)
    with torch.no_grad():
        out.weight.copy_(base.weight + delta(ad, scale))
        out.bias.copy_(base.bias)
    return out


class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1) in a few lines: torch.optim imports torch._dynamo
    and sympy on first use, a heavy load for a few tensor ops. Adam, as the LoRA paper trains
    with, because its step size does not grow with α/r the way plain gradient descent's does
    (a step size that suited α/r = 2 diverged at α/r = 8)."""

    def __init__(self, params: list[torch.Tensor], lr: float, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [torch.zeros_like(q) for q in params]
        self.v = [torch.zeros_like(q) for q in params]

    def step(self, grads: tuple[torch.Tensor, ...]) -> None:
        self.t += 1
        b1, b2 = self.betas
        with torch.no_grad():
            for q, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                denom = (v / (1 - b2**self.t)).sqrt_().add_(self.eps)
                q.addcdiv_(m, denom, value=-self.lr / (1 - b1**self.t))


def train(p: Params, seed: int) -> dict:
    g = generator(seed)
    with seeded_global_rng(seed):
        base = nn.Linear(p.d_in, p.d_out)
    w0 = base.weight.detach().clone()
    x = torch.randn(p.samples, p.d_in, generator=g)
    # The toy target: the base layer plus a random change of rank target_rank whose entries
    # have variance 1/d_in, so it moves each output by about 1.
    u = torch.randn(p.d_out, p.target_rank, generator=g) / math.sqrt(p.target_rank)
    v = torch.randn(p.target_rank, p.d_in, generator=g) / math.sqrt(p.d_in)
    target_delta = u @ v
    with torch.no_grad():
        y = base(x) + x @ target_delta.T
    base.requires_grad_(False)
    ad = make_adapter(base, p.rank, g)
    scale = p.alpha / p.rank
    with torch.no_grad():
        start_diff = (forward(base, ad, scale, x) - base(x)).abs().max().item()
    losses = []
    trained = [ad["A"], ad["B"]]
    adam = Adam(trained, p.lr)
    for _ in range(p.steps):
        loss = (forward(base, ad, scale, x) - y).pow(2).mean()
        adam.step(torch.autograd.grad(loss, trained))
        losses.append(loss.item())
    with torch.no_grad():
        out = forward(base, ad, scale, x)
        final = (out - y).pow(2).mean().item()
        merged_diff = (merge(base, ad, scale)(x) - out).abs().max().item()
    return {
        "base": base,
        "adapter": ad,
        "losses": losses,
        "final": final,
        "start_diff": start_diff,
        "merged_diff": merged_diff,
        "delta": delta(ad, scale).detach(),
        "target_delta": target_delta,
        "base_moved": (base.weight - w0).abs().max().item(),
    }


@register(
    "lora",
    title=L(zh="LoRA：低秩适配", en="LoRA: low-rank adaptation"),
    description=L(
        zh="冻结的 Linear 加上可训练的低秩更新 (α/r)·B·A，B 初始为 0，所以训练开始时输出与原模型完全相同；可训练参数 r·(d_in+d_out) 对比 d_in·d_out；训练几步后把 B·A 合并进 W，输出不变；更新矩阵的秩不超过 r。",
        en="A frozen Linear plus a trainable low-rank update (α/r)·B·A with B starting at zero, so training starts from exactly the base model's output; r·(d_in+d_out) trainable numbers against d_in·d_out; after a few steps B·A merges into W with the same outputs; the update's rank is at most r.",
    ),
    params=Params,
    serves=("post-training",),
)
def run(p: Params, seed: int) -> DemoResult:
    t = train(p, seed)
    d_w, target = t["delta"], t["target_delta"]
    rank = int(torch.linalg.matrix_rank(d_w).item())
    # Enough singular values to see both cliffs, at most 64 bars.
    shown = min(p.d_in, p.d_out, max(2 * max(p.rank, p.target_rank), 8), 64)
    sv = torch.linalg.svdvals(d_w)[:shown]
    sv_target = torch.linalg.svdvals(target)[:shown]
    idx = list(range(1, len(sv) + 1))
    lora_params = p.rank * (p.d_in + p.d_out)
    full = p.d_in * p.d_out
    ranks = sorted({r for r in RANKS if r <= min(p.d_in, p.d_out)} | {p.rank})
    losses = t["losses"] + [t["final"]]
    return DemoResult(
        conclusion=L(
            zh=(
                f"B 初始为 0：训练前 LoRA 层与原层的输出差恰好是 {t['start_diff']:g}。秩 {p.rank} 的适配器训练 {p.rank * (p.d_in + p.d_out)} 个参数（全量微调 {full} 个，占 {lora_params / full:.1%}），"
                f"{p.steps} 步后损失从 {losses[0]:.3f} 降到 {t['final']:.3f}；合并成 W + (α/r)·B·A 后输出最大差 {t['merged_diff']:.1g}，ΔW 的秩为 {rank}（≤ r = {p.rank}），原权重变化 {t['base_moved']:g}。"
            ),
            en=(
                f"B starts at zero: before training the LoRA layer's output differs from the base's by exactly {t['start_diff']:g}. A rank-{p.rank} adapter trains {lora_params} numbers (full fine-tuning: {full}, so {lora_params / full:.1%}); "
                f"after {p.steps} steps the loss falls from {losses[0]:.3f} to {t['final']:.3f}; merged into W + (α/r)·B·A it gives the same outputs to {t['merged_diff']:.1g}, ΔW has rank {rank} (≤ r = {p.rank}), and the frozen weights moved by {t['base_moved']:g}."
            ),
        ),
        scalars=[
            Scalar(
                key="initial_output_diff",
                label=L(zh="训练前与原层的输出差", en="output vs base before training"),
                value=t["start_diff"],
            ),
            Scalar(
                key="merged_vs_adapter",
                label=L(zh="合并权重与适配器的输出差", en="merged vs adapter output"),
                value=t["merged_diff"],
            ),
            Scalar(key="delta_rank", label=L(zh="ΔW 的秩", en="rank of ΔW"), value=rank),
            Scalar(
                key="lora_params",
                label=L(zh="LoRA 可训练参数", en="LoRA trainable parameters"),
                value=lora_params,
            ),
            Scalar(
                key="full_params", label=L(zh="全量参数", en="full matrix parameters"), value=full
            ),
            Scalar(key="loss_start", label=L(zh="初始损失", en="initial loss"), value=losses[0]),
            Scalar(key="loss_end", label=L(zh="最终损失", en="final loss"), value=t["final"]),
            Scalar(
                key="base_weight_change",
                label=L(zh="冻结权重的变化", en="change in the frozen weights"),
                value=t["base_moved"],
            ),
        ],
        tables=[
            Table(
                title=L(
                    zh=f"可训练参数：r·(d_in+d_out) 对比 d_in·d_out（本层 {p.d_in}×{p.d_out}，另列 4096×4096）",
                    en=f"Trainable parameters: r·(d_in+d_out) vs d_in·d_out (this {p.d_in}×{p.d_out} layer, and 4096×4096)",
                ),
                columns=["r", "LoRA", "full", "share", "LoRA at 4096²", "share at 4096²"],
                rows=[
                    [
                        r,
                        r * (p.d_in + p.d_out),
                        full,
                        f"{r * (p.d_in + p.d_out) / full:.2%}",
                        r * 8192,
                        f"{r * 8192 / 4096**2:.2%}",
                    ]
                    for r in ranks
                ],
            )
        ],
        charts=[
            Chart(
                title=L(zh="训练损失（均方误差）", en="Training loss (mean squared error)"),
                x_label="step",
                y_label="MSE",
                log_y=True,
                series=[Series(name=f"LoRA r={p.rank}", x=list(range(len(losses))), y=losses)],
            ),
            Chart(
                title=L(
                    zh=f"奇异值（从大到小）：学到的 ΔW 只有前 {p.rank} 个不为 0，目标改动有 {p.target_rank} 个",
                    en=f"Singular values, largest first: the learned ΔW has {p.rank} non-zero ones, the target's change {p.target_rank}",
                ),
                kind="bar",
                x_label="index (largest first)",
                y_label="singular value",
                log_y=True,
                series=[
                    Series(name="learned ΔW = (α/r)·B·A", x=idx, y=sv.tolist()),
                    Series(name="target change", x=idx, y=sv_target.tolist()),
                ],
            ),
        ],
    )
