import torch


def sinusoidal_pe(n: int, d_model: int) -> torch.Tensor:
    """The sinusoidal positional encoding table of the original Transformer.

    Returns a float32 tensor (n, d_model), d_model even, with
    pe[pos, 2i] = sin(pos / 10000^(2i / d_model)) and pe[pos, 2i + 1] = cos(same angle).
    """
    raise NotImplementedError("one angle per (position, column pair); sines even, cosines odd")
