import torch


def apply_rope(
    q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotary position embedding (RoPE), pairing neighbours (x[2i], x[2i+1]).

    q: (..., n, d), k: (..., n, d), d even; positions: integer tensor (n,), the absolute
    position of each of the n tokens. Pair i at position p turns by the angle p * base^(-2i/d).
    Angles in float32 (float64 for float64 inputs); returns (q_rot, k_rot) in the input dtypes.
    """
    raise NotImplementedError("rotate each (even, odd) pair by position * theta_i")
