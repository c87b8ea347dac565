import torch


def causal_mask(n: int) -> torch.Tensor:
    # Row i is query i; key j is allowed when j <= i (the diagonal included: a token sees itself).
    return torch.ones(n, n, dtype=torch.bool).tril()
