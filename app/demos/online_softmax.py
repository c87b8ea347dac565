"""Online softmax: attention computed one tile of keys at a time, keeping for every query a
running max m, a running sum ℓ of exp(score − m) and a running output, rescaled by exp(m_old −
m_new) whenever the max grows. The result equals full softmax attention for any tile size (it is
exact algebra, not an approximation), while only an n × tile strip of scores exists at once.
The demo computes in float64, so what is left of the difference is rounding alone.

Sources: Milakov & Gimelshein 2018, "Online normalizer calculation for softmax"
(arXiv:1805.02867), §3; Dao et al. 2022, "FlashAttention" (arXiv:2205.14135), §3.1 (tiling,
Algorithm 1).
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

TRACE_TILES = 16  # rows of the running-max table


class Params(DemoParams):
    n: int = Field(64, ge=2, le=256, description="Sequence length (queries = keys).")
    d: int = Field(32, ge=2, le=128, description="Head width.")
    tile: int = Field(16, ge=1, le=256, description="Keys per tile.")
    logit_scale: float = Field(
        1.0,
        ge=0.1,
        le=100.0,
        description="Multiply the scores: large values overflow exp() unless the max is subtracted.",
    )


def full_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q·kᵀ/√d)·v with the whole n × n score matrix in memory."""
    return (q @ k.T / math.sqrt(q.shape[-1])).softmax(-1) @ v


