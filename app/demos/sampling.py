"""Sampling the next token from one logit vector: temperature divides the logits (T → 0 tends to
greedy argmax, T = 1 is the plain softmax, larger T flattens it and raises the entropy); top-k
keeps exactly the k most likely tokens; top-p (nucleus) keeps the smallest set of most likely
tokens whose probability adds up to at least p. Then seeded draws from the result.

Sources: Holtzman et al. 2020, "The Curious Case of Neural Text Degeneration" (arXiv:1904.09751),
§3.1-3.3 (nucleus, top-k and temperature sampling); Hugging Face transformers,
src/transformers/generation/logits_process.py (TemperatureLogitsWarper, TopKLogitsWarper,
TopPLogitsWarper).
"""

from __future__ import annotations

import math

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

# Next token after "The cat sat on the": made-up logits, distinct so top-k has no ties.
TOKENS = (
    " mat",
    " floor",
    " sofa",
    " bed",
    " chair",
    " rug",
    " roof",
    " table",
    " windowsill",
    " keyboard",
    " moon",
    " banana",
)
LOGITS = (5.0, 3.9, 3.6, 3.2, 2.8, 2.5, 1.9, 1.7, 1.2, 0.8, -0.5, -1.5)
SWEEP = [round(0.05 * 100 ** (i / 20), 4) for i in range(21)]  # 0.05 … 5, log-spaced


class Params(DemoParams):
    temperature: float = Field(0.7, ge=0.05, le=5.0, description="Divide the logits by T.")
    top_k: int = Field(5, ge=1, le=len(TOKENS), description="Keep the k most likely tokens.")
    top_p: float = Field(
        0.9, gt=0.0, le=1.0, description="Keep the fewest top tokens whose probability ≥ p."
    )
    samples: int = Field(2000, ge=1, le=100_000, description="Seeded draws from the result.")


def with_temperature(logits: torch.Tensor, t: float) -> torch.Tensor:
    return (logits / t).softmax(-1)


def top_k(probs: torch.Tensor, k: int) -> torch.Tensor:
    """Zero all but the k largest probabilities and renormalise."""
    keep = torch.zeros_like(probs, dtype=torch.bool)
    keep[probs.topk(k).indices] = True
    out = probs.masked_fill(~keep, 0.0)
    return out / out.sum()


