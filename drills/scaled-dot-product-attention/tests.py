import math

import torch

from app.drills.harness import case, check, check_close, check_grads, check_shape, dtype_name


def qkv(seed, *lead, n_q=4, n_k=6, d_k=8, d_v=5, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(*lead, n_q, d_k, generator=g).to(dtype)
    k = torch.randn(*lead, n_k, d_k, generator=g).to(dtype)
    v = torch.randn(*lead, n_k, d_v, generator=g).to(dtype)
    return q, k, v


def pair(result):
    check(
        isinstance(result, tuple | list) and len(result) == 2,
        "attention must return a tuple (out, weights)",
    )
    return result


def near(a, b):
    return a.shape == b.shape and torch.allclose(
        a.detach().double().nan_to_num(), b.double().nan_to_num(), atol=1e-3
    )


def check_weights(w, expected, q, k, mask=None):
    """Compare the weights, naming the usual slip when the learner's match one."""
    check_shape(w, expected.shape, "weights")
    if not near(w, expected):
        scores = q.double() @ k.double().transpose(-2, -1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        if near(w, torch.softmax(scores, dim=-1)):
            check(False, "weights: these are softmax(q kᵀ) without dividing the scores by √d_k")
        if near(w, torch.softmax(scores / math.sqrt(q.size(-1)), dim=-2)):
            check(
                False,
                "weights: the softmax ran over the queries (dim -2); each query's weights "
                "must sum to 1 over the keys (dim -1)",
            )
    check_close(w, expected, "weights")


@case("shapes with batch and head dimensions", zh="带批次和头维度时的形状", visible=True)
def shapes(fn, ref):
    q, k, v = qkv(0, 2, 3, n_q=4, n_k=6, d_k=8, d_v=5)
    out, w = pair(fn(q, k, v))
    check_shape(out, (2, 3, 4, 5), "out")
    check_shape(w, (2, 3, 4, 6), "weights")


@case("a worked 2×2 example", zh="手算的 2×2 例子", visible=True)
def worked_example(fn, ref):
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    k = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    v = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    out, w = pair(fn(q, k, v))
    # softmax([1/√2, 0]) = [0.6698, 0.3302]
    check_weights(w, torch.tensor([[0.66976, 0.33024], [0.33024, 0.66976]]), q, k)
    check_close(out, torch.tensor([[1.66048, 2.66048], [2.33952, 3.33952]]), "out", atol=1e-4)


@case("scores are scaled by 1/√d_k", zh="分数乘以 1/√d_k")
def scaled(fn, ref):
    q, k, v = qkv(1, 2, n_q=5, n_k=7, d_k=64, d_v=3)
    out_ref, w_ref = ref(q, k, v)
    out, w = pair(fn(q, k, v))
    check_weights(w, w_ref, q, k)
    check_close(out, out_ref, "out")


@case(
    "softmax over the keys: each query's weights sum to 1",
    zh="softmax 沿键的维度：每个查询的权重之和为 1",
)
def rows_sum_to_one(fn, ref):
    q, k, v = qkv(2, n_q=3, n_k=9, d_k=4, d_v=4)
    _, w_ref = ref(q, k, v)
    _, w = pair(fn(q, k, v))
    check_weights(w, w_ref, q, k)


@case(
    "mask: True lets a query see a key, False hides it",
    zh="掩码：True 表示查询可见该键，False 表示屏蔽",
)
def masked(fn, ref):
    q, k, v = qkv(3, 2, n_q=4, n_k=5)
    mask = torch.tensor([True, True, True, False, False])  # the last two keys are padding
    out_ref, w_ref = ref(q, k, v, mask)
    out, w = pair(fn(q, k, v, mask))
    check_weights(w, w_ref, q, k, mask)
    check_close(out, out_ref, "out")


@case("a fully masked row gives zero weights and a zero output", zh="整行被屏蔽时权重和输出均为零")
def fully_masked_row(fn, ref):
    q, k, v = qkv(4, n_q=3, n_k=4)
    mask = torch.tensor(
        [[True, True, False, False], [False, False, False, False], [True, True, True, True]]
    )
    out_ref, w_ref = ref(q, k, v, mask)
    out, w = pair(fn(q, k, v, mask))
    check_shape(w, w_ref.shape, "weights")
    check(
        not w[1].isnan().any(),
        "weights: NaN in row 1, whose mask is all False. A query with no allowed key must get "
        "zero weights: softmax over all -inf is 0/0",
    )
    check_weights(w, w_ref, q, k, mask)
    check_close(out, out_ref, "out")


@case("mask broadcasts over batch and heads", zh="掩码在批次和头两个维度上广播")
def mask_broadcasts(fn, ref):
    q, k, v = qkv(5, 2, 3, n_q=4, n_k=4)
    causal = torch.ones(4, 4, dtype=torch.bool).tril()
    padding = torch.tensor([[True] * 4, [True, True, False, False]]).view(2, 1, 1, 4)
    for mask in (causal, padding, causal & padding):
        out_ref, w_ref = ref(q, k, v, mask)
        out, w = pair(fn(q, k, v, mask))
        check_weights(w, w_ref, q, k, mask)
        check_close(out, out_ref, "out")


@case("float16 and float64 inputs keep their dtype", zh="float16 与 float64 输入保持原 dtype")
def dtypes(fn, ref):
    for dtype in (torch.float16, torch.float64):
        q, k, v = qkv(6, 2, dtype=dtype)
        mask = torch.tensor([True, True, True, True, False, False])
        out_ref, w_ref = ref(q, k, v, mask)
        out, w = pair(fn(q, k, v, mask))
        name = dtype_name(dtype)
        check_close(w, w_ref, f"weights ({name})")
        check_close(out, out_ref, f"out ({name})")


@case("non-contiguous inputs (transposed views)", zh="非连续存储的输入（转置视图）")
def non_contiguous(fn, ref):
    g = torch.Generator().manual_seed(7)
    # (batch, seq, heads, d) viewed as (batch, heads, seq, d), as after splitting heads
    q, k, v = (torch.randn(2, 5, 3, 4, generator=g).transpose(1, 2) for _ in range(3))
    out_ref, w_ref = ref(q, k, v)
    out, w = pair(fn(q, k, v))
    check_close(w, w_ref, "weights")
    check_close(out, out_ref, "out")


@case("large scores do not overflow to NaN", zh="分数很大时不会溢出成 NaN")
def large_scores(fn, ref):
    q, k, v = qkv(8, 2, n_q=4, n_k=6, d_k=16)
    q = q * 1e4
    out_ref, w_ref = ref(q, k, v)
    out, w = pair(fn(q, k, v))
    check(
        not w.isnan().any(),
        "weights: NaN for scores around 1e4: exp overflows; subtract each row's max before "
        "exp, or use torch.softmax",
    )
    check_close(w, w_ref, "weights")
    check_close(out, out_ref, "out")


@case("gradients reach q, k and v", zh="梯度传到 q、k 和 v")
def gradients(fn, ref):
    mask = torch.tensor([[True, False, True], [False, False, False]])
    grads = []
    for f in (ref, fn):
        q, k, v = (t.requires_grad_() for t in qkv(9, 2, n_q=2, n_k=3, d_k=4, d_v=3))
        out, w = pair(f(q, k, v, mask))
        up = torch.randn(out.shape, generator=torch.Generator().manual_seed(10))
        (out * up).sum().backward()
        grads.append((q.grad, k.grad, v.grad))
    check_grads(grads[1], grads[0], "qkv")
