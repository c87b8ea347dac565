"""Label smoothing (Szegedy et al. 2016, "Rethinking the Inception Architecture", §7): the target
is (1 − ε)·one-hot + ε·uniform over the K classes, so the loss is (1 − ε)·CE(y, p) + ε·CE(u, p),
which is what F.cross_entropy(..., label_smoothing=ε) computes (torch/nn/functional.py). Without
smoothing the loss keeps falling as the correct logit pulls away; with it the best gap between
the correct logit and the others is finite: log((1 − ε + ε/K) / (ε/K))."""

from __future__ import annotations

import math

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Scalar, Series, Table, generator, register
from app.demos._lazy import F, torch


class Params(DemoParams):
    classes: int = Field(10, ge=2, le=1000, description="Number of classes (K).")
    epsilon: float = Field(0.1, ge=0.01, le=0.9, description="Smoothing ε.")
    batch: int = Field(32, ge=1, le=1024, description="Random examples for the identity check.")
    logit_std: float = Field(3.0, ge=0.1, le=20.0, description="Spread of the random logits.")


POINTS = 121
GOLDEN = (math.sqrt(5) - 1) / 2


def by_formula(logits: torch.Tensor, labels: torch.Tensor, eps: float) -> torch.Tensor:
    """(1 − ε)·CE(y, p) + ε·CE(u, p) per example, u uniform over the K classes."""
    logp = logits.log_softmax(-1)
    ce_y = -logp.gather(-1, labels[:, None]).squeeze(-1)
    ce_u = -logp.mean(-1)  # Σ_k (1/K)·(−log p_k)
    return (1 - eps) * ce_y + eps * ce_u


def gap_loss(gap: float, k: int, eps: float) -> float:
    """The smoothed loss when the correct logit is ``gap`` above K − 1 equal others."""
    logits = torch.zeros(1, k, dtype=torch.float64)
    logits[0, 0] = gap
    return F.cross_entropy(logits, torch.zeros(1, dtype=torch.long), label_smoothing=eps).item()


def optimal_gap(k: int, eps: float) -> float:
    return math.log((1 - eps + eps / k) / (eps / k))


def minimise_gap(k: int, eps: float, hi: float = 200.0) -> float:
    """Golden-section search of gap_loss over [0, hi] (the loss is convex in the gap)."""
    a, b = 0.0, hi
    c, d = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    fc, fd = gap_loss(c, k, eps), gap_loss(d, k, eps)
    while b - a > 1e-9:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - GOLDEN * (b - a)
            fc = gap_loss(c, k, eps)
        else:
            a, c, fc = c, d, fd
            d = a + GOLDEN * (b - a)
            fd = gap_loss(d, k, eps)
    return (a + b) / 2


def target_entropy(k: int, eps: float) -> float:
    """H(q) of the smoothed target q: the smallest loss any prediction can reach (at p = q)."""
    top, rest = 1 - eps + eps / k, eps / k
    return -(top * math.log(top) + (k - 1) * rest * math.log(rest))


