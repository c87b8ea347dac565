import torch


def decoder_block(x: torch.Tensor, params: dict[str, torch.Tensor], n_heads: int) -> torch.Tensor:
    """One pre-LN decoder block (GPT-2 style), causal, no dropout:

        h = x + MHA(LN1(x))        causal self-attention, weights applied as t @ w
        y = h + FFN(LN2(h))        FFN(t) = GELU(t @ w1 + b1) @ w2 + b2, exact (erf) GELU

    x: (B, n, d_model). params: ln1_g, ln1_b, ln2_g, ln2_b (d_model,); w_q, w_k, w_v, w_o
    (d_model, d_model); w1 (d_model, d_ff), b1 (d_ff,), w2 (d_ff, d_model), b2 (d_model,).
    LayerNorm eps = 1e-5. Returns (B, n, d_model).
    """
    raise NotImplementedError("normalise, attend causally, add; normalise, feed forward, add")