def top_p(probs: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the most likely tokens until their total reaches p (the token that crosses p stays),
    zero the rest and renormalise."""
    sorted_p, order = probs.sort(descending=True)
    before = sorted_p.cumsum(0) - sorted_p  # probability of the tokens ranked above
    keep_sorted = before < p
    keep = torch.zeros_like(keep_sorted).scatter(0, order, keep_sorted)
    out = probs.masked_fill(~keep, 0.0)
    return out / out.sum()


def entropy_bits(probs: torch.Tensor) -> float:
    nz = probs[probs > 0]
    return float(-(nz * nz.log2()).sum())


def _names(mask: torch.Tensor) -> str:
    return ", ".join(f"'{TOKENS[i].strip()}'" for i in mask.nonzero().flatten().tolist()) or "—"


@register(
    "sampling",
    title=L(zh="温度、top-k 与 top-p 采样", en="Temperature, top-k and top-p sampling"),
    description=L(
        zh="同一组 logits（“The cat sat on the” 之后的 12 个候选词）：温度 T 除以 logits，T 趋近 0 时退化为贪心取最大，T = 1 就是普通 softmax，T 越大分布越平、熵越高；top-k 只留概率最高的 k 个；top-p 留下概率累加起来第一次达到 p 的最少那几个。最后按结果分布做带种子的采样。",
        en="One set of logits (12 candidates after “The cat sat on the”): temperature divides the logits; as T → 0 it approaches greedy argmax, T = 1 is the plain softmax, larger T flattens it and raises the entropy. Top-k keeps the k most likely tokens; top-p keeps the fewest top tokens whose probabilities add up to at least p. Then seeded draws from the result.",
    ),
    params=Params,
    serves=("decoding",),
)
def run(p: Params, seed: int) -> DemoResult:
    logits = torch.tensor(LOGITS, dtype=torch.float64)
    base = with_temperature(logits, 1.0)
    temp = with_temperature(logits, p.temperature)
    k_only = top_k(temp, p.top_k)
    p_only = top_p(temp, p.top_p)
    combined = top_p(top_k(temp, p.top_k), p.top_p)  # temperature, then top-k, then top-p
    settings = {
        "softmax (T = 1)": base,
        f"T = {p.temperature:g}": temp,
        f"T = {p.temperature:g}, top-k = {p.top_k}": k_only,
        f"T = {p.temperature:g}, top-p = {p.top_p:g}": p_only,
        "T → top-k → top-p": combined,
    }
    draws = torch.multinomial(combined, p.samples, replacement=True, generator=generator(seed))
    freq = torch.bincount(draws, minlength=len(TOKENS)).double() / p.samples
    tv = 0.5 * (freq - combined).abs().sum().item()

    sweep_probs = [with_temperature(logits, t) for t in SWEEP]
    kept_p = p_only > 0
    cut_k = (temp > 0) & (k_only == 0)
    cut_p = ~kept_p
    mass_p = temp[kept_p].sum().item()
    top = int(logits.argmax())
    rank = list(range(1, len(TOKENS) + 1))
    return DemoResult(
        conclusion=L(
            zh=f"T = {p.temperature:g} 时最可能的词 '{TOKENS[top].strip()}' 概率 {temp[top].item():.3f}（T = 1 时 {base[top].item():.3f}），熵 {entropy_bits(temp):.3f} 比特（T = 1 时 {entropy_bits(base):.3f}）。top-k = {p.top_k} 留下 {int((k_only > 0).sum())} 个词，去掉 {_names(cut_k)}；top-p = {p.top_p:g} 留下 {int(kept_p.sum())} 个词（合计 {mass_p:.3f} ≥ {p.top_p:g}），去掉 {_names(cut_p)}。按 T → top-k → top-p 的结果采样 {p.samples} 次，与理论分布的总变差距离 {tv:.3f}。",
            en=f"At T = {p.temperature:g} the most likely token '{TOKENS[top].strip()}' has probability {temp[top].item():.3f} ({base[top].item():.3f} at T = 1) and the entropy is {entropy_bits(temp):.3f} bits ({entropy_bits(base):.3f} at T = 1). Top-k = {p.top_k} keeps {int((k_only > 0).sum())} tokens and cuts {_names(cut_k)}; top-p = {p.top_p:g} keeps {int(kept_p.sum())} tokens (together {mass_p:.3f} ≥ {p.top_p:g}) and cuts {_names(cut_p)}. {p.samples} seeded draws from T → top-k → top-p land within total-variation distance {tv:.3f} of it.",
        ),
        scalars=[
            Scalar(
                key="top_prob",
                label=L(zh="温度 T 下最可能词的概率", en="probability of the top token at T"),
                value=temp[top].item(),
            ),
            Scalar(
                key="entropy_bits",
                label=L(zh="温度 T 下的熵", en="entropy at T"),
                value=entropy_bits(temp),
                unit="bits",
            ),
            Scalar(
                key="kept_top_k",
                label=L(zh="top-k 留下的词数", en="tokens kept by top-k"),
                value=int((k_only > 0).sum()),
            ),
            Scalar(
                key="kept_top_p",
                label=L(zh="top-p 留下的词数", en="tokens kept by top-p"),
                value=int(kept_p.sum()),
            ),
            Scalar(
                key="kept_top_p_mass",
                label=L(zh="top-p 留下的词的原概率之和", en="probability the top-p set held"),
                value=mass_p,
            ),
            Scalar(
                key="sample_tv",
                label=L(
                    zh="采样频率与分布的总变差距离", en="total variation: draws vs distribution"
                ),
                value=tv,
            ),
        ],
        tables=[
            Table(
                title=L(
                    zh="每个候选词在各设置下的概率（0 = 被截掉）",
                    en="Each candidate's probability per setting (0 = cut)",
                ),
                columns=["rank", "token", "logit", *settings, f"sampled ×{p.samples}"],
                rows=[
                    [
                        i + 1,
                        repr(TOKENS[i]),
                        LOGITS[i],
                        *(round(d[i].item(), 4) for d in settings.values()),
                        round(freq[i].item(), 4),
                    ]
                    for i in range(len(TOKENS))
                ],
            ),
            Table(
                title=L(zh="每种设置的熵与留下的词数", en="Entropy and tokens kept per setting"),
                columns=["setting", "entropy (bits)", "tokens kept", "top token's probability"],
                rows=[
                    [
                        name,
                        round(entropy_bits(d), 4),
                        int((d > 0).sum()),
                        round(d.max().item(), 4),
                    ]
                    for name, d in settings.items()
                ],
            ),
        ],
        charts=[
            Chart(
                title=L(zh="熵随温度变化", en="Entropy vs temperature"),
                x_label="temperature T",
                y_label="entropy (bits)",
                log_x=True,
                series=[
                    Series(name="entropy", x=SWEEP, y=[entropy_bits(q) for q in sweep_probs]),
                    Series(
                        name=f"uniform over {len(TOKENS)}: log2 {len(TOKENS)}",
                        x=SWEEP,
                        y=[math.log2(len(TOKENS))] * len(SWEEP),
                    ),
                ],
            ),
            Chart(
                title=L(
                    zh=f"最可能的词 '{TOKENS[top].strip()}' 的概率随温度变化（T → 0 趋于 1：贪心）",
                    en=f"Probability of the top token '{TOKENS[top].strip()}' vs temperature (→ 1 as T → 0: greedy)",
                ),
                x_label="temperature T",
                y_label="probability",
                log_x=True,
                series=[Series(name="top token", x=SWEEP, y=[q.max().item() for q in sweep_probs])],
            ),
            Chart(
                title=L(
                    zh="各设置下的分布（横轴是按 logit 排名的词，词名见表）",
                    en="The distribution per setting (x: tokens by logit rank, names in the table)",
                ),
                kind="bar",
                x_label="token rank",
                y_label="probability",
                series=[Series(name=name, x=rank, y=d.tolist()) for name, d in settings.items()],
            ),
        ],
    )
