"""Arithmetic: count the parameters of a real decoder-only stack (nn.TransformerEncoderLayer blocks
used with a causal mask, token and learned position embeddings, a final LayerNorm, the output
projection tied to the embedding, as GPT-2 does) and compare with 12·L·d² + V·d; then the
training FLOPs of a step, ≈ 6·N·D (Kaplan et al. 2020, §2.1 and Table 1), with the attention
term 6·L·n_ctx·d per token shown separately.

The modules are built on the "meta" device: shapes without storage, so even a 100B-parameter
configuration is counted in a fraction of a second and no memory."""

from __future__ import annotations

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Scalar, Series, Table, register
from app.demos._lazy import nn, torch


class Params(DemoParams):
    n_layers: int = Field(12, ge=1, le=128, description="Blocks (L).")
    d_model: int = Field(768, ge=8, le=16384, description="Model width (d); the FFN is 4d.")
    n_heads: int = Field(12, ge=1, le=128, description="Attention heads (divides d).")
    vocab: int = Field(50257, ge=2, le=262_144, description="Vocabulary size (V).")
    n_ctx: int = Field(1024, ge=1, le=131_072, description="Context length (learned positions).")
    tokens_per_step: int = Field(
        524_288, ge=1, le=100_000_000, description="Tokens in one training step (D)."
    )

    @model_validator(mode="after")
    def _heads_divide(self) -> Params:
        if self.d_model % self.n_heads:
            raise ValueError(
                f"n_heads ({self.n_heads}) must divide d_model ({self.d_model}) evenly"
            )
        return self


# GPT-2's four shapes (Radford et al. 2019, Table 2): layers, width, heads.
GPT2 = [("GPT-2 small", 12, 768, 12), ("medium", 24, 1024, 16), ("large", 36, 1280, 20)]
GPT2 += [("XL", 48, 1600, 25)]
SWEEP_CTX = [2**i for i in range(7, 18)]  # 128 … 131072


def build(n_layers: int, d: int, heads: int, vocab: int, n_ctx: int) -> nn.ModuleDict:
    """The stack on the meta device. Embeddings get a meta ``_weight``: their default init
    (normal_) on meta would import torch._dynamo, the layers' uniform_ init does not."""
    meta = torch.device("meta")
    return nn.ModuleDict(
        {
            "tok": nn.Embedding(vocab, d, _weight=torch.empty(vocab, d, device=meta)),
            "pos": nn.Embedding(n_ctx, d, _weight=torch.empty(n_ctx, d, device=meta)),
            "blocks": nn.ModuleList(
                nn.TransformerEncoderLayer(
                    d,
                    heads,
                    4 * d,
                    dropout=0.0,
                    activation="gelu",
                    batch_first=True,
                    norm_first=True,
                    device=meta,
                )
                for _ in range(n_layers)
            ),
            "norm": nn.LayerNorm(d, device=meta),
            # The output projection reuses tok.weight (tied), so it adds no parameters.
        }
    )


def group(name: str) -> str:
    """Which part of the stack a parameter belongs to, from its name in the real module."""
    if name.startswith(("tok.", "pos.")):
        return "token embedding" if name.startswith("tok.") else "learned positions"
    if name.startswith("norm."):
        return "final LayerNorm"
    kind = "biases" if name.endswith("bias") else "weights"
    if ".self_attn." in name:
        return f"attention {kind}"
    if ".linear" in name:
        return f"FFN {kind}"
    return "block LayerNorms"  # norm1, norm2: gain and bias


def count(n_layers: int, d: int, heads: int, vocab: int, n_ctx: int) -> dict[str, int]:
    model = build(n_layers, d, heads, vocab, n_ctx)
    out: dict[str, int] = {}
    for name, q in model.named_parameters():
        out[group(name)] = out.get(group(name), 0) + q.numel()
    out["total"] = sum(q.numel() for q in model.parameters())
    return out


def count_by_one_block(n_layers: int, d: int, heads: int, vocab: int, n_ctx: int) -> int:
    """The same total from a one-block stack: the L blocks are identical, so the other L − 1
    add L − 1 times that block (building 120 blocks for the GPT-2 table cost ~70 ms)."""
    one = count(1, d, heads, vocab, n_ctx)
    block = (
        one["total"] - one["token embedding"] - one["learned positions"] - one["final LayerNorm"]
    )
    return one["total"] + (n_layers - 1) * block


