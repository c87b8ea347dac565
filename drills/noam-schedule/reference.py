def noam_lr(step: int, d_model: int, warmup: int) -> float:
    # Linear growth for `warmup` steps, then decay as 1/sqrt(step); the two meet at step = warmup.
    return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)
