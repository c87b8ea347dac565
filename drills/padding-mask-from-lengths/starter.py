import torch


def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """Which positions of a padded batch hold real tokens.

    lengths: 1-D integer tensor (B,), the true length of each sequence, 0 <= lengths[b] <= max_len.
    Returns a bool tensor (B, max_len): True at positions t < lengths[b], False at the padding.
    """
    raise NotImplementedError("compare each position with each sequence's length")
