import torch

from app.drills.harness import case, check, check_close, check_shape, dtype_name


def check_mask(mask, n):
    check_shape(mask, (n, n), f"causal_mask({n})")
    check(
        mask.dtype == torch.bool,
        f"causal_mask({n}): expected a bool tensor, got {dtype_name(mask.dtype)}; compare (`j <= i`) or "
        "call .bool()",
    )
    rows, cols = torch.triu_indices(n, n, offset=1)
    check(
        not mask[rows, cols].any(),
        f"causal_mask({n}): True above the diagonal, so a token would see a later one",
    )
    check(
        bool(mask.diagonal().all()),
        f"causal_mask({n}): False on the diagonal; a token must be allowed to see itself",
    )


@case("n = 4", zh="n = 4：下三角为 True", visible=True)
def four(fn, ref):
    mask = fn(4)
    check_mask(mask, 4)
    expected = torch.tensor(
        [
            [True, False, False, False],
            [True, True, False, False],
            [True, True, True, False],
            [True, True, True, True],
        ]
    )
    check_close(mask, expected, "causal_mask(4)")


@case("n = 1: a single token sees itself", zh="n = 1：唯一的词元能看到自己", visible=True)
def one(fn, ref):
    mask = fn(1)
    check_mask(mask, 1)
    check_close(mask, torch.tensor([[True]]), "causal_mask(1)")


@case("the mask is a bool tensor", zh="掩码的 dtype 是 bool")
def is_bool(fn, ref):
    mask = fn(3)
    check_shape(mask, (3, 3), "causal_mask(3)")
    check(
        mask.dtype == torch.bool,
        f"causal_mask(3): expected dtype bool, got {dtype_name(mask.dtype)}",
    )


@case("no token sees the future", zh="任何词元都看不到之后的位置")
def no_future(fn, ref):
    for n in (2, 7, 64):
        check_mask(fn(n), n)


@case("a longer sequence, n = 257", zh="较长序列：n = 257")
def long(fn, ref):
    check_close(fn(257), ref(257), "causal_mask(257)")


@case("n = 0 gives an empty (0, 0) mask", zh="n = 0 时得到空的 (0, 0) 掩码")
def empty(fn, ref):
    check_close(fn(0), ref(0), "causal_mask(0)")


@case(
    "used in attention, row i ignores every later token",
    zh="用于注意力时，第 i 行不受其后任何词元影响",
)
def in_attention(fn, ref):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 4, generator=g)
    mask = fn(6)
    check_mask(mask, 6)
    scores = (x @ x.T).masked_fill(~mask, float("-inf"))
    out = torch.softmax(scores, -1) @ x
    changed = x.clone()
    changed[3:] += 10.0  # change the last three tokens
    scores2 = (changed @ changed.T).masked_fill(~mask, float("-inf"))
    out2 = torch.softmax(scores2, -1) @ changed
    check_close(out2[:3], out[:3], "the first three outputs after changing later tokens")
