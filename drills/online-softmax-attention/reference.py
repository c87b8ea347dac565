import math

import torch


def tiled_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, tile: int) -> torch.Tensor:
    n_k = k.size(-2)
    scale = 1.0 / math.sqrt(q.size(-1))
    stats = (*q.shape[:-1], 1)
    m = torch.full(stats, float("-inf"), dtype=q.dtype)  # running max of each query's scores
    denom = torch.zeros(stats, dtype=q.dtype)  # running sum of exp(score - m)
    acc = torch.zeros(*q.shape[:-1], v.size(-1), dtype=q.dtype)  # running sum of exp(...) v
    for start in range(0, n_k, tile):
        s = q @ k[..., start : start + tile, :].transpose(-2, -1) * scale
        m_new = torch.maximum(m, s.amax(dim=-1, keepdim=True))
        p = torch.exp(s - m_new)
        # Everything summed so far was relative to the old max: rescale it to the new one.
        # On the first tile m is -inf and the factor is exp(-inf) = 0.
        fix = torch.exp(m - m_new)
        denom = denom * fix + p.sum(dim=-1, keepdim=True)
        acc = acc * fix + p @ v[..., start : start + tile, :]
        m = m_new
    return acc / denom
