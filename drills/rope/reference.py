import torch


def apply_rope(
    q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    d = q.size(-1)
    # Angles in float32 at least: float16 cannot even hold position 2049 exactly.
    work = torch.float64 if q.dtype == torch.float64 else torch.float32
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=work) / d)  # theta_i, (d/2,)
    angles = positions.to(work)[:, None] * inv_freq  # (n, d/2)
    cos, sin = angles.cos(), angles.sin()

    def rotate(x: torch.Tensor) -> torch.Tensor:
        # Pairs are neighbours (x[2i], x[2i+1]), each rotated by its own angle.
        even, odd = x[..., 0::2].to(work), x[..., 1::2].to(work)
        rotated = torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1)
        return rotated.flatten(-2).to(x.dtype)

    return rotate(q), rotate(k)
