"""Train a tiny Transformer on a toy task and look at its attention before and after.

A decoder-only model (causal, pre-LN blocks built from torch.nn pieces) learns one of four tasks:
``copy``, ``reverse`` and ``sort`` read ``x₁…xₙ | y₁…yₙ`` and are scored on the y's;
``induction`` reads a random sequence shown twice and is scored on the second copy, where each
token follows the same token as in the first: ``… A B … A → B`` (Olsson et al. 2022, "In-context
Learning and Induction Heads", §2). Training takes a few seconds; the attention maps show
what the heads learned: reverse looks at the mirrored input position (an anti-diagonal), copy at
the same input position, induction at the token after the previous occurrence of the current one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import (
    Chart,
    DemoParams,
    DemoResult,
    Heatmap,
    Scalar,
    Series,
    generator,
    register,
    report_progress,
    seeded_global_rng,
)
from app.demos._lazy import F, nn, torch
from app.demos.lora import Adam

Task = Literal["copy", "reverse", "sort", "induction"]


class Params(DemoParams):
    task: Task = Field("reverse", description="What the model learns.")
    seq_len: int = Field(8, ge=3, le=16, description="Tokens in the input (n).")
    vocab: int = Field(10, ge=3, le=32, description="Distinct symbols.")
    n_layers: int = Field(2, ge=1, le=2, description="Transformer blocks.")
    n_heads: int = Field(2, ge=1, le=4, description="Attention heads per block.")
    d_model: int = Field(32, ge=16, le=64, description="Model width (divisible by n_heads).")
    # At every maximum a step costs ~40 ms on one thread: 300 steps stay well within ~20 s.
    steps: int = Field(200, ge=0, le=300, description="Adam steps.")
    batch: int = Field(32, ge=8, le=64, description="Sequences per step.")
    lr: float = Field(3e-3, ge=1e-4, le=1e-2, description="Adam learning rate.")

    @model_validator(mode="after")
    def _consistent(self) -> Params:
        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads ({self.n_heads}) must divide d_model ({self.d_model})")
        if self.task == "induction" and self.vocab < self.seq_len:
            raise ValueError(
                f"induction draws seq_len ({self.seq_len}) distinct symbols: vocab ({self.vocab}) is too small"
            )
        return self


EVAL_SEQS = 256
PROBE_SEQS = 64
CURVE_POINTS = 100


def make_batch(p: Params, size: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Token sequences (B, T) and the mask (B, T − 1) of the predictions that are scored."""
    n, sep = p.seq_len, p.vocab  # the separator is one id past the symbols
    if p.task == "induction":
        # m distinct symbols repeated to length 2n, the period m random in (n/2, n]: where the
        # previous occurrence lies differs from sequence to sequence, so no fixed positional
        # offset finds it; only matching the current token does.
        period = torch.randint(n // 2 + 1, n + 1, (size, 1), generator=g)
        symbols = torch.rand(size, p.vocab, generator=g).argsort(-1)[:, :n]
        pos = torch.arange(2 * n)
        seq = symbols.gather(1, pos % period)
        scored = pos[None, :-1] >= period  # the current token has occurred before
        return seq, scored
    x = torch.randint(0, p.vocab, (size, n), generator=g)
    y = {"copy": x, "reverse": x.flip(-1), "sort": x.sort(-1).values}[p.task]
    seq = torch.cat([x, torch.full((size, 1), sep), y], 1)
    scored = torch.zeros(size, 2 * n, dtype=torch.bool)
    scored[:, n:] = True  # from the separator on, each position predicts the next y
    return seq, scored


def build(p: Params) -> nn.ModuleDict:
    """Token and learned position embeddings, pre-LN blocks, a final LayerNorm and a head.
    Plain ModuleDicts, not an nn.Module subclass, so importing this file does not import torch."""
    d = p.d_model
    blocks = [
        nn.ModuleDict(
            {
                "ln1": nn.LayerNorm(d),
                "qkv": nn.Linear(d, 3 * d),
                "out": nn.Linear(d, d),
                "ln2": nn.LayerNorm(d),
                "ff1": nn.Linear(d, 4 * d),
                "ff2": nn.Linear(4 * d, d),
            }
        )
        for _ in range(p.n_layers)
    ]
    return nn.ModuleDict(
        {
            "tok": nn.Embedding(p.vocab + 1, d),
            "pos": nn.Embedding(2 * p.seq_len + 1, d),
            "blocks": nn.ModuleList(blocks),
            "ln_f": nn.LayerNorm(d),
            "head": nn.Linear(d, p.vocab),
        }
    )


def forward(
    m: nn.ModuleDict, x: torch.Tensor, n_heads: int
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Logits (B, T, vocab) and each layer's attention weights (B, heads, T, T)."""
    b, t = x.shape
    h = m["tok"](x) + m["pos"](torch.arange(t))
    future = torch.ones(t, t, dtype=torch.bool).triu(1)
    maps = []
    for blk in m["blocks"]:
        q, k, v = blk["qkv"](blk["ln1"](h)).view(b, t, 3, n_heads, -1).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        w = scores.masked_fill(future, float("-inf")).softmax(-1)
        maps.append(w)
        h = h + blk["out"]((w @ v).transpose(1, 2).reshape(b, t, -1))
        h = h + blk["ff2"](F.gelu(blk["ff1"](blk["ln2"](h))))
    return m["head"](m["ln_f"](h)), maps


def accuracy(
    m: nn.ModuleDict, p: Params, seq: torch.Tensor, scored: torch.Tensor
) -> tuple[float, float]:
    """Share of scored tokens right, and share of sequences with every scored token right."""
    with torch.no_grad():
        logits, _ = forward(m, seq[:, :-1], p.n_heads)
    right = (logits.argmax(-1) == seq[:, 1:]) | ~scored
    return right[scored].float().mean().item() if scored.any() else 1.0, right.all(
        -1
    ).float().mean().item()


def train(p: Params, seed: int, on_step: Callable[[int, float], None] | None = None) -> dict:
    """Train from scratch; ``on_step(step, loss)`` is called after every step (for progress)."""
    g = generator(seed)
    with seeded_global_rng(seed):
        m = build(p)
    eval_seq, eval_scored = make_batch(p, EVAL_SEQS, g)
    probe = eval_seq[:PROBE_SEQS], eval_scored[:PROBE_SEQS]  # where head patterns are measured

    def look() -> tuple[list[torch.Tensor], tuple[float, int, int]]:
        with torch.no_grad():
            maps = forward(m, probe[0][:, :-1], p.n_heads)[1]
        return [w[0] for w in maps], best_head(*probe, maps)

    before, head_before = look()
    acc_before = accuracy(m, p, eval_seq, eval_scored)
    params = list(m.parameters())
    adam = Adam(params, p.lr)
    losses = []
    for step in range(p.steps):
        seq, scored = make_batch(p, p.batch, g)
        logits, _ = forward(m, seq[:, :-1], p.n_heads)
        loss = F.cross_entropy(logits[scored], seq[:, 1:][scored])
        adam.step(torch.autograd.grad(loss, params))
        losses.append(loss.item())
        if on_step is not None:
            on_step(step, losses[-1])
    after, head_after = look()
    return {
        "model": m,
        "losses": losses,
        "acc_before": acc_before,
        "acc_after": accuracy(m, p, eval_seq, eval_scored),
        "sample": eval_seq[0, :-1],  # the inputs the heatmaps show
        "before": before,  # per layer: (heads, T, T) on the sample
        "after": after,
        "head_before": head_before,  # (answer weight, layer, head) over the probe sequences
        "head_after": head_after,
    }


def answer_weights(seq: torch.Tensor, scored: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """For each head, the mean attention weight its scored queries put on earlier positions that
    hold the token they must predict: for reverse the mirrored input position, for copy the same
    one, for induction the token after the previous occurrence of the current token.
    seq (B, T), scored (B, T − 1), w (B, heads, T − 1, T − 1) → (heads,)."""
    inputs, target = seq[:, :-1], seq[:, 1:]
    t = inputs.shape[1]
    earlier = torch.ones(t, t, dtype=torch.bool).tril()
    holds = (inputs[:, None, :] == target[:, :, None]) & earlier  # (B, query, key)
    per_query = (w * holds[:, None]).sum(-1)  # (B, heads, query)
    return (per_query * scored[:, None]).sum((0, 2)) / scored.sum()


def best_head(seq: torch.Tensor, scored: torch.Tensor, maps: list[torch.Tensor]) -> tuple:
    """(answer weight, layer, head) of the head that attends most to the answer."""
    return max(
        (v, layer, h)
        for layer, w in enumerate(maps)
        for h, v in enumerate(answer_weights(seq, scored, w).tolist())
    )


TASK_NAMES = {
    "copy": ("复制", "copy"),
    "reverse": ("反转", "reverse"),
    "sort": ("排序", "sort"),
    "induction": ("归纳（A B … A → B）", "induction (A B … A → B)"),
}


@register(
    "tiny-transformer",
    title=L(zh="训练一个小 Transformer", en="Train a tiny Transformer"),
    description=L(
        zh="一个 1–2 层、宽度很小的因果 Transformer 在玩具任务上从头训练几秒：复制、反转、排序或归纳（A B … A → B）。看损失曲线、训练前后的准确率，以及每个注意力头在同一个样本上训练前后的注意力图。",
        en="A 1-2 layer, narrow causal Transformer trained from scratch for a few seconds on a toy task: copy, reverse, sort or induction (A B … A → B). The loss curve, accuracy before and after, and every head's attention on one sample before and after training.",
    ),
    params=Params,
    serves=("interpretability", "attention"),
    streams=True,
)
def run(p: Params, seed: int) -> DemoResult:
    t = train(p, seed, on_step=lambda step, loss: report_progress(step + 1, p.steps, loss=loss))
    tokens = ["|" if v == p.vocab else str(v) for v in t["sample"].tolist()]
    heatmaps = []
    for when, maps in (("before", t["before"]), ("after", t["after"])):
        zh_when = "训练前" if when == "before" else "训练后"
        for layer, w in enumerate(maps):
            for head in range(w.shape[0]):
                heatmaps.append(
                    Heatmap(
                        title=L(
                            zh=f"第 {layer + 1} 层第 {head + 1} 个头，{zh_when}（行 = query token，列 = key token）",
                            en=f"Layer {layer + 1}, head {head + 1}, {when} training (rows = query tokens, columns = key tokens)",
                        ),
                        matrix=[[round(v, 4) for v in row] for row in w[head].tolist()],
                        row_labels=tokens,
                        col_labels=tokens,
                        x_label="key token",
                        y_label="query token",
                    )
                )
    score_before, score_after = t["head_before"], t["head_after"]
    losses = t["losses"]
    stride = max(1, len(losses) // CURVE_POINTS)
    xs = list(range(0, len(losses), stride))
    tok_b, seq_b = t["acc_before"]
    tok_a, seq_a = t["acc_after"]
    zh_task, en_task = TASK_NAMES[p.task]
    _, layer, head = score_after
    zh_pattern = f"最盯着“答案所在位置”的是第 {layer + 1} 层第 {head + 1} 个头：训练后它的 query 平均把 {score_after[0]:.0%} 的注意力放在那里，训练前最好的头只有 {score_before[0]:.0%}。"
    en_pattern = f" The head that looks hardest at where the answer sits is layer {layer + 1}, head {head + 1}: after training its queries put {score_after[0]:.0%} of their weight there, against {score_before[0]:.0%} for the best head before."
    return DemoResult(
        conclusion=L(
            zh=f"任务「{zh_task}」，{p.steps} 步：逐 token 准确率从 {tok_b:.1%} 变为 {tok_a:.1%}，整段全对的比例从 {seq_b:.1%} 变为 {seq_a:.1%}。{zh_pattern}",
            en=f"Task {en_task}, {p.steps} steps: per-token accuracy went from {tok_b:.1%} to {tok_a:.1%}, and whole sequences right from {seq_b:.1%} to {seq_a:.1%}.{en_pattern}",
        ),
        scalars=[
            Scalar(
                key="token_acc_before",
                label=L(zh="训练前逐 token 准确率", en="per-token accuracy before"),
                value=tok_b,
            ),
            Scalar(
                key="token_acc_after",
                label=L(zh="训练后逐 token 准确率", en="per-token accuracy after"),
                value=tok_a,
            ),
            Scalar(
                key="seq_acc_after",
                label=L(zh="训练后整段全对", en="whole sequences right after"),
                value=seq_a,
            ),
            Scalar(
                key="final_loss",
                label=L(zh="最后一步的损失", en="loss at the last step"),
                value=losses[-1] if losses else math.nan,
            ),
            Scalar(
                key="answer_weight_before",
                label=L(
                    zh="训练前：答案位置上的注意力（最佳头）",
                    en="before: attention on the answer's position (best head)",
                ),
                value=score_before[0],
            ),
            Scalar(
                key="answer_weight_after",
                label=L(
                    zh="训练后：答案位置上的注意力（最佳头）",
                    en="after: attention on the answer's position (best head)",
                ),
                value=score_after[0],
            ),
            Scalar(
                key="answer_head",
                label=L(zh="该头（层, 头）", en="that head (layer, head)"),
                value=f"{layer + 1}, {head + 1}",
            ),
        ],
        charts=[
            Chart(
                title=L(zh="训练损失（交叉熵）", en="Training loss (cross-entropy)"),
                x_label="step",
                y_label="cross-entropy (nats)",
                log_y=True,
                series=[Series(name="loss", x=xs, y=[losses[i] for i in xs])],
            )
        ],
        heatmaps=heatmaps,
    )
