def noam_lr(step: int, d_model: int, warmup: int) -> float:
    """The learning rate of the original Transformer at a given step (steps start at 1).

    lr = d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), returned as a Python float.
    """
    raise NotImplementedError("a linear warm-up, then an inverse square-root decay")
