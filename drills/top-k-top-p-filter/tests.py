import torch

from app.drills.harness import case, check, check_close, check_shape, dtype_name

INF = float("-inf")


def kept(row):
    return [i for i, x in enumerate(row.tolist()) if x != INF]


def check_filtered(out, expected, what):
    check_shape(out, expected.shape, what)
    check(
        out.dtype == expected.dtype,
        f"{what}: expected dtype {dtype_name(expected.dtype)}, got {dtype_name(out.dtype)}",
    )
    rows_out, rows_exp = out.reshape(-1, out.size(-1)), expected.reshape(-1, out.size(-1))
    for r, (got_row, want_row) in enumerate(zip(rows_out, rows_exp, strict=True)):
        got, want = kept(got_row), kept(want_row)
        if got != want:
            check(False, f"{what}: row {r} keeps indices {got}, expected {want}")
    check_close(out, expected, what)


@case(
    "top_k=3 on [0, 2, 0, 1]: of two equal logits the lower index stays",
    zh="对 [0, 2, 0, 1] 取 top_k=3：两个相等的 logit 保留下标较小者",
    visible=True,
)
def worked_top_k(fn, ref):
    logits = torch.tensor([[0.0, 2.0, 0.0, 1.0]])
    check_filtered(fn(logits, top_k=3), torch.tensor([[0.0, 2.0, INF, 1.0]]), "top_k=3")


@case("top_p=0.8 on [0, 2, 0, 1]", zh="对 [0, 2, 0, 1] 取 top_p=0.8", visible=True)
def worked_top_p(fn, ref):
    logits = torch.tensor([[0.0, 2.0, 0.0, 1.0]])
    # probabilities 0.0826, 0.6103, 0.0826, 0.2245; mass before each, in order: 0, 0.61, 0.83, 0.92
    check_filtered(fn(logits, top_p=0.8), torch.tensor([[INF, 2.0, INF, 1.0]]), "top_p=0.8")


@case(
    "no filter returns the logits unchanged; the input is never modified",
    zh="不过滤时原样返回 logits；输入从不被修改",
)
def untouched(fn, ref):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 10, generator=g)
    before = logits.clone()
    check_filtered(fn(logits), before, "filter_logits(logits)")
    fn(logits, top_k=2, top_p=0.5)
    check_close(logits, before, "the input logits after filtering")


@case(
    "top_k=1 keeps the argmax; top_k >= V keeps everything",
    zh="top_k=1 只保留 argmax；top_k >= V 全部保留",
)
def k_extremes(fn, ref):
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 7, generator=g)
    for k in (1, 7, 50):
        check_filtered(fn(logits, top_k=k), ref(logits, top_k=k), f"top_k={k}")


@case("top_k keeps exactly k when logits tie", zh="logits 并列时 top_k 仍恰好保留 k 个")
def k_ties(fn, ref):
    logits = torch.tensor([[1.0, 3.0, 3.0, 2.0, 3.0, 3.0], [5.0, 5.0, 5.0, 5.0, 5.0, 5.0]])
    out = fn(logits, top_k=2)
    check_shape(out, (2, 6), "top_k=2")
    for r in range(2):
        n = len(kept(out[r]))
        if n != 2:
            check(
                False,
                f"top_k=2: row {r} keeps {n} tokens; keep exactly k: among equal logits the lower index wins",
            )
    if kept(out[0]) != [1, 2] or kept(out[1]) != [0, 1]:
        check(
            False,
            f"top_k=2 with ties: rows keep {kept(out[0])} and {kept(out[1])}, expected [1, 2] "
            "and [0, 1]. Equal logits go to the lower index; torch.topk may return either, "
            "torch.sort(..., stable=True) does not",
        )
    check_filtered(out, ref(logits, top_k=2), "top_k=2")


@case(
    "top_p keeps the token whose probability carries the mass past p",
    zh="top_p 保留使累计概率越过 p 的那个词元",
)
def p_crossing(fn, ref):
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    logits = probs.log()
    # mass before each: 0, 0.5, 0.8, 0.95. p = 0.6: the second token crosses 0.6 and stays.
    out = fn(logits, top_p=0.6)
    check_shape(out, (1, 4), "top_p=0.6")
    if kept(out[0]) == [0]:
        check(
            False,
            "top_p=0.6 kept only the first token (mass 0.5 < 0.6). Keep the smallest set whose "
            "mass reaches p: the token that crosses p is kept",
        )
    check_filtered(out, ref(logits, top_p=0.6), "top_p=0.6")


@case("a tiny top_p keeps only the most likely token", zh="极小的 top_p 只保留概率最大的词元")
def p_tiny(fn, ref):
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(4, 12, generator=g)
    check_filtered(fn(logits, top_p=1e-6), ref(logits, top_p=1e-6), "top_p=1e-6")


@case(
    "top_k first, then top_p over the renormalised survivors",
    zh="先做 top_k，再在重新归一化后的剩余词元上做 top_p",
)
def k_then_p(fn, ref):
    logits = torch.tensor([[2.0, 1.9, 1.8] + [1.0] * 7])
    # Over all 10 tokens the top three hold 0.51 of the mass (0.36 before the third); after
    # top_k=3 they hold all of it (0.70 before the third), so top_p=0.5 keeps only two.
    expected = torch.tensor([[2.0, 1.9] + [INF] * 8])
    check_filtered(fn(logits, top_k=3, top_p=0.5), expected, "top_k=3, top_p=0.5")


@case(
    "every row of a (2, 3, V) batch is filtered on its own", zh="(2, 3, V) 批次中每一行各自独立过滤"
)
def batched(fn, ref):
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 3, 20, generator=g) * 2
    check_filtered(
        fn(logits, top_k=8, top_p=0.75), ref(logits, top_k=8, top_p=0.75), "top_k=8, top_p=0.75"
    )


@case("logits that are already -inf stay cut", zh="已经是 -inf 的 logits 仍被排除")
def already_cut(fn, ref):
    logits = torch.tensor([[INF, 1.0, INF, 0.5, 0.2]])
    check_filtered(fn(logits, top_k=4), ref(logits, top_k=4), "top_k=4")
    check_filtered(fn(logits, top_p=0.9), ref(logits, top_p=0.9), "top_p=0.9")


@case("float64 and float16 keep their dtype", zh="float64 与 float16 输入保持原 dtype")
def dtypes(fn, ref):
    g = torch.Generator().manual_seed(4)
    base = torch.randn(3, 16, generator=g) * 3
    for dtype in (torch.float64, torch.float16):
        logits = base.to(dtype)
        name = dtype_name(dtype)
        check_filtered(fn(logits, top_k=5), ref(logits, top_k=5), f"top_k=5 ({name})")
        check_filtered(fn(logits, top_p=0.5), ref(logits, top_p=0.5), f"top_p=0.5 ({name})")
