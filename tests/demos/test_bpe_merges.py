import pytest
from pydantic import ValidationError

from app.demos.bpe_merges import CORPORA, Params, learn, run, tokenize


def test_the_classic_example_merges_in_the_known_order():
    merges, sizes = learn(CORPORA["sennrich"], 6)
    assert [pair for pair, _ in merges] == [
        ("e", "s"),
        ("es", "t"),
        ("est", "</w>"),
        ("l", "o"),
        ("lo", "w"),
        ("e", "w"),
    ]
    assert [f for _, f in merges][:3] == [9, 9, 9]
    assert sizes == sorted(sizes, reverse=True)


def test_an_unseen_word_is_built_from_learned_pieces():
    r = run(Params(word="lowest"), 0)
    assert r.scalar("word_in_corpus") is False
    assert r.scalar("pieces") == "low est</w>"
    assert r.scalar("first_merge") == "e + s"
    merges, _ = learn(CORPORA["sennrich"], 10)
    assert tokenize("newer", merges) == ["n", "ew", "e", "r", "</w>"]  # pieces it learned, in order


def test_english_corpus_compresses():
    r = run(Params(corpus="english", merges=100, word="learner"), 0)
    assert r.scalar("corpus_compression") < 0.5
    assert r.scalar("n_pieces") <= 3


def test_deterministic():
    assert run(Params(corpus="english"), 0) == run(Params(corpus="english"), 9)


@pytest.mark.parametrize(
    "bad",
    [
        {"merges": 0},
        {"merges": 201},
        {"word": "Low"},
        {"word": ""},
        {"word": "a" * 31},
        {"corpus": "x"},
    ],
)
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
