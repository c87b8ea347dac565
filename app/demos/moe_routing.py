"""MoE: a top-k softmax router over E experts, its load per expert, the Switch Transformer's
load-balancing loss E·Σ f_i·P_i and the tokens an expert capacity of ceil(factor·k·T/E) drops
(Fedus et al. 2021, §2.2: capacity eq. 3, loss eq. 4-6). Switch routes each token to one expert;
for k > 1 this demo takes f_i over all T·k assignments, so Σ f_i = 1 and a balanced router still
scores 1. A bias toward one expert unbalances the load, raises the loss and overflows that
expert's capacity."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Scalar, Series, Table, generator, register
from app.demos._lazy import torch


class Params(DemoParams):
    tokens: int = Field(256, ge=8, le=4096, description="Tokens in the batch (T).")
    experts: int = Field(8, ge=2, le=64, description="Experts (E).")
    top_k: int = Field(2, ge=1, le=8, description="Experts each token is sent to (k).")
    capacity_factor: float = Field(
        1.25, ge=0.25, le=4.0, description="Expert capacity = ceil(factor·k·T/E) slots."
    )
    d_model: int = Field(32, ge=2, le=256, description="Token width.")
    bias: float = Field(
        2.0, ge=0.0, le=10.0, description="Added to expert 0's router logit in the skewed router."
    )

    @model_validator(mode="after")
    def _k_within_e(self) -> Params:
        if self.top_k > self.experts:
            raise ValueError(f"top_k ({self.top_k}) cannot exceed experts ({self.experts})")
        return self


SWEEP_FACTORS = [0.25 * i for i in range(1, 17)]  # 0.25 … 4.0


def capacity(p: Params, factor: float | None = None) -> int:
    cf = p.capacity_factor if factor is None else factor
    return math.ceil(cf * p.top_k * p.tokens / p.experts)


def route(logits: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Router probabilities (T, E) and each token's top-k experts (T, k), best first."""
    probs = logits.softmax(-1)
    return probs, probs.topk(k, dim=-1).indices


def balance_loss(probs: torch.Tensor, chosen: torch.Tensor) -> tuple[float, torch.Tensor]:
    """E·Σ_i f_i·P_i with f_i the share of the T·k assignments sent to expert i and P_i the mean
    router probability of expert i. Either being uniform makes it exactly 1; it is E when one
    expert takes every token with probability 1."""
    e = probs.shape[-1]
    f = torch.bincount(chosen.flatten(), minlength=e).double() / chosen.numel()
    big_p = probs.double().mean(0)
    return e * (f * big_p).sum().item(), f


def slots(chosen: torch.Tensor, n_experts: int) -> torch.Tensor:
    """The buffer slot (T, k) each assignment asks for at its expert: first choices before second
    choices, and within a rank earlier tokens first, as GShard and Switch fill their buffers.
    An expert of C slots keeps exactly the assignments with slot < C (a full expert stays full,
    so the queue order alone decides)."""
    order = chosen.T.reshape(-1)  # rank-major: every first choice, then every second, ...
    onehot = torch.nn.functional.one_hot(order, n_experts)
    slot = onehot.cumsum(0).gather(1, order[:, None]).squeeze(1) - 1
    return slot.view(chosen.shape[1], -1).T


