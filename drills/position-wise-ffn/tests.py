import torch

from app.drills.harness import case, check, check_close, check_grads, check_shape, dtype_name, randn


def weights(seed, d_model=8, d_ff=32, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    w1 = torch.randn(d_model, d_ff, generator=g) / d_model**0.5
    b1 = 0.1 * torch.randn(d_ff, generator=g)
    w2 = torch.randn(d_ff, d_model, generator=g) / d_ff**0.5
    b2 = 0.1 * torch.randn(d_model, generator=g)
    return [t.to(dtype) for t in (w1, b1, w2, b2)]


def check_out(out, expected, x, w1, b1, w2, b2):
    check_shape(out, expected.shape, "out")
    if out.is_floating_point() and not torch.allclose(out.double(), expected.double(), atol=1e-3):
        if torch.allclose(out, (x @ w1 + b1) @ w2 + b2, atol=1e-4):
            check(False, "out: no ReLU between the layers, so the whole FFN is one linear map")
        if torch.allclose(out, torch.relu((x @ w1 + b1) @ w2 + b2), atol=1e-4):
            check(False, "out: the ReLU goes between the two layers, not after the second")
    check_close(out, expected, "out")


@case(
    "shape (2, 5, 8) in, (2, 5, 8) out, d_ff = 32",
    zh="输入 (2, 5, 8)，输出 (2, 5, 8)，d_ff = 32",
    visible=True,
)
def shape(fn, ref):
    x = randn(0, 2, 5, 8)
    out = fn(x, *weights(1))
    check_shape(out, (2, 5, 8), "out")


@case(
    "a worked example with d_model = 2, d_ff = 3",
    zh="手算示例：d_model = 2，d_ff = 3",
    visible=True,
)
def worked(fn, ref):
    x = torch.tensor([[1.0, 2.0]])
    w1 = torch.tensor([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
    b1 = torch.tensor([0.0, -2.0, 0.0])
    w2 = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    b2 = torch.tensor([0.5, -0.5])
    # x @ w1 + b1 = [1, -1, -2] -> ReLU -> [1, 0, 0] -> @ w2 + b2 = [1.5, 1.5]
    check_out(fn(x, w1, b1, w2, b2), torch.tensor([[1.5, 1.5]]), x, w1, b1, w2, b2)


@case("a ReLU sits between the two layers", zh="两层线性变换之间有一个 ReLU")
def relu_between(fn, ref):
    x = randn(2, 4, 8)
    ws = weights(3)
    check_out(fn(x, *ws), ref(x, *ws), x, *ws)


@case(
    "position-wise: any leading dimensions, the same weights everywhere",
    zh="逐位置：前导维度任意，每个位置共用同一组权重",
)
def leading_dims(fn, ref):
    ws = weights(4)
    for shape in ((8,), (3, 8), (2, 3, 4, 8)):
        x = randn(5, *shape)
        check_close(fn(x, *ws), ref(x, *ws), f"out for x of shape {shape}")
    x = randn(6, 6, 8)
    perm = torch.tensor([5, 0, 3, 1, 4, 2])
    check_close(fn(x[perm], *ws), fn(x, *ws)[perm], "out for shuffled positions")


@case("a non-contiguous input", zh="非连续存储的输入")
def non_contiguous(fn, ref):
    x = randn(7, 8, 5).t()
    ws = weights(8)
    check_close(fn(x, *ws), ref(x, *ws), "out")


@case("float64 and float16 keep their dtype", zh="float64 与 float16 输入保持原 dtype")
def dtypes(fn, ref):
    for dtype in (torch.float64, torch.float16):
        x, ws = randn(9, 3, 8, dtype=dtype), weights(10, dtype=dtype)
        check_close(fn(x, *ws), ref(x, *ws), f"out ({dtype_name(dtype)})")


@case("gradients reach x and all four parameters", zh="梯度传到 x 和全部四个参数")
def gradients(fn, ref):
    up = randn(11, 4, 8)
    grads = []
    for f in (ref, fn):
        x = randn(12, 4, 8).requires_grad_()
        ws = [w.requires_grad_() for w in weights(13)]
        (f(x, *ws) * up).sum().backward()
        grads.append([t.grad for t in (x, *ws)])
    check_grads(grads[1], grads[0], ("x", "w1", "b1", "w2", "b2"))