def formula(n_layers: int, d: int, vocab: int) -> int:
    return 12 * n_layers * d * d + vocab * d


def train_flops_per_token(p: Params, non_embedding: int, n_ctx: int) -> dict[str, int]:
    """Forward ≈ 2 FLOPs per weight per token, backward twice that: 6 per weight. Attention
    scores: QKᵀ and A·V cost 2·n_ctx·d each per token and layer, halved on average by the causal
    mask: 2·L·n_ctx·d forward (Kaplan et al. 2020, Table 1), 6·L·n_ctx·d for training."""
    return {
        "weights": 6 * non_embedding,
        "attention": 6 * p.n_layers * n_ctx * p.d_model,
        "logits": 6 * p.vocab * p.d_model,  # the tied output projection: a matmul, not a lookup
    }


def _m(n: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.4g}{unit}"
    return f"{n:g}"


@register(
    "param-count",
    title=L(zh="参数量与训练 FLOPs", en="Parameter count and training FLOPs"),
    description=L(
        zh="数一个真实的 decoder-only 堆叠（nn.TransformerEncoderLayer 加因果掩码、词嵌入、位置嵌入）有多少参数，和 12·L·d² + V·d 对比，差在偏置和 LayerNorm；一步训练 D 个 token 的 FLOPs ≈ 6·N·D，注意力项单独列出。",
        en="Count the parameters of a real decoder-only stack (nn.TransformerEncoderLayer blocks with a causal mask, token and position embeddings) against 12·L·d² + V·d, the gap being biases and LayerNorms; a training step of D tokens costs ≈ 6·N·D FLOPs, with the attention term shown apart.",
    ),
    params=Params,
    serves=("arithmetic",),
)
def run(p: Params, seed: int) -> DemoResult:
    del seed  # counting is deterministic: nothing is drawn
    L_, d, v = p.n_layers, p.d_model, p.vocab
    c = count(L_, d, p.n_heads, v, p.n_ctx)
    exact, approx = c["total"], formula(L_, d, v)
    gap = exact - approx
    non_emb = exact - c["token embedding"] - c["learned positions"]
    per_tok = train_flops_per_token(p, non_emb, p.n_ctx)
    step = {k: n * p.tokens_per_step for k, n in per_tok.items()}
    step_total = sum(step.values())
    att_share = per_tok["attention"] / per_tok["weights"]

    parts = [
        ("attention weights", "4·L·d²", 4 * L_ * d * d),
        ("FFN weights", "8·L·d²", 8 * L_ * d * d),
        ("token embedding", "V·d (tied output)", v * d),
        ("attention biases", "4·L·d", 4 * L_ * d),
        ("FFN biases", "5·L·d", 5 * L_ * d),
        ("block LayerNorms", "4·L·d", 4 * L_ * d),
        ("final LayerNorm", "2·d", 2 * d),
        ("learned positions", "n_ctx·d", p.n_ctx * d),
    ]
    rows = [[name, c[name], f, n, "✓" if i < 3 else ""] for i, (name, f, n) in enumerate(parts)]
    rows.append(["total", exact, "12·L·d² + V·d", approx, ""])

    presets = []
    for name, pl, pd, ph in GPT2:
        e = count_by_one_block(pl, pd, ph, 50257, 1024)
        f = formula(pl, pd, 50257)
        presets.append([name, pl, pd, e, _m(e), f, f"{(e - f) / e:.2%}"])

    sweep = [train_flops_per_token(p, non_emb, n) for n in SWEEP_CTX]
    return DemoResult(
        conclusion=L(
            zh=(
                f"这个 {L_} 层、d = {d} 的堆叠实有 {exact:,} 个参数（{_m(exact)}）；12·L·d² + V·d 给出 {approx:,}，少了 {gap:,}（{gap / exact:.2%}）："
                f"偏置和 LayerNorm 共 13·L·d + 2·d = {13 * L_ * d + 2 * d:,}，学习的位置嵌入 n_ctx·d = {p.n_ctx * d:,}。"
                f"不含嵌入的 N = {_m(non_emb)}，一步 {p.tokens_per_step:,} 个 token 的训练约 6·N·D = {step['weights']:.3g} FLOPs，"
                f"注意力分数另加 {step['attention']:.3g}（是前者的 n_ctx/(12·d) ≈ {att_share:.1%}），输出投影再加 {step['logits']:.3g}。"
            ),
            en=(
                f"This {L_}-layer, d = {d} stack holds {exact:,} parameters ({_m(exact)}); 12·L·d² + V·d gives {approx:,}, short by {gap:,} ({gap / exact:.2%}): "
                f"biases and LayerNorms make 13·L·d + 2·d = {13 * L_ * d + 2 * d:,} and the learned positions n_ctx·d = {p.n_ctx * d:,}. "
                f"With N = {_m(non_emb)} non-embedding parameters, a training step of {p.tokens_per_step:,} tokens costs about 6·N·D = {step['weights']:.3g} FLOPs, "
                f"plus {step['attention']:.3g} for attention scores (n_ctx/(12·d) ≈ {att_share:.1%} of it) and {step['logits']:.3g} for the output projection."
            ),
        ),
        scalars=[
            Scalar(key="exact", label=L(zh="实际参数量", en="exact parameters"), value=exact),
            Scalar(key="formula", label=L(zh="12·L·d² + V·d", en="12·L·d² + V·d"), value=approx),
            Scalar(key="gap", label=L(zh="差值", en="difference"), value=gap),
            Scalar(
                key="non_embedding",
                label=L(zh="不含嵌入的参数 N", en="non-embedding parameters N"),
                value=non_emb,
            ),
            Scalar(
                key="flops_6nd",
                label=L(zh="一步训练 6·N·D", en="one step, 6·N·D"),
                value=step["weights"],
                unit="FLOPs",
            ),
            Scalar(
                key="flops_attention",
                label=L(zh="一步训练：注意力分数", en="one step: attention scores"),
                value=step["attention"],
                unit="FLOPs",
            ),
            Scalar(
                key="flops_step",
                label=L(zh="一步训练合计", en="one step, all terms"),
                value=step_total,
                unit="FLOPs",
            ),
        ],
        tables=[
            Table(
                title=L(
                    zh="逐项：从模块数出的参数 vs 公式（✓ = 计入 12·L·d² + V·d）",
                    en="Part by part: counted from the module vs formula (✓ = inside 12·L·d² + V·d)",
                ),
                columns=["part", "counted", "formula", "formula value", "in 12·L·d² + V·d"],
                rows=rows,
            ),
            Table(
                title=L(
                    zh="GPT-2 的四种形状（V = 50257，1024 个位置）",
                    en="GPT-2's four shapes (V = 50257, 1024 positions)",
                ),
                columns=["model", "L", "d", "counted", "≈", "12·L·d² + V·d", "gap"],
                rows=presets,
            ),
            Table(
                title=L(
                    zh=f"一步训练（D = {p.tokens_per_step:,} 个 token）的 FLOPs",
                    en=f"FLOPs of one training step (D = {p.tokens_per_step:,} tokens)",
                ),
                columns=["term", "per token", "per step", "share"],
                rows=[
                    [t, per_tok[k], step[k], f"{step[k] / step_total:.1%}"]
                    for t, k in [
                        ("weights: 6·N", "weights"),
                        ("attention: 6·L·n_ctx·d", "attention"),
                        ("output projection: 6·V·d", "logits"),
                    ]
                ],
            ),
        ],
        charts=[
            Chart(
                title=L(
                    zh="每个训练 token 的 FLOPs 随上下文长度：注意力项在 n_ctx = 12·d 时追上权重项",
                    en="Training FLOPs per token by context length: attention catches up with the weights at n_ctx = 12·d",
                ),
                x_label="context length n_ctx (tokens)",
                y_label="FLOPs per token",
                log_x=True,
                log_y=True,
                series=[
                    Series(name="weights 6·N", x=SWEEP_CTX, y=[s["weights"] for s in sweep]),
                    Series(
                        name="attention 6·L·n_ctx·d",
                        x=SWEEP_CTX,
                        y=[s["attention"] for s in sweep],
                    ),
                    Series(
                        name="output projection 6·V·d",
                        x=SWEEP_CTX,
                        y=[s["logits"] for s in sweep],
                    ),
                ],
            )
        ],
    )
