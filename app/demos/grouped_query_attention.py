"""Grouped-query attention: h query heads share g key/value heads, query head i reading K/V head
i // (h/g). It equals multi-head attention whose K/V heads are repeated with repeat_interleave
up to h; g = h is MHA, g = 1 is MQA, and the KV cache shrinks by h/g.

Sources: Ainslie et al. 2023, "GQA: Training Generalized Multi-Query Transformer Models from
Multi-Head Checkpoints" (arXiv:2305.13245), §2; Shazeer 2019, "Fast Transformer Decoding: One
Write-Head is All You Need" (MQA); torch/nn/functional.py, `scaled_dot_product_attention` with
`enable_gqa=True`, whose reference code repeats K and V with `repeat_interleave`.
"""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import DemoParams, DemoResult, Heatmap, Scalar, Table, generator, register
from app.demos._lazy import F, torch


class Params(DemoParams):
    # Defaults are a Llama-3-8B attention shape: 32 query heads sharing 8 K/V heads of width 128.
    heads: int = Field(32, ge=1, le=32, description="Query heads h.")
    groups: int = Field(8, ge=1, le=32, description="Key/value heads g (must divide h).")
    d_head: int = Field(128, ge=4, le=128, description="Width of one head.")
    n: int = Field(16, ge=2, le=64, description="Sequence length.")
    layers: int = Field(32, ge=1, le=128, description="Size table: layers.")
    context: int = Field(4096, ge=1, le=131_072, description="Size table: tokens in the cache.")

    @model_validator(mode="after")
    def _groups_divide(self) -> Params:
        if self.heads % self.groups:
            raise ValueError(f"groups ({self.groups}) must divide heads ({self.heads})")
        return self


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Plain causal softmax attention over the last two dims; q, k, v: (..., n, d)."""
    n, d = q.shape[-2:]
    scores = q @ k.transpose(-1, -2) / math.sqrt(d)
    future = torch.ones(n, n, dtype=torch.bool).triu(1)
    return scores.masked_fill(future, float("-inf")).softmax(-1) @ v


def gqa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """q: (h, n, d); k, v: (g, n, d). Each group of h/g consecutive query heads attends with one
    K/V head, by broadcasting: no copy of K or V is made."""
    h, n, d = q.shape
    g = k.shape[0]
    out = causal_attention(q.view(g, h // g, n, d), k[:, None], v[:, None])
    return out.reshape(h, n, d)


def size(b: float) -> str:
    return f"{b / 2**30:.4g} GiB" if b >= 2**30 else f"{b / 2**20:.4g} MiB"


def kind(g: int, h: int) -> str:
    return "MHA" if g == h else "MQA" if g == 1 else "GQA"


@register(
    "grouped-query-attention",
    title=L(zh="分组查询注意力（GQA）", en="Grouped-query attention (GQA)"),
    description=L(
        zh="h 个查询头共用 g 个 K/V 头：第 i 个查询头读第 i // (h/g) 个 K/V 头。它与把 K/V 头用 repeat_interleave 复制到 h 个的多头注意力完全等价；g = h 就是 MHA，g = 1 就是 MQA，KV 缓存缩小到 g/h。",
        en="h query heads share g key/value heads: query head i reads K/V head i // (h/g). It is exactly multi-head attention with the K/V heads copied up to h by repeat_interleave; g = h is MHA, g = 1 is MQA, and the KV cache shrinks to g/h of MHA's.",
    ),
    params=Params,
    serves=("attention-variants", "kv-cache"),
)
def run(p: Params, seed: int) -> DemoResult:
    h, g, d, n = p.heads, p.groups, p.d_head, p.n
    gen = generator(seed)
    q = torch.randn(h, n, d, generator=gen)
    k = torch.randn(g, n, d, generator=gen)
    v = torch.randn(g, n, d, generator=gen)
    out = gqa(q, k, v)
    rep = h // g
    mha = causal_attention(q, k.repeat_interleave(rep, 0), v.repeat_interleave(rep, 0))
    sdpa = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    # The wrong copy: .repeat tiles the heads (0, 1, 0, 1, …) and pairs queries with other groups.
    tiled = causal_attention(q, k.repeat(rep, 1, 1), v.repeat(rep, 1, 1))
    diff_mha = (out - mha).abs().max().item()
    diff_sdpa = (out - sdpa).abs().max().item()
    diff_tiled = (out - tiled).abs().max().item()

    def cache_bytes(groups: int) -> int:  # per token, per layer, fp16
        return 2 * groups * d * 2

    divisors = [x for x in range(h, 0, -1) if h % x == 0]
    rows = [
        [
            x,
            kind(x, h),
            h // x,
            cache_bytes(x),
            round(cache_bytes(x) * p.layers * p.context / 2**20, 3),
            round(x / h, 4),
        ]
        for x in divisors
    ]
    mine = size(cache_bytes(g) * p.layers * p.context)
    mha_all = size(cache_bytes(h) * p.layers * p.context)
    # Tiling differs from repeat_interleave only when there are several groups of several heads.
    tiled_zh = tiled_en = ""
    if 1 < g < h:
        tiled_zh = f"；若误用 repeat（平铺）复制，查询头会配错 K/V 头，差 {diff_tiled:.3g}"
        tiled_en = f"; copying with repeat (tiling) instead pairs query heads with the wrong K/V heads, a difference of {diff_tiled:.3g}"
    reads = [[1.0 if j == i // rep else 0.0 for j in range(g)] for i in range(h)]
    return DemoResult(
        conclusion=L(
            zh=f"{h} 个查询头、{g} 个 K/V 头（{kind(g, h)}）：分组计算与把 K/V 用 repeat_interleave 复制到 {h} 个头的 MHA 最大差 {diff_mha:.1e}，与 PyTorch 的 scaled_dot_product_attention(enable_gqa=True) 最大差 {diff_sdpa:.1e}{tiled_zh}。{p.layers} 层、{p.context} 个 token 的 fp16 缓存：{mine}，MHA 需 {mha_all}（省 {1 - g / h:.0%}）。",
            en=f"{h} query heads, {g} K/V heads ({kind(g, h)}): the grouped computation differs from MHA with K/V copied to {h} heads by repeat_interleave by at most {diff_mha:.1e}, and from PyTorch's scaled_dot_product_attention(enable_gqa=True) by {diff_sdpa:.1e}{tiled_en}. fp16 cache for {p.layers} layers and {p.context} tokens: {mine}, against {mha_all} for MHA ({1 - g / h:.0%} saved).",
        ),
        scalars=[
            Scalar(
                key="max_diff_vs_repeated_mha",
                label=L(
                    zh="GQA 与 repeat_interleave 后的 MHA 的最大差",
                    en="max |GQA − MHA with repeat_interleave'd K/V|",
                ),
                value=diff_mha,
            ),
            Scalar(
                key="max_diff_vs_sdpa",
                label=L(
                    zh="与 SDPA(enable_gqa=True) 的最大差",
                    en="max |GQA − SDPA(enable_gqa=True)|",
                ),
                value=diff_sdpa,
            ),
            Scalar(
                key="max_diff_vs_tiled",
                label=L(
                    zh="误用 repeat 平铺复制时的最大差",
                    en="max difference if K/V are tiled with repeat instead",
                ),
                value=diff_tiled,
            ),
            Scalar(
                key="cache_fraction_of_mha",
                label=L(zh="KV 缓存占 MHA 的比例 g/h", en="KV cache as a fraction of MHA's, g/h"),
                value=g / h,
            ),
        ],
        heatmaps=[
            Heatmap(
                x_label="K/V head",
                y_label="query head",
                title=L(
                    zh="每个查询头读哪个 K/V 头（行 = 查询头，列 = K/V 头）",
                    en="Which K/V head each query head reads (rows = query heads, columns = K/V heads)",
                ),
                matrix=reads,
                row_labels=[f"q{i}" for i in range(h)],
                col_labels=[f"kv{j}" for j in range(g)],
            )
        ],
        tables=[
            Table(
                title=L(
                    zh=f"每种分组的 KV 缓存（fp16，d_head = {d}；{p.layers} 层 × {p.context} 个 token）",
                    en=f"KV cache per grouping (fp16, d_head = {d}; {p.layers} layers × {p.context} tokens)",
                ),
                columns=[
                    "K/V heads g",
                    "kind",
                    "query heads per K/V head",
                    "bytes / token / layer",
                    "MiB in all",
                    "fraction of MHA",
                ],
                rows=rows,
            )
        ],
    )
