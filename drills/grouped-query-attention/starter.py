import torch


def gqa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, n_kv_heads: int) -> torch.Tensor:
    """Grouped-query attention (no mask).

    q: (B, n_heads, n_q, d); k: (B, n_kv_heads, n_k, d); v: (B, n_kv_heads, n_k, d_v).
    n_kv_heads divides n_heads; query head i uses key/value head i // (n_heads // n_kv_heads).
    Returns (B, n_heads, n_q, d_v) in q's dtype.
    """
    raise NotImplementedError("map each query head to its kv head, then attend")