def online_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, tile: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same attention one key tile at a time. Returns the output and a trace of shape
    (tiles, 4, n): per tile and query, the tile's max score, the running max m after it, the
    rescale factor exp(m_old − m) and the running sum ℓ."""
    n, d = q.shape
    m = torch.full((n,), float("-inf"), dtype=q.dtype)
    ell = torch.zeros(n, dtype=q.dtype)
    acc = torch.zeros(n, v.shape[-1], dtype=q.dtype)
    trace = []
    for start in range(0, k.shape[0], tile):
        s = q @ k[start : start + tile].T / math.sqrt(d)  # (n, tile): all that is held at once
        m_new = torch.maximum(m, s.amax(-1))
        alpha = torch.exp(m - m_new)  # how much the old sum and output shrink; exp(−inf) = 0
        p = torch.exp(s - m_new[:, None])
        ell = alpha * ell + p.sum(-1)
        acc = alpha[:, None] * acc + p @ v[start : start + tile]
        trace.append(torch.stack([s.amax(-1), m_new, alpha, ell]))
        m = m_new
    return acc / ell[:, None], torch.stack(trace)


def naive_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """exp(score) / Σ exp(score) without subtracting the max: in fp32, exp overflows above
    ln(3.4e38) ≈ 88.7."""
    e = torch.exp(q @ k.T / math.sqrt(q.shape[-1]))
    return (e / e.sum(-1, keepdim=True)) @ v


@register(
    "online-softmax",
    title=L(
        zh="在线 softmax（FlashAttention 的分块）", en="Online softmax (FlashAttention's tiling)"
    ),
    description=L(
        zh="按 key 分块计算注意力：每个 query 维护运行最大值 m、运行和 ℓ 与运行输出，最大值变大时把旧的和与输出乘以 exp(m_旧 − m_新) 修正。结果与完整 softmax 注意力相同，与分块大小无关；同一时刻只需要 n × tile 的分数，而不是 n × n。",
        en="Attention one tile of keys at a time: each query keeps a running max m, a running sum ℓ and a running output, and when the max grows the old sum and output are multiplied by exp(m_old − m_new). The result equals full softmax attention whatever the tile size, and only n × tile scores exist at once instead of n × n.",
    ),
    params=Params,
    serves=("flash-attention",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    q, k, v = (torch.randn(p.n, p.d, generator=g, dtype=torch.float64) for _ in range(3))
    q = q * p.logit_scale
    full = full_attention(q, k, v)
    out, trace = online_attention(q, k, v, p.tile)
    diff = (out - full).abs().max().item()
    naive = naive_attention(q.float(), k.float(), v.float())
    naive_finite = bool(torch.isfinite(naive).all())
    max_score = (q @ k.T / math.sqrt(p.d)).max().item()

    # Every power-of-two tile size up to n, and n itself: the answer never depends on it.
    sizes = sorted({2**i for i in range(int(math.log2(p.n)) + 1)} | {p.n})
    per_size = [(online_attention(q, k, v, t)[0] - full).abs().max().item() for t in sizes]
    # Trace the query whose running max grows most often: the rescaling is then visible.
    shown = trace[:TRACE_TILES]
    grows = (shown[1:, 1] > shown[:-1, 1]).sum(0)
    row = int(grows.argmax())

    lengths = [2**i for i in range(6, 18)]  # 64 … 131072
    full_mib = [4 * n * n / 2**20 for n in lengths]
    # One n × tile strip of scores plus m and ℓ per query, fp32.
    tiled_mib = [4 * (n * min(p.tile, n) + 2 * n) / 2**20 for n in lengths]
    n_tiles = math.ceil(p.n / p.tile)
    held_full, held_tiled = p.n * p.n, p.n * min(p.tile, p.n) + 2 * p.n
    return DemoResult(
        conclusion=L(
            zh=f"n = {p.n}，每块 {p.tile} 个 key（共 {n_tiles} 块，float64）：分块在线 softmax 与完整注意力的最大差 {diff:.1e}；换成 {len(sizes)} 种分块大小，最大差都不超过 {max(per_size):.1e}。同一时刻只保存 {held_tiled} 个数（完整矩阵 {held_full} 个）。最大分数 {max_score:.3g}：不减最大值的朴素写法在 fp32 中{'仍然有限' if naive_finite else '溢出为 inf/NaN（exp 超过 88.7 就溢出）'}。",
            en=f"n = {p.n}, tile = {p.tile} keys ({n_tiles} tile{'s' * (n_tiles > 1)}; float64): tiled online softmax vs full attention, max difference {diff:.1e}; across {len(sizes)} tile sizes the largest difference is {max(per_size):.1e}. Only {held_tiled} numbers are held at once (the full matrix: {held_full}). Largest score {max_score:.3g}: the naive form without subtracting the max {'stays finite in fp32' if naive_finite else 'overflows to inf/NaN in fp32 (exp overflows above 88.7)'}.",
        ),
        scalars=[
            Scalar(
                key="max_abs_diff",
                label=L(zh="分块与完整注意力的最大差", en="max |tiled − full attention|"),
                value=diff,
            ),
            Scalar(
                key="max_diff_over_tile_sizes",
                label=L(zh="所有分块大小中的最大差", en="max difference over all tile sizes"),
                value=max(per_size),
            ),
            Scalar(
                key="naive_finite",
                label=L(
                    zh="不减最大值的朴素 softmax（fp32）是否有限",
                    en="naive softmax without the max (fp32): finite?",
                ),
                value=naive_finite,
            ),
            Scalar(
                key="max_score",
                label=L(zh="最大的注意力分数", en="largest attention score"),
                value=max_score,
            ),
            Scalar(
                key="numbers_held_full",
                label=L(zh="完整方法同时保存的分数个数", en="scores held at once: full"),
                value=held_full,
            ),
            Scalar(
                key="numbers_held_tiled",
                label=L(
                    zh="分块方法同时保存的数（分数 + m + ℓ）",
                    en="held at once: tiled (scores + m + ℓ)",
                ),
                value=held_tiled,
            ),
        ],
        tables=[
            Table(
                title=L(
                    zh=f"第 {row} 个 query 的运行最大值与运行和（前 {len(shown)} 块；最大值变大时，旧的和乘以 exp(m_旧 − m)）",
                    en=f"Query {row}: running max and running sum (first {len(shown)} tiles; when the max grows, the old sum is multiplied by exp(m_old − m))",
                ),
                columns=[
                    "tile",
                    "keys",
                    "tile max",
                    "running max m",
                    "rescale exp(m_old − m)",
                    "running sum ℓ",
                ],
                rows=[
                    [
                        i,
                        f"{i * p.tile}–{min((i + 1) * p.tile, p.n) - 1}",
                        *(round(x, 4) for x in step[:, row].tolist()),
                    ]
                    for i, step in enumerate(shown)
                ],
            )
        ],
        charts=[
            Chart(
                title=L(
                    zh="与完整注意力的差，按分块大小",
                    en="Difference from full attention, per tile size",
                ),
                kind="bar",
                x_label="keys per tile",
                y_label="max |tiled − full|",
                series=[Series(name="max |Δ|", x=sizes, y=per_size)],
            ),
            Chart(
                title=L(
                    zh=f"同时保存的分数所占内存（fp32，单头）：n × n vs n × {p.tile}",
                    en=f"Memory of the scores held at once (fp32, one head): n × n vs n × {p.tile}",
                ),
                x_label="sequence length n (tokens)",
                y_label="MiB",
                log_x=True,
                log_y=True,
                series=[
                    Series(name="full n × n scores", x=lengths, y=full_mib),
                    Series(name=f"tiled: n × {p.tile} + m, ℓ", x=lengths, y=tiled_mib),
                ],
            ),
        ],
    )