@register(
    "label-smoothing",
    title=L(zh="标签平滑", en="Label smoothing"),
    description=L(
        zh="F.cross_entropy(..., label_smoothing=ε) 等于 (1−ε)·CE(y,p) + ε·CE(u,p)，u 是 K 类上的均匀分布；平滑后，正确类 logit 领先其余的最优差距是有限的：log((1−ε+ε/K)/(ε/K))，不平滑时越大越好。",
        en="F.cross_entropy(..., label_smoothing=ε) equals (1−ε)·CE(y,p) + ε·CE(u,p) with u uniform over K classes; with smoothing the best lead of the correct logit over the rest is finite, log((1−ε+ε/K)/(ε/K)), while without it larger is always better.",
    ),
    params=Params,
    serves=("training",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    k, eps = p.classes, p.epsilon
    logits = torch.randn(p.batch, k, generator=g) * p.logit_std
    labels = torch.randint(0, k, (p.batch,), generator=g)
    torch_loss = F.cross_entropy(logits, labels, label_smoothing=eps, reduction="none")
    identity_gap = (torch_loss - by_formula(logits, labels, eps)).abs().max().item()

    g_star = optimal_gap(k, eps)
    g_found = minimise_gap(k, eps)
    p_top = 1 - eps + eps / k

    # Loss against the gap for a few ε, the chosen one included.
    epsilons = sorted({0.0, 0.05, 0.2, eps})
    finite = [optimal_gap(k, e) for e in epsilons if e > 0]
    top = max(20.0, 1.3 * max(finite))
    xs = [top * i / (POINTS - 1) for i in range(POINTS)]
    series = [Series(name=f"ε = {e:g}", x=xs, y=[gap_loss(x, k, e) for x in xs]) for e in epsilons]
    rows = []
    for e in epsilons:
        if e == 0:
            rows.append([0, "∞ (no minimum)", "—", 1.0, 0.0])
        else:
            rows.append(
                [
                    e,
                    round(optimal_gap(k, e), 4),
                    round(minimise_gap(k, e), 4),
                    round(1 - e + e / k, 4),
                    round(target_entropy(k, e), 4),
                ]
            )
    return DemoResult(
        conclusion=L(
            zh=(
                f"K = {k}、ε = {eps:g}：F.cross_entropy 的平滑损失与 (1−ε)·CE(y,p) + ε·CE(u,p) 在 {p.batch} 个随机样本上最大差 {identity_gap:.1g}。"
                f"损失在正确类领先 {g_found:.4f} 时最小（公式 log((1−ε+ε/K)/(ε/K)) = {g_star:.4f}），此时正确类概率 {p_top:.3f}，损失 {target_entropy(k, eps):.4f} 等于平滑目标的熵；ε = 0 时损失随差距一直下降，没有有限的最优点。"
            ),
            en=(
                f"K = {k}, ε = {eps:g}: F.cross_entropy's smoothed loss and (1−ε)·CE(y,p) + ε·CE(u,p) differ by at most {identity_gap:.1g} over {p.batch} random examples. "
                f"The loss is smallest when the correct logit leads by {g_found:.4f} (the formula log((1−ε+ε/K)/(ε/K)) gives {g_star:.4f}); there the correct class gets probability {p_top:.3f} and the loss, {target_entropy(k, eps):.4f}, equals the smoothed target's entropy. With ε = 0 the loss keeps falling as the gap grows: no finite optimum."
            ),
        ),
        scalars=[
            Scalar(
                key="identity_max_diff",
                label=L(zh="torch 与公式的最大差", en="torch vs formula, max diff"),
                value=identity_gap,
            ),
            Scalar(
                key="optimal_gap_formula",
                label=L(zh="最优差距（公式）", en="optimal gap (formula)"),
                value=g_star,
            ),
            Scalar(
                key="optimal_gap_found",
                label=L(zh="最优差距（数值最小化）", en="optimal gap (minimised)"),
                value=g_found,
            ),
            Scalar(
                key="p_correct_at_optimum",
                label=L(zh="最优点正确类概率", en="correct-class probability at the optimum"),
                value=p_top,
            ),
            Scalar(
                key="min_loss",
                label=L(zh="最小损失 = 目标熵", en="smallest loss = target entropy"),
                value=gap_loss(g_found, k, eps),
            ),
        ],
        tables=[
            Table(
                title=L(
                    zh=f"K = {k} 时各 ε 的最优 logit 差距",
                    en=f"The optimal logit gap for each ε at K = {k}",
                ),
                columns=[
                    "ε",
                    "log((1−ε+ε/K)/(ε/K))",
                    "minimised",
                    "p(correct) there",
                    "loss there = H(target)",
                ],
                rows=rows,
            )
        ],
        charts=[
            Chart(
                title=L(
                    zh="损失随正确类 logit 的领先差距（其余 logit 相等）",
                    en="Loss by the correct logit's lead over the others (the others equal)",
                ),
                x_label="logit gap (nats)",
                y_label="cross-entropy with smoothing (nats)",
                series=series,
            )
        ],
    )
