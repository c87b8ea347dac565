import pytest
from pydantic import ValidationError

from app.demos.tiny_transformer import Params, run, train


def _after(r, layer: int | None = None):
    return [
        h
        for h in r.heatmaps
        if "after" in h.title.en and (layer is None or h.title.en.startswith(f"Layer {layer},"))
    ]


def _mean_weight(h, pairs) -> float:
    return sum(h.matrix[q][k] for q, k in pairs) / len(pairs)


@pytest.fixture(scope="module")
def reverse():
    return run(Params(task="reverse"), 0)


@pytest.fixture(scope="module")
def induction():
    return run(Params(task="induction"), 0)


def test_reverse_is_learned_and_a_head_reads_the_anti_diagonal(reverse):
    r, n = reverse, Params().seq_len
    assert r.scalar("token_acc_before") < 0.3  # chance is 1/10
    assert r.scalar("token_acc_after") >= 0.95
    # Query n + j predicts y_j = x_(n-1-j): the mirrored input position 2n - 1 - q.
    mirror = [(q, 2 * n - 1 - q) for q in range(n, 2 * n)]
    assert max(_mean_weight(h, mirror) for h in _after(r)) > 0.8
    before = [h for h in r.heatmaps if "before" in h.title.en]
    assert max(_mean_weight(h, mirror) for h in before) < 0.3


def test_copy_reads_the_same_input_position():
    r, n = run(Params(task="copy"), 1), Params().seq_len
    assert r.scalar("token_acc_after") >= 0.95
    assert max(_mean_weight(h, [(q, q - n) for q in range(n, 2 * n)]) for h in _after(r)) > 0.8


def test_induction_head_looks_at_the_token_after_the_previous_occurrence(induction):
    r = induction
    assert r.scalar("token_acc_after") >= 0.95
    tokens = r.heatmaps[0].row_labels
    # For each query whose token occurred before: the keys right after its earlier occurrences.
    targets = {
        q: [k for k in range(1, q + 1) if tokens[k - 1] == tokens[q] and k - 1 < q]
        for q in range(len(tokens))
    }
    targets = {q: ks for q, ks in targets.items() if ks}
    assert len(targets) >= len(tokens) // 2

    def induction_weight(h) -> float:
        return sum(sum(h.matrix[q][k] for k in ks) for q, ks in targets.items()) / len(targets)

    assert max(induction_weight(h) for h in _after(r, layer=2)) > 0.8
    assert r.scalar("answer_head").startswith("2,")


def test_one_layer_cannot_form_an_induction_head(induction):
    one = run(Params(task="induction", n_layers=1), 0)
    assert one.scalar("token_acc_after") < 0.8 < induction.scalar("token_acc_after")


def test_sort_is_learned():
    assert run(Params(task="sort"), 0).scalar("token_acc_after") >= 0.9


def test_heatmaps_cover_every_head_before_and_after(reverse):
    p = Params()
    assert len(reverse.heatmaps) == 2 * p.n_layers * p.n_heads
    for h in reverse.heatmaps:
        assert len(h.matrix) == len(h.row_labels) == len(h.col_labels) == 2 * p.seq_len
        assert "|" in h.row_labels  # the separator token
        for q, row in enumerate(h.matrix):
            assert sum(row) == pytest.approx(1, abs=1e-3)
            assert all(v == 0 for v in row[q + 1 :])  # causal


def test_train_reports_each_step_and_run_is_deterministic():
    seen = []
    p = Params(steps=15)
    t = train(p, 2, on_step=lambda step, loss: seen.append((step, loss)))
    assert seen == list(enumerate(t["losses"]))
    assert run(p, 2) == run(p, 2)
    assert run(p, 2).charts[0].series[0].y == t["losses"]


@pytest.mark.parametrize(
    "bad",
    [
        {"task": "add"},
        {"steps": 301},
        {"n_layers": 3},
        {"d_model": 30, "n_heads": 4},
        {"task": "induction", "vocab": 5, "seq_len": 8},
    ],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
