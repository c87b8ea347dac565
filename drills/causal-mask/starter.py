import torch


def causal_mask(n: int) -> torch.Tensor:
    """The causal self-attention mask for a sequence of n tokens.

    Returns a bool tensor of shape (n, n): mask[i, j] is True when query i may attend to key j,
    that is when j <= i.
    """
    raise NotImplementedError("True on and below the diagonal, False above it")
