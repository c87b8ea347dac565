import math

import torch

from app.drills.harness import case, check, check_close, check_shape


def qkv(seed, *lead, n_q=3, n_k=40, d=4, d_v=2, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(*lead, n_q, d, generator=g).to(dtype)
    k = torch.randn(*lead, n_k, d, generator=g).to(dtype)
    v = torch.randn(*lead, n_k, d_v, generator=g).to(dtype)
    return q, k, v


def full(q, k, v):
    return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)), -1) @ v


def check_tiled(fn, q, k, v, tile, what):
    out = fn(q, k, v, tile)
    check_shape(out, (*q.shape[:-1], v.size(-1)), what)
    expected = full(q, k, v)
    if not torch.allclose(out, expected, atol=1e-4) and tile < k.size(-2):
        one_tile = fn(q, k, v, k.size(-2))
        if torch.allclose(one_tile, expected, atol=1e-4):
            check(
                False,
                f"{what}: right with a single tile, wrong with several. When a tile raises the "
                "running max from m to m', multiply the running sum and the accumulator by "
                "exp(m - m') before adding the tile",
            )
    check_close(out, expected, what)


@case(
    "one tile holding every key is plain attention",
    zh="一个分块装下全部键时即普通注意力",
    visible=True,
)
def one_tile(fn, ref):
    q, k, v = qkv(0, n_k=8)
    check_tiled(fn, q, k, v, 8, "tiled_attention(q, k, v, tile=8) with 8 keys")


@case(
    "tiles of 4 over 12 keys equal full attention",
    zh="12 个键按每块 4 个分块，结果等于完整注意力",
    visible=True,
)
def three_tiles(fn, ref):
    q, k, v = qkv(1, n_k=12)
    check_tiled(fn, q, k, v, 4, "tiled_attention(q, k, v, tile=4)")


@case(
    "a last tile that is only partly full (40 keys, tile 16)",
    zh="最后一块未装满（40 个键，块大小 16）",
)
def ragged(fn, ref):
    q, k, v = qkv(2)
    check_tiled(fn, q, k, v, 16, "tiled_attention(q, k, v, tile=16)")


@case("tile = 1, and a tile larger than the key count", zh="块大小为 1，以及块大小超过键的个数")
def extreme_tiles(fn, ref):
    q, k, v = qkv(3, n_k=9)
    check_tiled(fn, q, k, v, 1, "tiled_attention(q, k, v, tile=1)")
    check_tiled(fn, q, k, v, 64, "tiled_attention(q, k, v, tile=64)")


@case(
    "the max grows late: the largest score is in the last tile",
    zh="最大值来得晚：最大分数在最后一块",
)
def late_max(fn, ref):
    q, k, v = qkv(4, n_k=16)
    k = k.clone()
    k[..., -1, :] = q.mean(dim=0) * 20  # a key that every query likes, at the very end
    check_tiled(fn, q, k, v, 4, "tiled_attention(q, k, v, tile=4)")


@case("large scores (×100) stay finite", zh="放大 100 倍的分数仍得到有限值")
def large(fn, ref):
    q, k, v = qkv(5, n_k=20)
    q = q * 100
    out = fn(q, k, v, 8)
    check_shape(out, (3, 2), "out")
    check(
        not out.isnan().any() and not out.isinf().any(),
        "out: inf or NaN for large scores: exponentiate score - running max, never the raw score",
    )
    check_close(out, ref(q, k, v, 8), "out", atol=1e-4)


@case("batch and head dimensions; float64", zh="带批次和头维度；float64 输入")
def leading_and_float64(fn, ref):
    q, k, v = qkv(6, 2, 3, n_k=10)
    check_tiled(fn, q, k, v, 4, "out with (2, 3) leading dimensions")
    q, k, v = qkv(7, n_k=10, dtype=torch.float64)
    check_close(fn(q, k, v, 3), ref(q, k, v, 3), "out (float64)")


class Spy(torch.Tensor):
    """Records the functions applied to the keys and the shapes of what they computed."""

    shapes: list = []
    funcs: set = set()

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.funcs.add(getattr(func, "__name__", ""))
        out = super().__torch_function__(func, types, args, kwargs or {})
        for t in out if isinstance(out, tuple | list) else (out,):
            if isinstance(t, torch.Tensor) and t.dim() >= 2:
                cls.shapes.append(tuple(t.shape[-2:]))
        return out


@case("no full (n_q, n_k) score matrix is ever built", zh="从不构造完整的 (n_q, n_k) 分数矩阵")
def really_tiled(fn, ref):
    q, k, v = qkv(8, n_q=3, n_k=40, d=4)
    Spy.shapes, Spy.funcs = [], set()
    out = fn(q, k.as_subclass(Spy), v.as_subclass(Spy), 8)
    out = out.as_subclass(torch.Tensor) if isinstance(out, torch.Tensor) else out
    check(
        "scaled_dot_product_attention" not in Spy.funcs,
        "scaled_dot_product_attention does the tiling for you: write the loop over tiles",
    )
    check(
        (3, 40) not in Spy.shapes and (40, 3) not in Spy.shapes,
        "a (3, 40) tensor of all scores was built from the keys; the point is to touch only "
        "(3, tile) scores at a time",
    )
    check_close(out, ref(q, k, v, 8), "out")
