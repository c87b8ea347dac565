import math

import torch


def decode_step(
    x_t: torch.Tensor,
    cache_k: torch.Tensor,
    cache_v: torch.Tensor,
    w_q: torch.Tensor,
    w_k: torch.Tensor,
    w_v: torch.Tensor,
    w_o: torch.Tensor,
    n_heads: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    b, _, d_model = x_t.shape
    d_head = d_model // n_heads

    def split(t: torch.Tensor) -> torch.Tensor:  # (b, 1, d_model) -> (b, heads, 1, d_head)
        return t.reshape(b, 1, n_heads, d_head).transpose(1, 2)

    q = split(x_t @ w_q)
    # Only the new token is projected; the past keys and values come from the cache.
    new_k = torch.cat([cache_k, split(x_t @ w_k)], dim=2)
    new_v = torch.cat([cache_v, split(x_t @ w_v)], dim=2)
    # The newest token may see every cached position and itself: no mask is needed.
    weights = torch.softmax(q @ new_k.transpose(-2, -1) / math.sqrt(d_head), dim=-1)
    out = (weights @ new_v).transpose(1, 2).reshape(b, 1, d_model) @ w_o
    return out, new_k, new_v
