"""Speculative sampling: a cheap draft q proposes a token x, the target p accepts it with
probability min(1, p(x)/q(x)), and on rejection a token is drawn from norm(max(0, p − q)). The
token that comes out is distributed exactly as p, whatever q is; q only sets how often the
draft is accepted: Σ min(p, q) = 1 − TV(p, q). With k drafted tokens and acceptance β at each,
one target call yields (1 − β^(k+1)) / (1 − β) tokens on average.

Sources: Leviathan et al. 2023, "Fast Inference from Transformers via Speculative Decoding"
(arXiv:2211.17192), §2.3 (speculative sampling) and §3.1-3.2 (expected tokens per call, eq. 1;
acceptance Σ min(p, q)); Chen et al. 2023, "Accelerating Large Language Model Decoding with
Speculative Sampling" (arXiv:2302.01318), Theorem 1.
"""

from __future__ import annotations

from pydantic import Field

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
)
from app.demos._lazy import torch

QUALITIES = [i / 20 for i in range(21)]


class Params(DemoParams):
    vocab: int = Field(8, ge=2, le=64, description="Vocabulary size.")
    quality: float = Field(
        0.5, ge=0.0, le=1.0, description="Draft = quality·p + (1 − quality)·(another distribution)."
    )
    k: int = Field(4, ge=1, le=16, description="Tokens the draft proposes per target call.")
    samples: int = Field(20_000, ge=100, le=100_000, description="Seeded speculative rounds.")


