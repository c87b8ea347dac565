import torch


def label_smoothed_ce(logits: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """Cross-entropy with label smoothing, averaged over the batch.

    logits: (N, C) floating; target: (N,) int64 class indices; 0 <= eps < 1.
    The target distribution puts 1 - eps on the correct class plus eps / C on every class.
    Returns a 0-dim tensor in logits' dtype, equal to F.cross_entropy(logits, target,
    label_smoothing=eps) (which you may not call).
    """
    raise NotImplementedError("log-softmax, then mix the true-class and uniform terms")
