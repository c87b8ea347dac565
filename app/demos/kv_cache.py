"""KV cache: decoding one token at a time while keeping every layer's keys and values gives the
same outputs as a full causal forward pass; the cache costs 2·layers·kv_heads·d_head·bytes per
token, and saves recomputing the whole prefix at every step (FLOPs per token, counted).

Sources: Pope et al. 2022, "Efficiently Scaling Transformer Inference" (arXiv:2211.05102), on
the cache's memory cost in decoding; torch/nn/functional.py, `scaled_dot_product_attention`
(its `enable_gqa` repeats K/V heads, so one layer serves MHA and grouped K/V heads alike).
"""

from __future__ import annotations

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
from app.demos._lazy import F, nn, torch

DTYPE_BYTES = {"fp32": 4, "fp16/bf16": 2, "int8": 1}
CONTEXTS = (1024, 4096, 32_768, 131_072)
GIB = 2**30


class Params(DemoParams):
    n: int = Field(16, ge=2, le=64, description="Tokens to decode.")
    layers: int = Field(2, ge=1, le=4, description="Decoder layers of the small model.")
    d_model: int = Field(64, ge=8, le=256, description="Model width of the small model.")
    heads: int = Field(4, ge=1, le=16, description="Query heads (must divide d_model).")
    kv_heads: int = Field(
        4, ge=1, le=16, description="Key/value heads (must divide heads; = heads is plain MHA)."
    )
    calc_layers: int = Field(32, ge=1, le=128, description="Size table: layers.")
    calc_kv_heads: int = Field(32, ge=1, le=128, description="Size table: key/value heads.")
    calc_d_head: int = Field(128, ge=8, le=256, description="Size table: width of one head.")

    @model_validator(mode="after")
    def _heads_divide(self) -> Params:
        if self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")
        if self.heads % self.kv_heads:
            raise ValueError(f"kv_heads ({self.kv_heads}) must divide heads ({self.heads})")
        return self


def make_layer(d: int, heads: int, kv_heads: int) -> nn.ModuleDict:
    """A pre-LN decoder layer's weights (plain modules: no nn.Module subclass at import time,
    which would import torch at start-up)."""
    d_head = d // heads
    return nn.ModuleDict(
        {
            "ln1": nn.LayerNorm(d),
            "q": nn.Linear(d, heads * d_head),
            "kv": nn.Linear(d, 2 * kv_heads * d_head),
            "o": nn.Linear(d, d),
            "ln2": nn.LayerNorm(d),
            "ffn": nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d)),
        }
    )


def layer_forward(
    m: nn.ModuleDict,
    x: torch.Tensor,
    heads: int,
    kv_heads: int,
    cache: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """x: (t, d), the new tokens. With ``cache`` (keys and values of the earlier tokens), the
    new keys and values are appended to it and the queries attend to all of them."""
    t, d = x.shape
    d_head = d // heads
    h = m["ln1"](x)
    q = m["q"](h).view(t, heads, d_head).transpose(0, 1)
    k, v = m["kv"](h).view(t, 2, kv_heads, d_head).permute(1, 2, 0, 3)
    if cache is not None:
        if cache:
            k, v = torch.cat([cache[0], k], 1), torch.cat([cache[1], v], 1)
        cache[:] = [k, v]
    # Query i sits at absolute position past + i: it may see keys up to that position.
    past = k.shape[1] - t
    mask = torch.ones(t, k.shape[1], dtype=torch.bool).tril(past)
    a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)
    x = x + m["o"](a.transpose(0, 1).reshape(t, d))
    return x + m["ffn"](m["ln2"](x))


def flops_per_token(t: int, d: int, heads: int, kv_heads: int, layers: int) -> tuple[int, int]:
    """FLOPs (2 per multiply-add) to produce the token at position t (1-based), with and without
    the cache. With it: project one token and attend over t cached keys. Without it: run the
    whole prefix of t tokens again, its t×t scores included."""
    d_head = d // heads
    proj = 2 * d * (heads * d_head + 2 * kv_heads * d_head + d)  # q, k, v, o for one token
    ffn = 2 * 2 * d * 4 * d
    attn_one_query = 2 * 2 * heads * d_head  # q·k and weight·v, per key
    cached = layers * (proj + ffn + attn_one_query * t)
    full = layers * (t * (proj + ffn) + attn_one_query * t * t)
    return cached, full


def _gib(b: float) -> float:
    return float(f"{b / GIB:.4g}")


