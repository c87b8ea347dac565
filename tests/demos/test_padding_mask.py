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
