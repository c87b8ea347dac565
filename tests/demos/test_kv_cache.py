import pytest
from pydantic import ValidationError

from app.demos.kv_cache import Params, flops_per_token, run


@pytest.mark.parametrize(
    "params",
    [
        Params(),
        Params(n=64, layers=4, d_model=256, heads=16, kv_heads=16),
        Params(n=9, layers=3, d_model=48, heads=6, kv_heads=2),  # grouped K/V heads
        Params(n=2, layers=1, d_model=8, heads=1, kv_heads=1),
    ],
)
def test_cached_decoding_equals_the_full_forward(params):
    r = run(params, 0)
    assert r.scalar("max_abs_diff") < 1e-5


@pytest.mark.parametrize(
    "params", [Params(), Params(n=9, layers=3, d_model=48, heads=6, kv_heads=2)]
)
def test_the_cache_holds_two_layers_kv_heads_d_head_numbers_per_token(params):
    r = run(params, 0)
    d_head = params.d_model // params.heads
    expected = 2 * params.layers * params.kv_heads * d_head * 4 * params.n  # fp32
    assert r.scalar("cache_bytes_measured") == expected == r.scalar("cache_bytes_formula")


def test_size_table_for_a_7b_class_model():
    # 32 layers × 32 KV heads × d_head 128 (a Llama-2-7B shape): 0.5 MiB per token in fp16,
    # 2 GiB at 4096 tokens; fp32 doubles it, int8 halves it.
    r = run(Params(), 0)
    assert r.scalar("bytes_per_token_fp16") == 2 * 32 * 32 * 128 * 2 == 524_288
    table = {row[0]: row for row in r.tables[0].rows}
    assert table["fp16/bf16"][1:3] == [524_288, 0.5]
    assert table["fp16/bf16"][3] == 2.0
    assert table["fp32"][3] == 4.0 and table["int8"][3] == 1.0
    # Grouped K/V heads shrink it in proportion: 8 KV heads instead of 32 is a quarter.
    gqa = run(Params(calc_kv_heads=8), 0)
    assert gqa.scalar("bytes_per_token_fp16") == 524_288 // 4


def test_without_the_cache_token_t_costs_t_times_as_much():
    for t in (1, 16, 1000):
        cached, full = flops_per_token(t, 64, 4, 4, 2)
        assert full == t * cached
    r = run(Params(n=16), 0)
    assert r.scalar("flops_ratio_at_n") == 16
    with_c, without_c = r.charts[0].series
    assert all(b >= a for a, b in zip(with_c.y, without_c.y, strict=True))
    # With the cache the cost grows only through attention over t keys: far below linear in t.
    assert with_c.y[-1] / with_c.y[0] < without_c.y[-1] / without_c.y[0] / 100


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad",
    [
        {"n": 1},
        {"n": 65},
        {"layers": 5},
        {"d_model": 257},
        {"heads": 3},  # does not divide d_model = 64
        {"heads": 4, "kv_heads": 3},  # does not divide heads
        {"calc_kv_heads": 0},
        {"calc_d_head": 512},
    ],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
