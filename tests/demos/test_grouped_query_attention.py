import pytest
import torch
from pydantic import ValidationError

from app.demos.grouped_query_attention import Params, causal_attention, gqa, run


@pytest.mark.parametrize(
    "params",
    [
        Params(),
        Params(heads=8, groups=2, d_head=16, n=5),
        Params(heads=6, groups=3, d_head=4, n=64),
        Params(heads=32, groups=32, d_head=128, n=64),  # MHA
        Params(heads=4, groups=1, d_head=8, n=3),  # MQA
    ],
)
def test_gqa_equals_mha_with_repeat_interleaved_kv_heads(params):
    r = run(params, 0)
    assert r.scalar("max_diff_vs_repeated_mha") < 1e-5
    assert r.scalar("max_diff_vs_sdpa") < 1e-5  # torch's own enable_gqa agrees
    # Query head i reads K/V head i // (h/g).
    rep = params.heads // params.groups
    reads = r.heatmaps[0].matrix
    assert [row.index(1.0) for row in reads] == [i // rep for i in range(params.heads)]


def test_tiling_kv_heads_with_repeat_pairs_the_wrong_heads():
    r = run(Params(heads=8, groups=2), 0)
    assert r.scalar("max_diff_vs_tiled") > 0.1


def test_g_equal_h_is_mha_and_g_1_is_mqa():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(4, 6, 8, generator=g) for _ in range(3))
    assert torch.allclose(gqa(q, k, v), causal_attention(q, k, v), atol=1e-6)
    # One K/V head shared by every query head.
    mqa = gqa(q, k[:1], v[:1])
    for i in range(4):
        assert torch.allclose(mqa[i], causal_attention(q[i], k[0], v[0]), atol=1e-6)


def test_cache_shrinks_to_g_over_h():
    r = run(Params(heads=32, groups=8, d_head=128, layers=32, context=4096), 0)
    rows = {row[0]: row for row in r.tables[0].rows}
    assert rows[32][1] == "MHA" and rows[1][1] == "MQA" and rows[8][1] == "GQA"
    assert rows[32][3] == 2 * 32 * 128 * 2  # bytes / token / layer in fp16
    assert rows[32][4] == 2048.0 and rows[8][4] == 512.0  # MiB at 32 layers × 4096 tokens
    assert r.scalar("cache_fraction_of_mha") == 0.25


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad",
    [
        {"heads": 0},
        {"heads": 33},
        {"heads": 8, "groups": 3},  # 3 does not divide 8
        {"d_head": 256},
        {"n": 65},
        {"context": 0},
        {"layers": 129},
    ],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
