import torch


def swiglu_ffn(
    x: torch.Tensor, w_gate: torch.Tensor, w_up: torch.Tensor, w_down: torch.Tensor
) -> torch.Tensor:
    """The SwiGLU feed-forward network (no biases): (SiLU(x W_gate) * (x W_up)) W_down.

    x: (..., d_model); w_gate, w_up: (d_model, d_ff); w_down: (d_ff, d_model).
    SiLU(z) = z * sigmoid(z). Returns (..., d_model) in x's dtype.
    """
    raise NotImplementedError("gate with SiLU, multiply by the up projection, project down")
