import math

import torch


def gqa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, n_kv_heads: int) -> torch.Tensor:
    b, h_q, n_q, d = q.shape
    group = h_q // n_kv_heads
    # Query heads [g*group, (g+1)*group) share kv head g: view q as (b, kv_heads, group, n_q, d)
    # and let the kv heads broadcast over the group axis, without copying k and v.
    qg = q.reshape(b, n_kv_heads, group, n_q, d)
    kg, vg = k.unsqueeze(2), v.unsqueeze(2)  # (b, kv_heads, 1, n_k, d)
    weights = torch.softmax(qg @ kg.transpose(-2, -1) / math.sqrt(d), dim=-1)
    return (weights @ vg).reshape(b, h_q, n_q, v.size(-1))
