import torch


def label_smoothed_ce(logits: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    # log_softmax subtracts the row max inside, so huge logits cannot overflow.
    logp = torch.log_softmax(logits, dim=-1)
    nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)  # -log p(correct class)
    uniform = -logp.mean(dim=-1)  # cross-entropy against the uniform distribution over C classes
    return ((1 - eps) * nll + eps * uniform).mean()
