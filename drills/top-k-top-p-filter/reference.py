import torch


def filter_logits(
    logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None
) -> torch.Tensor:
    out = logits.clone()
    cut = float("-inf")
    vocab = out.size(-1)
    if top_k is not None and top_k < vocab:
        # A stable sort keeps equal logits in index order, so ties go to the lower index.
        order = torch.sort(out, dim=-1, descending=True, stable=True).indices
        out = out.scatter(-1, order[..., top_k:], cut)
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(out, dim=-1, descending=True, stable=True)
        probs = torch.softmax(sorted_logits.float(), dim=-1)  # after top-k: survivors only
        # Probability mass strictly before each rank; a token is kept while that is below p,
        # so the token that carries the total past p is kept and rank 0 always is.
        before = torch.cumsum(probs, dim=-1) - probs
        remove_sorted = before >= top_p
        remove = torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
        out = out.masked_fill(remove, cut)
    return out
