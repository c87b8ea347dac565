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
    """One step of cached autoregressive multi-head self-attention.

    x_t: (B, 1, d_model), the newest token. cache_k, cache_v: (B, n_heads, t, d_head), the keys
    and values of the t earlier tokens (t may be 0). Weights (d_model, d_model), applied as x @ w.
    Returns (out, new_cache_k, new_cache_v): out (B, 1, d_model), equal to causal multi-head
    attention over all t + 1 tokens at the last position; caches (B, n_heads, t + 1, d_head).
    """
    raise NotImplementedError("project the new token, append its k and v, attend, project out")
