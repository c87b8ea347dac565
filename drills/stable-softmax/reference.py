import torch


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    # Subtracting the max changes nothing mathematically (it cancels in the ratio) but keeps
    # every exponent <= 0, so exp never overflows and the largest term is exactly 1.
    shifted = x - x.amax(dim=dim, keepdim=True)
    e = shifted.exp()
    return e / e.sum(dim=dim, keepdim=True)
