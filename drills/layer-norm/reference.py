import torch


def layer_norm(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    # Half-precision inputs: statistics in float32, as F.layer_norm does.
    work = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    mean = work.mean(dim=-1, keepdim=True)
    centred = work - mean
    var = (centred * centred).mean(dim=-1, keepdim=True)  # biased: divide by d, not d - 1
    y = centred * torch.rsqrt(var + eps)
    return (y * gamma + beta).to(x.dtype)
