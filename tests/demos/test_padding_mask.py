import pytest
from pydantic import ValidationError

from app.demos.padding_mask import Params, run


def test_masking_before_softmax_zeroes_padding_and_keeps_rows_normalised():
    r = run(Params(), 0)
    table = {row[0]: row for row in r.tables[0].rows}
    for name in ("−inf", "−1e9", "finfo.min"):
        _, pad_w, lo, hi, nan = table[name]
        assert pad_w == 0.0 and lo == pytest.approx(1.0) and hi == pytest.approx(1.0) and not nan
    _, pad_w, lo, hi, _ = table["mask after softmax"]
    assert pad_w == 0.0 and hi < 1.0  # padding's probability mass is simply lost
    assert r.scalar("row_sum_after_softmax") < 0.99


def test_fully_masked_rows_and_fp16():
    r = run(Params(), 0)
    assert r.scalar("fully_masked_nan_with_inf") is True
    assert r.scalar("fully_masked_uniform_with_finfo_min") is True
    assert r.scalar("fp16_minus_1e9") == "-inf"
    assert "overflow" in r.scalar("fp16_masked_fill_minus_1e9")
    assert r.scalar("fp16_finfo_min") == -65504.0


def test_fp16_added_finfo_min_overflows_where_masked_fill_does_not():
    r = run(Params(), 0)
    assert r.scalar("fp16_score_plus_finfo_min") == "-inf"  # −20 − 65504 rounds past fp16's max
    assert r.scalar("fp16_two_added_masks_nan") is True  # causal + padding, both added: NaN again
    assert r.scalar("fp16_masked_fill_finfo_min_nan") is False


def test_fully_masked_sample_sdpa_gives_zeros_multihead_attention_nan():
    r = run(Params(), 0)
    rows = {row[0]: row[1:] for row in r.tables[1].rows}
    assert rows["F.scaled_dot_product_attention, bool mask"] == [False, 0.0]
    assert rows["F.scaled_dot_product_attention, float −inf mask"] == [False, 0.0]
    assert rows["nn.MultiheadAttention, key_padding_mask (default need_weights=True)"][0] is True
    # torch 2.13: which MHA path runs decides it; the SDPA-backed one returns zeros.
    fast = "nn.MultiheadAttention, key_padding_mask, need_weights=False (eval fast path)"
    assert rows[fast][0] is True
    slow = "nn.MultiheadAttention, key_padding_mask, need_weights=False (training)"
    assert rows[slow] == [False, 0.0]
    assert r.scalar("sdpa_fully_masked_row_zero") is True
    assert r.scalar("mha_fully_padded_nan") is True


def test_no_padding_means_nothing_changes():
    r = run(Params(seq_len=5, real_len=5), 1)
    for row in r.tables[0].rows:
        assert row[2] == pytest.approx(1.0) and row[3] == pytest.approx(1.0)


def test_deterministic():
    assert run(Params(), 7) == run(Params(), 7)


@pytest.mark.parametrize(
    "bad", [{"seq_len": 1}, {"seq_len": 33}, {"real_len": 7, "seq_len": 6}, {"d_k": 0}]
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