@register(
    "kv-cache",
    title=L(zh="KV 缓存", en="The KV cache"),
    description=L(
        zh="一个小型因果解码器：逐 token 解码、把每层的 K 和 V 存起来复用，输出与整句一次前向相同（差别只在浮点误差量级）；缓存每个 token 占 2·层数·KV 头数·d_head·字节数；有缓存时每步只算新 token，没有缓存时每步都要把整个前缀重算一遍。",
        en="A small causal decoder: decoding token by token while keeping every layer's K and V gives the same outputs as one full forward pass. The cache costs 2·layers·kv_heads·d_head·bytes per token; with it each step computes only the new token, without it each step recomputes the whole prefix.",
    ),
    params=Params,
    serves=("kv-cache", "serving"),
)
def run(p: Params, seed: int) -> DemoResult:
    with seeded_global_rng(seed):
        model = [make_layer(p.d_model, p.heads, p.kv_heads) for _ in range(p.layers)]
    g = generator(seed)
    x = torch.randn(p.n, p.d_model, generator=g)
    with torch.no_grad():
        full = x
        for layer in model:
            full = layer_forward(layer, full, p.heads, p.kv_heads)
        caches: list[list[torch.Tensor]] = [[] for _ in model]
        steps = []
        for t in range(p.n):
            h = x[t : t + 1]
            for layer, cache in zip(model, caches, strict=True):
                h = layer_forward(layer, h, p.heads, p.kv_heads, cache)
            steps.append(h)
        cached = torch.cat(steps)
    per_pos = (full - cached).abs().amax(-1)
    max_diff = per_pos.max().item()
    cache_bytes = sum(t.numel() * t.element_size() for c in caches for t in c)
    d_head = p.d_model // p.heads
    formula_bytes = 2 * p.layers * p.kv_heads * d_head * 4 * p.n

    per_token = {
        k: 2 * p.calc_layers * p.calc_kv_heads * p.calc_d_head * b for k, b in DTYPE_BYTES.items()
    }
    rows = [[k, b, *(_gib(b * c) for c in CONTEXTS)] for k, b in per_token.items()]
    fp16_4k = per_token["fp16/bf16"] * 4096 / GIB

    lengths = sorted({round(2 ** (e / 4)) for e in range(0, 4 * 15 + 1)})  # 1 … 32768
    flops = [flops_per_token(t, p.d_model, p.heads, p.kv_heads, p.layers) for t in lengths]
    with_c, without_c = flops_per_token(p.n, p.d_model, p.heads, p.kv_heads, p.layers)
    return DemoResult(
        conclusion=L(
            zh=f"逐 token 用缓存解码与整句前向的最大差 {max_diff:.1e}（浮点误差内相同）；小模型的缓存实测 {cache_bytes} 字节 = 2·{p.layers}·{p.kv_heads}·{d_head}·4 字节·{p.n} 个 token。{p.calc_layers} 层、{p.calc_kv_heads} 个 KV 头、d_head = {p.calc_d_head} 的模型，fp16 下每 token {per_token['fp16/bf16'] / 2**20:.3g} MiB，4096 个 token 共 {fp16_4k:.3g} GiB。生成第 {p.n} 个 token：有缓存 {with_c:,} FLOPs，没有缓存 {without_c:,} FLOPs（{without_c / with_c:.1f} 倍）。",
            en=f"Cached token-by-token decoding vs one full forward: max difference {max_diff:.1e} (equal up to float error). The small model's cache measures {cache_bytes} bytes = 2·{p.layers}·{p.kv_heads}·{d_head}·4 bytes·{p.n} tokens. A model with {p.calc_layers} layers, {p.calc_kv_heads} KV heads and d_head = {p.calc_d_head} needs {per_token['fp16/bf16'] / 2**20:.3g} MiB per token in fp16, {fp16_4k:.3g} GiB at 4096 tokens. Producing token {p.n}: {with_c:,} FLOPs with the cache, {without_c:,} without ({without_c / with_c:.1f}×).",
        ),
        scalars=[
            Scalar(
                key="max_abs_diff",
                label=L(zh="缓存解码与整句前向的最大差", en="max |cached − full forward|"),
                value=max_diff,
            ),
            Scalar(
                key="cache_bytes_measured",
                label=L(zh="小模型缓存实测大小", en="small model: cache size measured"),
                value=cache_bytes,
                unit="B",
            ),
            Scalar(
                key="cache_bytes_formula",
                label=L(
                    zh="公式 2·层数·KV 头数·d_head·4 字节·n",
                    en="formula 2·layers·kv_heads·d_head·4 bytes·n",
                ),
                value=formula_bytes,
                unit="B",
            ),
            Scalar(
                key="bytes_per_token_fp16",
                label=L(
                    zh="大模型：每 token 缓存（fp16）", en="large model: cache per token (fp16)"
                ),
                value=per_token["fp16/bf16"],
                unit="B",
            ),
            Scalar(
                key="flops_ratio_at_n",
                label=L(
                    zh=f"第 {p.n} 个 token：无缓存 / 有缓存 FLOPs",
                    en=f"token {p.n}: FLOPs without / with the cache",
                ),
                value=without_c / with_c,
            ),
        ],
        tables=[
            Table(
                title=L(
                    zh=f"KV 缓存大小：{p.calc_layers} 层 × {p.calc_kv_heads} 个 KV 头 × d_head {p.calc_d_head}（单条序列）",
                    en=f"KV cache size: {p.calc_layers} layers × {p.calc_kv_heads} KV heads × d_head {p.calc_d_head} (one sequence)",
                ),
                columns=[
                    "dtype",
                    "bytes / token",
                    *(f"GiB at {c:,} tokens" for c in CONTEXTS),
                ],
                rows=rows,
            )
        ],
        charts=[
            Chart(
                title=L(
                    zh="生成一个 token 的计算量（小模型）：有缓存 vs 每步重算前缀",
                    en="Compute to produce one token (small model): cache vs recomputing the prefix",
                ),
                x_label="position of the new token (tokens)",
                y_label="FLOPs per token",
                log_x=True,
                log_y=True,
                series=[
                    Series(name="with KV cache", x=lengths, y=[f[0] for f in flops]),
                    Series(name="without cache", x=lengths, y=[f[1] for f in flops]),
                ],
            )
        ],
    )
