import math

import torch


def multi_head_attention(
    x: torch.Tensor,
    w_q: torch.Tensor,
    w_k: torch.Tensor,
    w_v: torch.Tensor,
    w_o: torch.Tensor,
    n_heads: int,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    b, n, d_model = x.shape
    d_head = d_model // n_heads

    def split(t: torch.Tensor) -> torch.Tensor:
        # (b, n, d_model) -> (b, n, heads, d_head) -> (b, heads, n, d_head): head h owns
        # features h*d_head .. (h+1)*d_head - 1.
        return t.reshape(b, n, n_heads, d_head).transpose(1, 2)

    q, k, v = split(x @ w_q), split(x @ w_k), split(x @ w_v)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = torch.where(mask.any(dim=-1, keepdim=True), weights, 0.0)
    heads = (weights @ v).transpose(1, 2).reshape(b, n, d_model)  # concatenate the heads
    return heads @ w_o
