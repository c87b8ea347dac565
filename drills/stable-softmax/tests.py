import torch

from app.drills.harness import case, check, check_close, check_grads, check_shape, dtype_name, randn


@case("a worked example: softmax([1, 2, 3])", zh="手算示例：softmax([1, 2, 3])", visible=True)
def worked_example(fn, ref):
    out = fn(torch.tensor([1.0, 2.0, 3.0]))
    check_close(out, torch.tensor([0.09003, 0.24473, 0.66524]), "softmax([1, 2, 3])", atol=1e-5)


@case(
    "shape and dtype are kept; each row sums to 1",
    zh="形状和 dtype 不变；每行之和为 1",
    visible=True,
)
def shape_and_sum(fn, ref):
    x = randn(0, 2, 3, 5)
    out = fn(x)
    check_shape(out, (2, 3, 5), "out")
    check_close(out.sum(-1), torch.ones(2, 3), "the sums along dim -1")


@case("any dim: 0, 1 and -2", zh="任意维度：dim 取 0、1 和 -2")
def other_dims(fn, ref):
    x = randn(1, 3, 4, 5)
    for dim in (0, 1, -2):
        check_close(fn(x, dim=dim), ref(x, dim=dim), f"softmax(x, dim={dim})")


@case("large logits (×1e4) stay finite", zh="放大 1e4 倍的 logits 仍得到有限值")
def large(fn, ref):
    x = randn(2, 4, 6) * 1e4
    out = fn(x)
    check(
        not out.isnan().any(),
        "out: NaN for logits around 1e4: exp overflows to inf and inf/inf is NaN; "
        "subtract the max along dim first",
    )
    check_close(out, ref(x), "out")


@case("very negative logits do not give 0/0", zh="极小的负 logits 不会出现 0/0")
def very_negative(fn, ref):
    x = randn(3, 3, 5) - 1e4
    out = fn(x)
    check(
        not out.isnan().any(),
        "out: NaN for logits around -1e4: every exp underflows to 0 and 0/0 is NaN",
    )
    check_close(out, ref(x), "out")


@case("-inf entries (masked) get exactly zero", zh="值为 -inf 的（被屏蔽）位置概率恰好为 0")
def minus_inf(fn, ref):
    x = randn(4, 3, 6)
    x[:, 4:] = float("-inf")
    out = fn(x)
    check_close(out, ref(x), "out")
    check(bool((out[:, 4:] == 0).all()), "out: a -inf logit must get probability exactly 0")


@case("float16 and float64 keep their dtype", zh="float16 与 float64 输入保持原 dtype")
def dtypes(fn, ref):
    for dtype in (torch.float16, torch.float64):
        x = randn(5, 4, 7, dtype=dtype) * 3
        check_close(fn(x), ref(x), f"out ({dtype_name(dtype)})")


@case("a non-contiguous input (a transposed view)", zh="非连续存储的输入（转置视图）")
def non_contiguous(fn, ref):
    x = randn(6, 5, 4).t()
    check_close(fn(x), ref(x), "out")
    check_close(fn(x, dim=0), ref(x, dim=0), "out along dim 0")


@case("the gradient matches", zh="梯度与参考实现一致")
def gradient(fn, ref):
    up = randn(7, 3, 5)
    grads = []
    for f in (ref, fn):
        x = randn(8, 3, 5).requires_grad_()
        (f(x) * up).sum().backward()
        grads.append(x.grad)
    check_grads(grads[1:], grads[:1], ["x"])
