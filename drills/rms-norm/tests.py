import torch

from app.drills.harness import case, check, check_close, check_grads, check_shape, randn


def check_out(out, expected, x, gamma):
    check_shape(out, expected.shape, "out")
    if out.is_floating_point() and not torch.allclose(out.double(), expected.double(), atol=1e-3):
        c = x.double() - x.double().mean(-1, keepdim=True)
        centred = c / (c.pow(2).mean(-1, keepdim=True) + 1e-6).sqrt() * gamma.double()
        if torch.allclose(out.double(), centred, atol=1e-3):
            check(False, "out: the mean was subtracted; RMSNorm only rescales (that is LayerNorm)")
        if torch.allclose(
            out.double(), x.double() / x.double().std(-1, keepdim=True) * gamma, atol=1e-3
        ):
            check(
                False,
                "out: divided by the standard deviation; RMSNorm divides by sqrt(mean(x²) + eps)",
            )
    check_close(out, expected, "out")


@case("a worked example: x = [1, 2, 3, 4]", zh="手算示例：x = [1, 2, 3, 4]", visible=True)
def worked(fn, ref):
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    # mean(x²) = 7.5, rms = 2.7386
    expected = torch.tensor([[0.365148, 0.730297, 1.095445, 1.460593]])
    check_out(fn(x, torch.ones(4)), expected, x, torch.ones(4))


@case("shape kept; gamma scales each feature", zh="形状不变；gamma 逐特征缩放", visible=True)
def gamma_scales(fn, ref):
    x = randn(0, 2, 3, 8)
    gamma = torch.arange(1.0, 9.0)
    out = fn(x, gamma)
    check_shape(out, (2, 3, 8), "out")
    check_close(out, ref(x, gamma), "out")


@case("no mean subtraction: an offset row is not centred", zh="不减均值：整体平移的行不会被居中")
def no_centring(fn, ref):
    x = randn(1, 4, 16) + 3.0
    gamma = 1 + 0.1 * randn(2, 16)
    check_out(fn(x, gamma), ref(x, gamma), x, gamma)


@case("eps inside the root; a zero row stays zero", zh="eps 在平方根内；全零行仍输出零")
def eps_and_zero(fn, ref):
    x = torch.cat([torch.zeros(1, 8), randn(3, 2, 8) * 1e-4])
    gamma = torch.ones(8)
    out = fn(x, gamma)
    check(
        not out.isnan().any(),
        "out: NaN for an all-zero row: mean(x²) is 0; add eps inside the root",
    )
    check_close(out, ref(x, gamma), "out")
    check_close(fn(x, gamma, eps=1e-2), ref(x, gamma, eps=1e-2), "out with eps=1e-2")


@case("float16 with values around 300 does not overflow", zh="float16 下数值约为 300 时不溢出")
def float16_large(fn, ref):
    x = randn(4, 4, 64, dtype=torch.float16) * 300
    gamma = torch.ones(64, dtype=torch.float16)
    out = fn(x, gamma)
    check_shape(out, (4, 64), "out")
    if out.dtype == torch.float16 and bool((out == 0).all()):
        check(
            False,
            "out: all zeros: in float16 x² overflows to inf once |x| > 255, so x / inf = 0; "
            "square in float32 and cast back",
        )
    check_close(out, ref(x, gamma), "out (float16)")


@case("float64 keeps its dtype", zh="float64 输入保持原 dtype")
def float64(fn, ref):
    x = randn(5, 3, 32, dtype=torch.float64)
    gamma = 1 + 0.1 * randn(6, 32, dtype=torch.float64)
    check_close(fn(x, gamma), ref(x, gamma), "out (float64)")


@case("gradients reach x and gamma", zh="梯度传到 x 和 gamma")
def gradients(fn, ref):
    up = randn(7, 3, 8)
    grads = []
    for f in (ref, fn):
        x = randn(8, 3, 8).requires_grad_()
        gamma = (1 + 0.1 * randn(9, 8)).requires_grad_()
        (f(x, gamma) * up).sum().backward()
        grads.append((x.grad, gamma.grad))
    check_grads(grads[1], grads[0], ("x", "gamma"))
