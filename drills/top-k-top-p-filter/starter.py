import torch


def filter_logits(
    logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None
) -> torch.Tensor:
    """Top-k then top-p (nucleus) filtering of next-token logits, row by row.

    logits: (..., V). Cut logits become -inf; kept ones are unchanged; the input is not modified.
    top_k: keep exactly the k largest (equal logits: the lower index wins); None = no top-k.
    top_p: over the survivors' softmax, in descending order, keep a token while the probability
    mass before it is < top_p (the most likely token is always kept); None or >= 1 = no top-p.
    Returns a tensor of logits' shape and dtype.
    """
    raise NotImplementedError("sort each row (stably), cut the tail, scatter back")
