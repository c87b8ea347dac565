import torch

from app.drills.harness import case, check, check_close, check_shape, dtype_name


def concatenated(n, d):
    """The common slip: all sines first, then all cosines."""
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    angles = pos / 10000.0 ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    return torch.cat([angles.sin(), angles.cos()], dim=-1).float()


def per_column(n, d):
    """The other slip: exponent i/d per column instead of 2i/d per column pair."""
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    angles = pos / 10000.0 ** (torch.arange(d, dtype=torch.float64) / d)
    pe = angles.clone()
    pe[:, 0::2], pe[:, 1::2] = angles[:, 0::2].sin(), angles[:, 1::2].cos()
    return pe.float()


def check_table(pe, expected, n, d):
    what = f"sinusoidal_pe({n}, {d})"
    check_shape(pe, (n, d), what)
    if pe.dtype == torch.float32 and not torch.allclose(pe, expected, atol=1e-4):
        if torch.allclose(pe, concatenated(n, d), atol=1e-4):
            check(
                False,
                f"{what}: sines fill the first half and cosines the second; the paper "
                "interleaves them: column 2i is a sine, column 2i+1 the cosine of the same angle",
            )
        if torch.allclose(pe, per_column(n, d), atol=1e-4):
            check(
                False,
                f"{what}: each column got its own frequency; columns 2i and 2i+1 share "
                "pos / 10000^(2i/d_model)",
            )
    check_close(pe, expected, what)


@case(
    "shape (n, d_model) and dtype float32", zh="形状为 (n, d_model)，dtype 为 float32", visible=True
)
def shape(fn, ref):
    pe = fn(10, 8)
    check_shape(pe, (10, 8), "sinusoidal_pe(10, 8)")
    check(pe.dtype == torch.float32, f"expected float32, got {dtype_name(pe.dtype)}")


@case("a worked example: sinusoidal_pe(2, 4)", zh="手算示例：sinusoidal_pe(2, 4)", visible=True)
def worked(fn, ref):
    # position 1: sin(1), cos(1), sin(1/100), cos(1/100)
    expected = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.841471, 0.540302, 0.0099998, 0.99995]])
    check_table(fn(2, 4), expected, 2, 4)


@case("position 0 is [0, 1, 0, 1, ...]", zh="位置 0 的编码是 [0, 1, 0, 1, ...]")
def position_zero(fn, ref):
    pe = fn(3, 16)
    check_shape(pe, (3, 16), "sinusoidal_pe(3, 16)")
    check_close(pe[0], torch.tensor([0.0, 1.0] * 8), "row 0 of sinusoidal_pe(3, 16)")


@case("sines and cosines interleave", zh="正弦与余弦在列上交错排列")
def interleaved(fn, ref):
    check_table(fn(6, 8), ref(6, 8), 6, 8)


@case("columns 2i and 2i+1 share a frequency", zh="第 2i 列与第 2i+1 列共用同一频率")
def shared_frequency(fn, ref):
    check_table(fn(20, 12), ref(20, 12), 20, 12)


@case("a larger table: 128 positions × 64", zh="更大的表：128 个位置 × 64 维")
def larger(fn, ref):
    check_table(fn(128, 64), ref(128, 64), 128, 64)


@case("d_model = 2 and n = 0", zh="边界情况：d_model = 2 与 n = 0")
def edges(fn, ref):
    check_table(fn(5, 2), ref(5, 2), 5, 2)
    check_close(fn(0, 6), ref(0, 6), "sinusoidal_pe(0, 6)")