@register(
    "moe-routing",
    title=L(zh="MoE 路由与负载均衡", en="MoE routing and load balancing"),
    description=L(
        zh="top-k 路由器把 T 个 token 分给 E 个专家：每个专家的负载、Switch 的负载均衡损失 E·Σf_i·P_i（完全均衡时为 1）、容量因子决定丢掉多少 token；给某个专家的 logit 加一个偏置，负载失衡、损失上升、丢弃增多。",
        en="A top-k router sends T tokens to E experts: the load per expert, the Switch balancing loss E·Σ f_i·P_i (1 when perfectly balanced), and how many tokens the capacity factor drops; a bias on one expert's logit unbalances the load, raises the loss and drops more.",
    ),
    params=Params,
    serves=("moe",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    x = torch.randn(p.tokens, p.d_model, generator=g)
    w = torch.randn(p.d_model, p.experts, generator=g) / math.sqrt(p.d_model)
    logits = x @ w  # each expert's logit ~ N(0, 1)
    skew = torch.zeros(p.experts)
    skew[0] = p.bias
    cap = capacity(p)

    out = {}
    for name, lg in (("balanced", logits), ("skewed", logits + skew)):
        probs, chosen = route(lg, p.top_k)
        loss, f = balance_loss(probs, chosen)
        load = torch.bincount(chosen.flatten(), minlength=p.experts)
        slot = slots(chosen, p.experts)
        kept = slot < cap
        drops = [(slot >= capacity(p, cf)).sum().item() / slot.numel() for cf in SWEEP_FACTORS]
        out[name] = {
            "loss": loss,
            "load": load.tolist(),
            "P": probs.double().mean(0).tolist(),
            "dropped": int((~kept).sum().item()),
            "lost_tokens": int((~kept).all(-1).sum().item()),
            "drops": drops,
        }
    b, s = out["balanced"], out["skewed"]
    n_assign = p.tokens * p.top_k
    experts = list(range(p.experts))
    return DemoResult(
        conclusion=L(
            zh=(
                f"{p.tokens} 个 token、{p.experts} 个专家、top-{p.top_k}：随机路由器的均衡损失 {b['loss']:.3f}（完全均衡为 1），容量 {cap} 个槽位时丢掉 {b['dropped']}/{n_assign} 次分配。"
                f"给专家 0 的 logit 加 {p.bias:g} 后，它分到 {s['load'][0]} 次分配（均分应为 {n_assign / p.experts:g}），损失升到 {s['loss']:.3f}，丢掉 {s['dropped']} 次，其中 {s['lost_tokens']} 个 token 一个专家都没进。"
            ),
            en=(
                f"{p.tokens} tokens, {p.experts} experts, top-{p.top_k}: the random router's balancing loss is {b['loss']:.3f} (1 when perfectly balanced), and a capacity of {cap} slots drops {b['dropped']} of {n_assign} assignments. "
                f"With {p.bias:g} added to expert 0's logit it receives {s['load'][0]} assignments (an even share is {n_assign / p.experts:g}), the loss rises to {s['loss']:.3f}, {s['dropped']} assignments are dropped and {s['lost_tokens']} tokens reach no expert at all."
            ),
        ),
        scalars=[
            Scalar(
                key="capacity", label=L(zh="每个专家的容量", en="capacity per expert"), value=cap
            ),
            Scalar(
                key="loss_balanced",
                label=L(zh="均衡损失（随机路由器）", en="balancing loss (random router)"),
                value=b["loss"],
            ),
            Scalar(
                key="loss_skewed",
                label=L(zh="均衡损失（偏向专家 0）", en="balancing loss (biased to expert 0)"),
                value=s["loss"],
            ),
            Scalar(
                key="dropped_balanced",
                label=L(zh="丢弃的分配（随机路由器）", en="dropped assignments (random router)"),
                value=b["dropped"],
            ),
            Scalar(
                key="dropped_skewed",
                label=L(zh="丢弃的分配（偏向专家 0）", en="dropped assignments (biased)"),
                value=s["dropped"],
            ),
            Scalar(
                key="tokens_lost_skewed",
                label=L(
                    zh="一个专家都没进的 token（偏向）", en="tokens reaching no expert (biased)"
                ),
                value=s["lost_tokens"],
            ),
        ],
        charts=[
            Chart(
                title=L(
                    zh=f"每个专家分到的分配数（容量 {cap}）",
                    en=f"Assignments per expert (capacity {cap})",
                ),
                kind="bar",
                x_label="expert",
                y_label="assignments (tokens × k)",
                series=[
                    Series(name="random router", x=experts, y=b["load"]),
                    Series(name=f"+{p.bias:g} on expert 0", x=experts, y=s["load"]),
                ],
            ),
            Chart(
                title=L(
                    zh="丢弃的分配比例随容量因子",
                    en="Share of assignments dropped by capacity factor",
                ),
                x_label="capacity factor",
                y_label="share dropped",
                series=[
                    Series(name="random router", x=SWEEP_FACTORS, y=b["drops"]),
                    Series(name=f"+{p.bias:g} on expert 0", x=SWEEP_FACTORS, y=s["drops"]),
                ],
            ),
        ],
        tables=[
            Table(
                title=L(
                    zh="每个专家：负载 f_i（分配占比）与平均路由概率 P_i",
                    en="Per expert: load f_i (share of assignments) and mean router probability P_i",
                ),
                columns=["expert", "f_i random", "P_i random", "f_i biased", "P_i biased"],
                rows=[
                    [
                        i,
                        round(b["load"][i] / n_assign, 4),
                        round(b["P"][i], 4),
                        round(s["load"][i] / n_assign, 4),
                        round(s["P"][i], 4),
                    ]
                    for i in experts
                ],
            )
        ],
    )
