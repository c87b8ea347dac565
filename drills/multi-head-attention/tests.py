import math

import torch

from app.drills.harness import case, check, check_close, check_grads, check_shape, dtype_name


def inputs(seed, b=2, n=5, d_model=16, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, n, d_model, generator=g)
    ws = [torch.randn(d_model, d_model, generator=g) / math.sqrt(d_model) for _ in range(4)]
    return [t.to(dtype) for t in (x, *ws)]


def variant(x, w_q, w_k, w_v, w_o, n_heads, *, split_right=True, scale_by_head=True):
    """Multi-head attention with one of two usual slips, to name the slip in a message."""
    b, n, d = x.shape
    dh = d // n_heads

    def split(t):
        if split_right:
            return t.reshape(b, n, n_heads, dh).transpose(1, 2)
        return t.reshape(b, n_heads, n, dh)

    q, k, v = split(x @ w_q), split(x @ w_k), split(x @ w_v)
    scale = math.sqrt(dh if scale_by_head else d)
    w = torch.softmax(q @ k.transpose(-2, -1) / scale, -1)
    o = w @ v
    o = o.transpose(1, 2).reshape(b, n, d) if split_right else o.reshape(b, n, d)
    return o @ w_o


def near(a, b):
    return a.shape == b.shape and torch.allclose(a.detach(), b, atol=1e-4)


def check_out(out, expected, args, what="out"):
    check_shape(out, expected.shape, what)
    if not near(out, expected):
        if near(out, variant(*args, split_right=False)):
            check(
                False,
                f"{what}: the heads look split with reshape(B, n_heads, n, d_head), which mixes "
                "positions; split the feature axis: reshape(B, n, n_heads, d_head).transpose(1, 2)",
            )
        if near(out, variant(*args, scale_by_head=False)):
            check(False, f"{what}: the scores are divided by √d_model; divide by √d_head")
    check_close(out, expected, what)


@case("output shape (2, 5, 16) with 4 heads", zh="4 个头时输出形状为 (2, 5, 16)", visible=True)
def shape(fn, ref):
    x, w_q, w_k, w_v, w_o = inputs(0)
    out = fn(x, w_q, w_k, w_v, w_o, 4)
    check_shape(out, (2, 5, 16), "out")


@case(
    "one head is plain scaled dot-product attention", zh="单头即普通的缩放点积注意力", visible=True
)
def one_head(fn, ref):
    x, w_q, w_k, w_v, w_o = inputs(1, n=4, d_model=8)
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    expected = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8), dim=-1) @ v @ w_o
    check_close(fn(x, w_q, w_k, w_v, w_o, 1), expected, "out with n_heads=1")


@case("4 heads: each head owns a slice of the features", zh="4 个头：每个头负责特征维的一段切片")
def four_heads(fn, ref):
    args = (*inputs(2), 4)
    check_out(fn(*args), ref(*args), args)


@case("each head's scores are scaled by √d_head", zh="每个头的分数除以 √d_head")
def head_scale(fn, ref):
    args = (*inputs(3, d_model=32), 8)
    check_out(fn(*args), ref(*args), args)


@case(
    "a causal (n, n) mask broadcasts over batch and heads",
    zh="(n, n) 因果掩码在批次和头两个维度上广播",
)
def causal(fn, ref):
    args = (*inputs(4, n=6), 2)
    mask = torch.ones(6, 6, dtype=torch.bool).tril()
    check_close(fn(*args, mask=mask), ref(*args, mask=mask), "out with a causal mask")


@case(
    "a (B, 1, 1, n) padding mask, and a sequence with no real token",
    zh="(B, 1, 1, n) 填充掩码，以及一条全是填充的序列",
)
def padding(fn, ref):
    args = (*inputs(5, b=3, n=4), 4)
    lengths = torch.tensor([4, 2, 0])
    mask = (torch.arange(4)[None, :] < lengths[:, None]).view(3, 1, 1, 4)
    out = fn(*args, mask=mask)
    check_shape(out, (3, 4, 16), "out")
    check(
        not out.isnan().any(),
        "out: NaN for the sequence whose keys are all padding; a query with no allowed key "
        "must get zero weights",
    )
    check_close(out, ref(*args, mask=mask), "out with a padding mask")


@case("float64 and float16 keep their dtype", zh="float64 与 float16 输入保持原 dtype")
def dtypes(fn, ref):
    for dtype in (torch.float64, torch.float16):
        args = (*inputs(6, dtype=dtype), 4)
        check_close(fn(*args), ref(*args), f"out ({dtype_name(dtype)})")


@case("gradients reach x and every weight", zh="梯度传到 x 和每个权重矩阵")
def gradients(fn, ref):
    grads = []
    mask = torch.ones(3, 3, dtype=torch.bool).tril()
    for f in (ref, fn):
        tensors = [t.requires_grad_() for t in inputs(7, n=3, d_model=8)]
        out = f(*tensors, 2, mask=mask)
        up = torch.randn(out.shape, generator=torch.Generator().manual_seed(8))
        (out * up).sum().backward()
        grads.append([t.grad for t in tensors])
    check_grads(grads[1], grads[0], ("x", "w_q", "w_k", "w_v", "w_o"))
