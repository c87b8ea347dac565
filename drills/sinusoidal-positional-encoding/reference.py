import torch


def sinusoidal_pe(n: int, d_model: int) -> torch.Tensor:
    # float64 for the angles: pos / 10000^(2i/d) loses digits in float32 at large positions.
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angles = pos / 10000.0 ** (two_i / d_model)  # (n, d_model / 2): one frequency per column pair
    pe = torch.empty(n, d_model, dtype=torch.float64)
    pe[:, 0::2] = angles.sin()
    pe[:, 1::2] = angles.cos()
    return pe.to(torch.float32)