def residual(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """norm(max(0, p − q)); all zeros when q = p (then nothing is ever rejected)."""
    r = (p - q).clamp(min=0)
    total = r.sum()
    return r / total if total > 0 else r


def output_distribution(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """P(token x comes out) = P(draft x and accept) + P(reject) · residual(x)."""
    accepted = q * torch.where(q > 0, p / q, torch.zeros_like(p)).clamp(max=1)
    return accepted + (1 - accepted.sum()) * residual(p, q)


def acceptance(p: torch.Tensor, q: torch.Tensor) -> float:
    return torch.minimum(p, q).sum().item()


def expected_tokens(beta: float, k: int) -> float:
    """Tokens per target call: accepted drafts plus the one token the target adds."""
    return float(k + 1) if beta >= 1 else (1 - beta ** (k + 1)) / (1 - beta)


def simulate(
    p: torch.Tensor, q: torch.Tensor, k: int, rounds: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """``rounds`` speculative steps with the same p and q at every position. Returns the first
    emitted token of each round, whether its draft was accepted, and the mean tokens emitted
    per target call."""
    drafts = torch.multinomial(q, rounds * k, replacement=True, generator=g).view(rounds, k)
    u = torch.rand(rounds, k, generator=g, dtype=p.dtype)
    ok = u < p[drafts] / q[drafts]
    # Accepted drafts before the first rejection, then one more token from the target.
    run_len = ok.int().cumprod(1).sum(1)
    r = residual(p, q)
    fixes = (
        torch.multinomial(r, rounds, replacement=True, generator=g)
        if r.sum() > 0
        else torch.zeros(rounds, dtype=torch.long)
    )
    first = torch.where(ok[:, 0], drafts[:, 0], fixes)
    return first, ok[:, 0], (run_len + 1).double().mean().item()


@register(
    "speculative-decoding",
    title=L(zh="投机解码", en="Speculative decoding"),
    description=L(
        zh="小草稿模型 q 先提议一个词 x，大模型 p 以 min(1, p(x)/q(x)) 的概率接受，拒绝时从 norm(max(0, p − q)) 重新抽。输出的词恰好服从 p，与 q 无关；q 只决定接受率 Σ min(p, q) = 1 − TV(p, q)。每次提议 k 个词时，一次大模型调用平均产出 (1 − β^(k+1))/(1 − β) 个词。",
        en="A small draft q proposes a token x; the target p accepts it with probability min(1, p(x)/q(x)) and, on rejection, draws from norm(max(0, p − q)). The token that comes out follows p exactly, whatever q is; q only sets the acceptance rate Σ min(p, q) = 1 − TV(p, q). With k drafted tokens, one target call yields (1 − β^(k+1))/(1 − β) tokens on average.",
    ),
    params=Params,
    serves=("decoding",),
)
def run(p_: Params, seed: int) -> DemoResult:
    g = generator(seed)
    p = (torch.randn(p_.vocab, generator=g, dtype=torch.float64) * 1.5).softmax(-1)
    other = (torch.randn(p_.vocab, generator=g, dtype=torch.float64) * 1.5).softmax(-1)
    q = p_.quality * p + (1 - p_.quality) * other
    out = output_distribution(p, q)
    diff = (out - p).abs().max().item()
    beta = acceptance(p, q)
    tv_pq = 0.5 * (p - q).abs().sum().item()

    first, accepted, per_call = simulate(p, q, p_.k, p_.samples, g)
    freq = torch.bincount(first, minlength=p_.vocab).double() / p_.samples
    tv_sampled = 0.5 * (freq - p).abs().sum().item()
    beta_sampled = accepted.double().mean().item()
    e_tokens = expected_tokens(beta, p_.k)

    drafts_by_quality = [a * p + (1 - a) * other for a in QUALITIES]
    curve = [acceptance(p, d) for d in drafts_by_quality]
    tvs = [0.5 * (p - d).abs().sum().item() for d in drafts_by_quality]
    ks = list(range(1, 17))
    ids = list(range(p_.vocab))
    return DemoResult(
        conclusion=L(
            zh=f"草稿质量 {p_.quality:g}：按 min(1, p/q) 接受、拒绝时从 norm(max(0, p − q)) 重抽，输出分布与 p 的最大差 {diff:.1e}（解析计算）；{p_.samples} 轮带种子的模拟，输出频率与 p 的总变差 {tv_sampled:.3f}（草稿 q 本身与 p 相差 {tv_pq:.3f}）。接受率 Σ min(p, q) = {beta:.3f} = 1 − TV(p, q)，模拟得 {beta_sampled:.3f}。每次提议 {p_.k} 个词，一次大模型调用平均产出 {e_tokens:.2f} 个词（模拟 {per_call:.2f}）。",
            en=f"Draft quality {p_.quality:g}: accepting with min(1, p/q) and redrawing from norm(max(0, p − q)) on rejection gives an output distribution within {diff:.1e} of p (computed exactly); in {p_.samples} seeded rounds the output frequencies are within total variation {tv_sampled:.3f} of p (the draft q itself is {tv_pq:.3f} away). Acceptance Σ min(p, q) = {beta:.3f} = 1 − TV(p, q); simulated {beta_sampled:.3f}. Drafting {p_.k} tokens, one target call yields {e_tokens:.2f} tokens on average (simulated {per_call:.2f}).",
        ),
        scalars=[
            Scalar(
                key="max_abs_diff_output_vs_target",
                label=L(zh="输出分布与 p 的最大差（解析）", en="max |output − p| (exact)"),
                value=diff,
            ),
            Scalar(
                key="tv_sampled_vs_target",
                label=L(zh="模拟输出频率与 p 的总变差", en="TV(simulated output, p)"),
                value=tv_sampled,
            ),
            Scalar(
                key="tv_draft_vs_target",
                label=L(zh="草稿 q 与 p 的总变差", en="TV(q, p)"),
                value=tv_pq,
            ),
            Scalar(
                key="acceptance",
                label=L(zh="接受率 Σ min(p, q)", en="acceptance Σ min(p, q)"),
                value=beta,
            ),
            Scalar(
                key="acceptance_sampled",
                label=L(zh="模拟的接受率", en="simulated acceptance"),
                value=beta_sampled,
            ),
            Scalar(
                key="expected_tokens_per_call",
                label=L(
                    zh="每次大模型调用的期望词数 (1 − β^(k+1))/(1 − β)",
                    en="expected tokens per target call (1 − β^(k+1))/(1 − β)",
                ),
                value=e_tokens,
            ),
            Scalar(
                key="tokens_per_call_sampled",
                label=L(zh="模拟的每次调用词数", en="simulated tokens per target call"),
                value=per_call,
            ),
        ],
        charts=[
            Chart(
                title=L(
                    zh="目标 p、草稿 q 与投机采样的输出分布",
                    en="Target p, draft q and the distribution speculative sampling emits",
                ),
                kind="bar",
                x_label="token id",
                y_label="probability",
                series=[
                    Series(name="target p", x=ids, y=p.tolist()),
                    Series(name="draft q", x=ids, y=q.tolist()),
                    Series(name="output (exact)", x=ids, y=out.tolist()),
                    Series(name=f"output (simulated ×{p_.samples})", x=ids, y=freq.tolist()),
                ],
            ),
            Chart(
                title=L(zh="接受率与草稿质量", en="Acceptance rate vs draft quality"),
                x_label="draft quality (weight of p in q)",
                y_label="acceptance Σ min(p, q)",
                series=[Series(name="acceptance", x=QUALITIES, y=curve)],
            ),
            Chart(
                title=L(
                    zh=f"每次大模型调用的期望词数与提议长度 k（β = {beta:.3f}）",
                    en=f"Expected tokens per target call vs drafted tokens k (β = {beta:.3f})",
                ),
                x_label="drafted tokens k",
                y_label="tokens per target call",
                series=[
                    Series(name=f"β = {beta:.3f}", x=ks, y=[expected_tokens(beta, k) for k in ks]),
                    Series(name="β = 1 (perfect draft)", x=ks, y=[k + 1.0 for k in ks]),
                ],
            ),
        ],
        tables=[
            Table(
                title=L(
                    zh=f"草稿质量、接受率与每次调用的期望词数（k = {p_.k}）",
                    en=f"Draft quality, acceptance and expected tokens per call (k = {p_.k})",
                ),
                columns=["draft quality", "TV(p, q)", "acceptance β", "tokens per target call"],
                rows=[
                    [a, round(tv, 4), round(b, 4), round(expected_tokens(b, p_.k), 3)]
                    for a, tv, b in zip(QUALITIES[::4], tvs[::4], curve[::4], strict=True)
                ],
            )
        ],
    )
