import torch

from app.drills.harness import case, check, check_close, check_shape, dtype_name


def check_mask(mask, lengths, max_len, what):
    check_shape(mask, (len(lengths), max_len), what)
    check(
        mask.dtype == torch.bool,
        f"{what}: expected dtype bool, got {dtype_name(mask.dtype)}",
    )
    for b, n in enumerate(lengths.tolist()):
        got = int(mask[b].sum())
        if got != n:
            check(
                False,
                f"{what}: row {b} has {got} True entries for a sequence of length {n}"
                + (" (off by one: positions run 0..length-1)" if abs(got - n) == 1 else ""),
            )


@case("lengths [3, 1, 4] with max_len 4", zh="长度 [3, 1, 4]，max_len = 4", visible=True)
def worked(fn, ref):
    lengths = torch.tensor([3, 1, 4])
    mask = fn(lengths, 4)
    check_mask(mask, lengths, 4, "padding_mask([3, 1, 4], 4)")
    expected = torch.tensor(
        [
            [True, True, True, False],
            [True, False, False, False],
            [True, True, True, True],
        ]
    )
    check_close(mask, expected, "padding_mask([3, 1, 4], 4)")


@case("shape (B, max_len) and dtype bool", zh="形状为 (B, max_len)，dtype 为 bool", visible=True)
def shape(fn, ref):
    lengths = torch.tensor([2, 5])
    mask = fn(lengths, 6)
    check_shape(mask, (2, 6), "padding_mask([2, 5], 6)")
    check(
        mask.dtype == torch.bool,
        f"expected dtype bool, got {dtype_name(mask.dtype)}",
    )


@case("a sequence of length 0 is all padding", zh="长度为 0 的序列全部是填充")
def zero_length(fn, ref):
    lengths = torch.tensor([0, 2, 0])
    mask = fn(lengths, 3)
    check_mask(mask, lengths, 3, "padding_mask([0, 2, 0], 3)")
    check_close(mask, ref(lengths, 3), "padding_mask([0, 2, 0], 3)")


@case("max_len longer than every sequence", zh="max_len 比所有序列都长")
def longer(fn, ref):
    lengths = torch.tensor([1, 3])
    check_close(fn(lengths, 9), ref(lengths, 9), "padding_mask([1, 3], 9)")


@case("a random batch of 32", zh="随机生成的 32 条序列")
def random_batch(fn, ref):
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(0, 41, (32,), generator=g)  # 0..40
    mask = fn(lengths, 40)
    check_mask(mask, lengths, 40, "padding_mask(lengths, 40)")
    check_close(mask, ref(lengths, 40), "padding_mask(lengths, 40)")


@case("int32 lengths and a strided view", zh="int32 类型的长度与带步长的视图")
def int32_view(fn, ref):
    lengths = torch.tensor([4, 9, 2, 9, 0, 9, 7, 9], dtype=torch.int32)[::2]  # [4, 2, 0, 7]
    check_close(fn(lengths, 8), ref(lengths, 8), "padding_mask(lengths[::2], 8)")


@case("a batch of one, full length", zh="批次只有一条序列且长度已满")
def one_full(fn, ref):
    lengths = torch.tensor([5])
    check_close(fn(lengths, 5), torch.ones(1, 5, dtype=torch.bool), "padding_mask([5], 5)")
