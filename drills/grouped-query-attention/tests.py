import math

import torch

from app.drills.harness import case, check, check_close, check_grads, check_shape, dtype_name


def qkv(seed, b=2, h_q=8, h_kv=2, n_q=5, n_k=5, d=8, d_v=8, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(b, h_q, n_q, d, generator=g).to(dtype)
    k = torch.randn(b, h_kv, n_k, d, generator=g).to(dtype)
    v = torch.randn(b, h_kv, n_k, d_v, generator=g).to(dtype)
    return q, k, v


def attend(q, k, v):
    return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)), -1) @ v


def check_out(out, expected, q, k, v):
    check_shape(out, expected.shape, "out")
    h_q, h_kv = q.size(1), k.size(1)
    if out.dtype == torch.float32 and not torch.allclose(out, expected, atol=1e-4):
        tiled = attend(q, k.repeat(1, h_q // h_kv, 1, 1), v.repeat(1, h_q // h_kv, 1, 1))
        if torch.allclose(out, tiled, atol=1e-4):
            check(
                False,
                f"out: query head i used kv head i % {h_kv} (as k.repeat does); groups are "
                f"contiguous: query head i uses kv head i // {h_q // h_kv} (repeat_interleave)",
            )
    check_close(out, expected, "out")


@case("shapes: 8 query heads share 2 kv heads", zh="形状：8 个查询头共享 2 个键值头", visible=True)
def shapes(fn, ref):
    q, k, v = qkv(0, d_v=6)
    check_shape(fn(q, k, v, 2), (2, 8, 5, 6), "out")


@case(
    "n_kv_heads = n_heads is ordinary multi-head attention",
    zh="n_kv_heads = n_heads 时就是普通多头注意力",
    visible=True,
)
def as_mha(fn, ref):
    q, k, v = qkv(1, h_q=4, h_kv=4)
    check_close(fn(q, k, v, 4), attend(q, k, v), "out")


@case(
    "query heads 0-3 use kv head 0, heads 4-7 kv head 1",
    zh="查询头 0–3 使用键值头 0，查询头 4–7 使用键值头 1",
)
def grouping(fn, ref):
    q, k, v = qkv(2)
    check_out(fn(q, k, v, 2), ref(q, k, v, 2), q, k, v)


@case("n_kv_heads = 1: multi-query attention", zh="n_kv_heads = 1：多查询注意力（MQA）")
def multi_query(fn, ref):
    q, k, v = qkv(3, h_q=6, h_kv=1)
    check_out(fn(q, k, v, 1), ref(q, k, v, 1), q, k, v)


@case("more keys than queries, and d_v different from d", zh="键多于查询，且 d_v 与 d 不同")
def rectangular(fn, ref):
    q, k, v = qkv(4, h_q=6, h_kv=3, n_q=2, n_k=7, d=4, d_v=3)
    check_out(fn(q, k, v, 3), ref(q, k, v, 3), q, k, v)


@case("float16 and float64 keep their dtype", zh="float16 与 float64 输入保持原 dtype")
def dtypes(fn, ref):
    for dtype in (torch.float16, torch.float64):
        q, k, v = qkv(5, dtype=dtype)
        check_close(fn(q, k, v, 2), ref(q, k, v, 2), f"out ({dtype_name(dtype)})")


@case("large scores stay finite", zh="分数很大时结果仍为有限值")
def large(fn, ref):
    q, k, v = qkv(6)
    q = q * 1e3
    out = fn(q, k, v, 2)
    check_shape(out, (2, 8, 5, 8), "out")
    check(not out.isnan().any(), "out: NaN for large scores; use torch.softmax or subtract the max")
    check_close(out, ref(q, k, v, 2), "out")


@case("a kv head's gradient collects its whole group", zh="键值头的梯度汇集其整组查询头的贡献")
def gradients(fn, ref):
    grads = []
    for f in (ref, fn):
        q, k, v = (t.requires_grad_() for t in qkv(7, b=1, h_q=4, h_kv=2, n_q=3, n_k=3, d=4, d_v=4))
        out = f(q, k, v, 2)
        up = torch.randn(out.shape, generator=torch.Generator().manual_seed(8))
        (out * up).sum().backward()
        grads.append((q.grad, k.grad, v.grad))
    check_grads(grads[1], grads[0], "qkv")
