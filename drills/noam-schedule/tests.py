import torch

from app.drills.harness import case, check, check_close


def lr(fn, step, d_model=512, warmup=4000):
    value = fn(step, d_model, warmup)
    check(
        isinstance(value, int | float) and not isinstance(value, bool),
        f"noam_lr({step}, {d_model}, {warmup}) returned {type(value).__name__}; return a Python "
        "float (call float(...) on a tensor)",
    )
    return value


@case(
    "the peak: d_model = 512, warmup = 4000, step 4000",
    zh="峰值：d_model = 512，warmup = 4000，第 4000 步",
    visible=True,
)
def peak(fn, ref):
    # 512^-0.5 × 4000^-0.5 = 1 / sqrt(2048000)
    check_close(
        lr(fn, 4000), 6.987712429686843e-04, "noam_lr(4000, 512, 4000)", rtol=1e-9, atol=0.0
    )


@case("step 1 is tiny but not zero", zh="第 1 步学习率极小但不为零", visible=True)
def first_step(fn, ref):
    check_close(lr(fn, 1), 1.746928107421711e-07, "noam_lr(1, 512, 4000)", rtol=1e-9, atol=0.0)


@case(
    "warm-up is linear: twice the step, twice the rate", zh="预热期线性增长：步数翻倍，学习率翻倍"
)
def linear_warmup(fn, ref):
    for step in (10, 500, 1999):
        check_close(
            lr(fn, 2 * step),
            2 * lr(fn, step),
            f"noam_lr({2 * step}) vs 2 × noam_lr({step})",
            rtol=1e-9,
            atol=0.0,
        )


@case(
    "after warm-up it decays as 1/√step: four times the step, half the rate",
    zh="预热后按 1/√step 衰减：步数变 4 倍，学习率减半",
)
def sqrt_decay(fn, ref):
    for step in (4000, 10000, 123456):
        check_close(
            lr(fn, 4 * step),
            lr(fn, step) / 2,
            f"noam_lr({4 * step}) vs noam_lr({step}) / 2",
            rtol=1e-9,
            atol=0.0,
        )


@case("the largest rate is at step = warmup", zh="学习率最大值出现在 step = warmup")
def argmax(fn, ref):
    steps = list(range(3900, 4101))
    rates = [lr(fn, s, warmup=4000) for s in steps]
    best = steps[rates.index(max(rates))]
    check(best == 4000, f"the rate peaks at step {best}; it should peak at step = warmup = 4000")


@case("random steps, model widths and warm-ups", zh="随机的步数、模型宽度与预热步数")
def random_settings(fn, ref):
    g = torch.Generator().manual_seed(0)
    steps = torch.randint(1, 300000, (20,), generator=g).tolist()
    widths = torch.randint(4, 13, (20,), generator=g).tolist()
    warmups = torch.randint(100, 20000, (20,), generator=g).tolist()
    for step, w, warmup in zip(steps, widths, warmups, strict=True):
        d = 2**w
        check_close(
            lr(fn, step, d, warmup),
            ref(step, d, warmup),
            f"noam_lr({step}, {d}, {warmup})",
            rtol=1e-9,
            atol=0.0,
        )
