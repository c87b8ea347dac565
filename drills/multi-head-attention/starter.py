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
    """Multi-head self-attention without biases.

    x: (B, n, d_model). w_q, w_k, w_v, w_o: (d_model, d_model), applied as x @ w.
    n_heads divides d_model; head h uses features h*d_head .. (h+1)*d_head - 1.
    mask: None or bool, broadcastable to (B, n_heads, n, n); True = may attend.
    A query with no allowed key gets zero weights.

    Returns (B, n, d_model) in x's dtype.
    """
    raise NotImplementedError("project, split into heads, attend per head, merge, project")
