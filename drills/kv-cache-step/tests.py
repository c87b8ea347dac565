import math

import torch

from app.drills.harness import case, check, check_close, check_shape, randn


def weights(seed, d=16, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(d, d, generator=g) / math.sqrt(d)).to(dtype) for _ in range(4)]


def full_causal(x, w_q, w_k, w_v, w_o, n_heads):
    """Causal multi-head attention over a whole sequence, the thing the cache must reproduce."""
    b, n, d = x.shape
    dh = d // n_heads
    q, k, v = ((x @ w).reshape(b, n, n_heads, dh).transpose(1, 2) for w in (w_q, w_k, w_v))
    s = (q @ k.transpose(-2, -1) / math.sqrt(dh)).masked_fill(
        ~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf")
    )
    return (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(b, n, d) @ w_o, k, v


def triple(result):
    check(
        isinstance(result, tuple | list) and len(result) == 3,
        "decode_step must return a tuple (out, new_cache_k, new_cache_v)",
    )
    return result


@case("an empty cache (t = 0): shapes", zh="空缓存（t = 0）：输出与缓存的形状", visible=True)
def empty_cache(fn, ref):
    ws = weights(0)
    x_t = randn(1, 2, 1, 16)
    empty = torch.zeros(2, 4, 0, 4)
    out, ck, cv = triple(fn(x_t, empty, empty, *ws, 4))
    check_shape(out, (2, 1, 16), "out")
    check_shape(ck, (2, 4, 1, 4), "new_cache_k")
    check_shape(cv, (2, 4, 1, 4), "new_cache_v")


@case(
    "the step equals full causal attention at the last position",
    zh="单步结果等于完整因果注意力在最后位置的输出",
    visible=True,
)
def matches_full(fn, ref):
    ws = weights(2)
    x = randn(3, 2, 6, 16)
    full, k, v = full_causal(x, *ws, 4)
    # The cache holds the keys and values of the first 5 tokens; the 6th is the new one.
    out, _, _ = triple(fn(x[:, 5:], k[:, :, :5], v[:, :, :5], *ws, 4))
    check_close(out, full[:, 5:], "out")


@case(
    "the new cache is the old one plus this token's key and value",
    zh="新缓存 = 旧缓存末尾追加本词元的键和值",
)
def cache_contents(fn, ref):
    ws = weights(4)
    x = randn(5, 2, 4, 16)
    _, k, v = full_causal(x, *ws, 2)
    _, ck, cv = triple(fn(x[:, 3:], k[:, :, :3], v[:, :, :3], *ws, 2))
    check_shape(ck, (2, 2, 4, 8), "new_cache_k")
    check_close(ck[:, :, :3], k[:, :, :3], "new_cache_k[:, :, :3] (the old entries, in order)")
    check_close(ck, k, "new_cache_k (the new key is appended last, split per head)")
    check_close(cv, v, "new_cache_v")


@case("decoding token by token reproduces the full forward", zh="逐词元解码复现完整前向计算")
def token_by_token(fn, ref):
    ws = weights(6)
    x = randn(7, 1, 7, 16)
    full, _, _ = full_causal(x, *ws, 4)
    ck = cv = torch.zeros(1, 4, 0, 4)
    for t in range(7):
        out, ck, cv = triple(fn(x[:, t : t + 1], ck, cv, *ws, 4))
        check_close(out, full[:, t : t + 1], f"out at step {t}")


@case("scores are scaled by √d_head; one head works too", zh="分数除以 √d_head；单头同样正确")
def scale_and_one_head(fn, ref):
    for n_heads in (8, 1):
        ws = weights(8)
        x = randn(9, 2, 3, 16)
        full, k, v = full_causal(x, *ws, n_heads)
        out, _, _ = triple(fn(x[:, 2:], k[:, :, :2], v[:, :, :2], *ws, n_heads))
        check_close(out, full[:, 2:], f"out with {n_heads} head(s)")


@case("the old cache is left untouched", zh="旧缓存不被原地修改")
def no_mutation(fn, ref):
    ws = weights(10)
    ck, cv = randn(11, 1, 2, 3, 8), randn(12, 1, 2, 3, 8)
    before = ck.clone(), cv.clone()
    triple(fn(randn(13, 1, 1, 16), ck, cv, *ws, 2))
    check_close(ck, before[0], "cache_k after the call")
    check_close(cv, before[1], "cache_v after the call")


@case("float64 keeps its dtype", zh="float64 输入保持原 dtype")
def float64(fn, ref):
    ws = weights(14, dtype=torch.float64)
    x_t = randn(15, 2, 1, 16, dtype=torch.float64)
    ck, cv = randn(16, 2, 4, 3, 4, dtype=torch.float64), randn(17, 2, 4, 3, 4, dtype=torch.float64)
    expected = ref(x_t, ck, cv, *ws, 4)
    got = triple(fn(x_t, ck, cv, *ws, 4))
    for name, a, e in zip(("out", "new_cache_k", "new_cache_v"), got, expected, strict=True):
        check_close(a, e, f"{name} (float64)")
