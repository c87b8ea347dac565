import torch
import torch.nn.functional as F


def swiglu_ffn(
    x: torch.Tensor, w_gate: torch.Tensor, w_up: torch.Tensor, w_down: torch.Tensor
) -> torch.Tensor:
    # SiLU(z) = z * sigmoid(z) on the gate branch only; the up branch stays linear.
    return (F.silu(x @ w_gate) * (x @ w_up)) @ w_down
