import pytest
import torch
from pydantic import ValidationError
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from app.demos.param_count import Params, count, count_by_one_block, run

CASES = [
    Params(),
    Params(n_layers=2, d_model=64, n_heads=4, vocab=100, n_ctx=16),
    Params(n_layers=3),
]


@pytest.mark.parametrize("p", CASES)
def test_exact_count_is_the_formula_plus_biases_norms_and_positions(p):
    r = run(p, 0)
    L, d = p.n_layers, p.d_model
    assert r.scalar("formula") == 12 * L * d * d + p.vocab * d
    assert r.scalar("gap") == 13 * L * d + 2 * d + p.n_ctx * d
    assert r.scalar("exact") == r.scalar("formula") + r.scalar("gap")
    for part, counted, _, formula_value, _ in r.tables[0].rows[:-1]:  # the last is the total
        assert counted == formula_value, part


def test_meta_count_equals_a_real_cpu_stack():
    p = CASES[1]
    torch.manual_seed(0)
    real = [nn.Embedding(p.vocab, p.d_model), nn.Embedding(p.n_ctx, p.d_model)]
    real += [
        nn.TransformerEncoderLayer(p.d_model, p.n_heads, 4 * p.d_model, norm_first=True)
        for _ in range(p.n_layers)
    ]
    real.append(nn.LayerNorm(p.d_model))
    assert run(p, 0).scalar("exact") == sum(q.numel() for m in real for q in m.parameters())


def test_one_block_times_l_equals_the_full_stack():
    for args in [(12, 768, 12, 50257, 1024), (24, 1024, 16, 50257, 1024)]:
        assert count_by_one_block(*args) == count(*args)["total"]
    assert run(Params(), 0).tables[1].rows[0][3] == 124_439_808  # GPT-2 small's shape


def test_training_costs_six_flops_per_weight_per_token_plus_attention():
    # torch's FLOP counter on a real forward and backward: 2 FLOPs per weight per token
    # forward, 4 backward (gradients for inputs and for weights); attention scores QKᵀ and A·V
    # 2·T·d each per token and layer, three times over for training.
    p = Params(n_layers=2, d_model=256, n_heads=4, vocab=100, n_ctx=8)
    layers = [
        nn.TransformerEncoderLayer(p.d_model, p.n_heads, 4 * p.d_model, batch_first=True)
        for _ in range(p.n_layers)
    ]
    x = torch.randn(1, p.n_ctx, p.d_model, requires_grad=True)
    with FlopCounterMode(display=False) as fc:
        y = x
        for layer in layers:
            y = layer(y)
        y.sum().backward()
    matrices = 12 * p.n_layers * p.d_model**2
    unmasked_attention = 3 * 4 * p.n_layers * p.n_ctx * p.d_model
    assert fc.get_total_flops() == p.n_ctx * (6 * matrices + unmasked_attention)
    per_token = 6 * matrices
    r = run(p, 0)
    # The causal mask halves the average keys per query: the demo's term is half the full one.
    assert r.scalar("flops_attention") / p.tokens_per_step == unmasked_attention / 2
    assert r.scalar("flops_6nd") == 6 * r.scalar("non_embedding") * p.tokens_per_step
    # The demo's N also holds biases and norms: 13/(12·d) more than the matrices alone.
    assert r.scalar("flops_6nd") / p.tokens_per_step == pytest.approx(per_token, rel=0.01)


def test_attention_term_grows_with_context_and_overtakes_the_weights_near_12d():
    p = Params()
    r = run(p, 0)
    assert r.scalar("flops_attention") == 6 * p.n_layers * p.n_ctx * p.d_model * p.tokens_per_step
    weights, attention, _ = r.charts[0].series
    for n_ctx, w, a in zip(weights.x, weights.y, attention.y, strict=True):
        assert (a > w) == (n_ctx > 12 * p.d_model * 1.01)  # N is 12·L·d² plus 1%: biases


def test_the_largest_configuration_is_counted_without_allocating():
    r = run(Params(n_layers=128, d_model=16384, n_heads=128, vocab=262_144, n_ctx=131_072), 0)
    assert r.scalar("exact") > 4e11  # 1.6 TB of float32, counted on the meta device


def test_deterministic():
    assert run(Params(), 3) == run(Params(), 3)


@pytest.mark.parametrize(
    "bad", [{"d_model": 100, "n_heads": 12}, {"n_layers": 0}, {"vocab": 10**6}, {"n_ctx": 0}]
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
