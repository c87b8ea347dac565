import torch


def rms_norm(x: torch.Tensor, gamma: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    # Half-precision inputs: square in float32 (x² overflows float16 once |x| > 255).
    work = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    ms = (work * work).mean(dim=-1, keepdim=True)  # no mean subtraction: that is LayerNorm's job
    return (work * torch.rsqrt(ms + eps) * gamma).to(x.dtype)
