import math

import pytest
from pydantic import ValidationError

from app.demos.init_variance import Params, run


def test_relu_kaiming_keeps_scale_xavier_and_default_shrink():
    r = run(Params(activation="relu"), 0)
    assert 0.5 < r.scalar("ratio_kaiming") < 2.0
    # Xavier halves the variance per ReLU layer: std × (1/√2)^19 after 20 layers.
    assert r.scalar("ratio_xavier") < 0.01
    assert r.scalar("ratio_pytorch-default") < r.scalar("ratio_kaiming") / 10


def test_tanh_kaiming_gain_keeps_scale_better_than_default():
    r = run(Params(activation="tanh"), 0)
    assert r.scalar("final_std_kaiming") > 0.3
    assert r.scalar("final_std_pytorch-default") < r.scalar("final_std_kaiming") / 3


def test_live_defaults_match_the_torch_source():
    rows = {row[0]: row for row in run(Params(), 0).tables[0].rows}

    def minmax(name):  # the table rounds to 4 decimals: widen by half a unit in the last place
        lo, hi = rows[name][1], rows[name][2]
        return (lo, hi) if lo == hi else (lo + 5e-5, hi - 5e-5)

    lo, hi = minmax("Linear(256→128).weight")
    assert lo >= -1 / 16 and hi <= 1 / 16 and hi > 0.9 / 16
    assert rows["Linear(256→128).weight"][4] == pytest.approx(1 / 16 / math.sqrt(3), rel=0.05)
    lo, hi = minmax("Linear(256→128).bias")
    assert lo >= -1 / 16 and hi <= 1 / 16 and (lo, hi) != (0, 0)
    assert rows["Embedding(1000, 64).weight"][4] == pytest.approx(1.0, rel=0.05)
    assert minmax("LayerNorm(64).weight") == (1.0, 1.0)
    assert minmax("LayerNorm(64).bias") == (0.0, 0.0)
    bound = math.sqrt(6 / (64 + 192))
    lo, hi = minmax("MHA(64, 8).in_proj_weight (192×64)")
    assert -bound <= lo and hi <= bound and hi > 0.9 * bound
    assert minmax("MHA(64, 8).in_proj_bias") == (0.0, 0.0)
    assert minmax("MHA(64, 8).out_proj.bias") == (0.0, 0.0)
    lo, hi = minmax("MHA(64, 8).out_proj.weight")  # keeps nn.Linear's default, not Xavier
    assert lo >= -1 / 8 and hi <= 1 / 8 and hi > 0.9 / 8


def test_nn_transformer_overrides_linear_defaults_with_xavier():
    # nn.Transformer._reset_parameters: xavier_uniform_ on every parameter with dim() > 1, so the
    # FFN's linear2 (fan_in 256, fan_out 64) has std √(2/(256+64)); alone it keeps U(±1/√256).
    r = run(Params(), 0)
    xavier = math.sqrt(2 / (256 + 64))
    default = 1 / 16 / math.sqrt(3)
    assert r.scalar("transformer_linear_std") == pytest.approx(xavier, rel=0.05)
    assert r.scalar("standalone_layer_linear_std") == pytest.approx(default, rel=0.05)
    rows = r.tables[1].rows
    assert [row[2] for row in rows] == [round(xavier, 4), round(default, 4)]
    assert "Xavier" in r.conclusion.en and "Xavier" in r.conclusion.zh


def test_deterministic():
    assert run(Params(n_layers=5, width=32), 1) == run(Params(n_layers=5, width=32), 1)


@pytest.mark.parametrize(
    "bad", [{"n_layers": 1}, {"n_layers": 51}, {"width": 2000}, {"activation": "gelu"}]
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
