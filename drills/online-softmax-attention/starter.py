import torch


def tiled_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, tile: int) -> torch.Tensor:
    """softmax(q kᵀ / √d) v, computed one tile of `tile` keys at a time (online softmax).

    q: (..., n_q, d); k: (..., n_k, d); v: (..., n_k, d_v); float32 or float64; no mask.
    Never build the full (n_q, n_k) score matrix: keep, per query, a running max, a running
    denominator and a running weighted sum of v, rescaled when the max grows.
    Returns (..., n_q, d_v), equal to full attention.
    """
    raise NotImplementedError("loop over key tiles with a running max, sum and accumulator")
