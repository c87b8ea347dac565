import torch

from app.drills.harness import case, check, check_close, check_grads, check_shape, dtype_name, randn


def params(seed, d, dtype=torch.float32):
    return 1 + 0.1 * randn(seed, d, dtype=dtype), 0.1 * randn(seed + 1, d, dtype=dtype)


def slip(x, gamma, beta, eps, *, unbiased=False, eps_outside=False):
    m = x.double().mean(-1, keepdim=True)
    v = x.double().var(-1, keepdim=True, unbiased=unbiased)
    s = v.sqrt() + eps if eps_outside else (v + eps).sqrt()
    return ((x.double() - m) / s * gamma.double() + beta.double()).to(x.dtype)


def check_out(out, expected, x, gamma, beta, eps=1e-5):
    check_shape(out, expected.shape, "out")
    if torch.is_floating_point(out) and not torch.allclose(
        out.double(), expected.double(), atol=1e-3
    ):
        if torch.allclose(
            out.double(), slip(x, gamma, beta, eps, unbiased=True).double(), atol=1e-4
        ):
            check(
                False,
                "out: this uses the unbiased variance (divide by d - 1), torch.var's default; "
                "LayerNorm divides by d (unbiased=False)",
            )
        if torch.allclose(
            out.double(), slip(x, gamma, beta, eps, eps_outside=True).double(), atol=1e-4
        ):
            check(False, "out: eps belongs inside the square root: sqrt(var + eps)")
    check_close(out, expected, "out")


@case("a worked example: x = [1, 2, 3, 4]", zh="手算示例：x = [1, 2, 3, 4]", visible=True)
def worked(fn, ref):
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    out = fn(x, torch.ones(4), torch.zeros(4))
    # mean 2.5, biased variance 1.25
    expected = torch.tensor([[-1.341635, -0.447212, 0.447212, 1.341635]])
    check_out(out, expected, x, torch.ones(4), torch.zeros(4))


@case(
    "shape kept; gamma scales and beta shifts every row",
    zh="形状不变；gamma 缩放、beta 平移每一行",
    visible=True,
)
def gamma_beta(fn, ref):
    x = randn(0, 2, 3, 8)
    gamma, beta = torch.full((8,), 2.0), torch.arange(8.0)
    out = fn(x, gamma, beta)
    check_shape(out, (2, 3, 8), "out")
    check_close(out, ref(x, gamma, beta), "out")


@case(
    "normalise over the last dimension with the biased variance",
    zh="在最后一维上归一化，使用有偏方差（除以 d）",
)
def biased(fn, ref):
    x = randn(2, 4, 6)
    gamma, beta = params(3, 6)
    check_out(fn(x, gamma, beta), ref(x, gamma, beta), x, gamma, beta)


@case("eps sits inside the square root", zh="eps 加在平方根里面")
def eps_inside(fn, ref):
    x = randn(4, 3, 16) * 1e-3  # variance about 1e-6, smaller than eps
    gamma, beta = params(5, 16)
    check_out(fn(x, gamma, beta), ref(x, gamma, beta), x, gamma, beta)


@case("a constant row gives beta, not NaN", zh="常数行的输出是 beta，而不是 NaN")
def constant_row(fn, ref):
    x = torch.full((2, 5), 3.0)
    gamma, beta = params(6, 5)
    out = fn(x, gamma, beta)
    check(not out.isnan().any(), "out: NaN for a constant row: its variance is 0; add eps")
    check_close(out, ref(x, gamma, beta), "out")


@case(
    "a large offset (x ≈ 10000 + noise) keeps its precision",
    zh="大偏移（x ≈ 10000 + 噪声）下精度不丢失",
)
def large_offset(fn, ref):
    x = 1e4 + randn(7, 4, 32)
    gamma, beta = params(8, 32)
    out = fn(x, gamma, beta)
    check(
        not out.isnan().any(),
        "out: NaN: E[x²] − E[x]² cancels catastrophically in float32 and can go negative; "
        "subtract the mean first, then average the squares",
    )
    # float32 holds 1e4 to about 1e-3, so a correct mean is off by that much: allow it.
    check_close(out, ref(x, gamma, beta), "out", atol=5e-3, rtol=1e-3)


@case(
    "float16 (statistics in float32) and float64 keep their dtype",
    zh="float16（统计量用 float32 计算）与 float64 保持原 dtype",
)
def dtypes(fn, ref):
    for dtype in (torch.float16, torch.float64):
        x = randn(9, 4, 64, dtype=dtype)
        gamma, beta = params(10, 64, dtype)
        check_close(fn(x, gamma, beta), ref(x, gamma, beta), f"out ({dtype_name(dtype)})")


@case(
    "gradients reach x, gamma and beta; eps is a parameter",
    zh="梯度传到 x、gamma 和 beta；传入的 eps 确实生效",
)
def gradients(fn, ref):
    up = randn(11, 3, 8)
    grads = []
    for f in (ref, fn):
        x = randn(12, 3, 8).requires_grad_()
        gamma, beta = (t.requires_grad_() for t in params(13, 8))
        (f(x, gamma, beta, eps=0.1) * up).sum().backward()
        grads.append((x.grad, gamma.grad, beta.grad))
    check_grads(grads[1], grads[0], ("x", "gamma", "beta"))
