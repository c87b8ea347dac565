import torch


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention.

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v), all of one floating dtype.
    mask: None, or a bool tensor broadcastable to (..., n_q, n_k); True where a query may attend
    to a key. A query with no allowed key gets all-zero weights and a zero output row.

    Returns (out, weights): out (..., n_q, d_v) and weights (..., n_q, n_k), in q's dtype.
    """
    raise NotImplementedError("compute the scores, mask them, softmax, then weight v")
