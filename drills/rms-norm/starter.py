import torch


def rms_norm(x: torch.Tensor, gamma: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """RMSNorm over the last dimension, without F.rms_norm.

    x: (..., d); gamma: (d,). y = x / sqrt(mean(x²) + eps) * gamma, with no mean subtraction
    and no bias. Returns x's shape and dtype (float16 inputs: compute in float32).
    """
    raise NotImplementedError("root mean square over the last dim, divide, scale")
