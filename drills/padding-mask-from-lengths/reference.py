import torch


def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    positions = torch.arange(max_len, device=lengths.device)
    # (1, max_len) < (B, 1) broadcasts to (B, max_len): True at the real tokens of each sequence.
    return positions[None, :] < lengths[:, None]
