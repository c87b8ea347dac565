import math

import torch
import torch.nn.functional as F


def decoder_block(x: torch.Tensor, params: dict[str, torch.Tensor], n_heads: int) -> torch.Tensor:
    p = params
    b, n, d = x.shape
    d_head = d // n_heads

    def split(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(b, n, n_heads, d_head).transpose(1, 2)

    # Sub-layer 1: causal multi-head self-attention on the normalised input, added to the raw x.
    h = F.layer_norm(x, (d,), p["ln1_g"], p["ln1_b"], 1e-5)
    q, k, v = split(h @ p["w_q"]), split(h @ p["w_k"]), split(h @ p["w_v"])
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)
    causal = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()
    weights = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
    attn = (weights @ v).transpose(1, 2).reshape(b, n, d) @ p["w_o"]
    x = x + attn
    # Sub-layer 2: the GELU feed-forward network, again pre-normalised, again residual.
    h = F.layer_norm(x, (d,), p["ln2_g"], p["ln2_b"], 1e-5)
    return x + F.gelu(h @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
