"""Q18: learn BPE merges step by step on a small built-in corpus, then tokenise a word the
corpus never contained by replaying the merges in order."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Scalar, Series, Table, register

END = "</w>"
_ENGLISH = """
the model reads the tokens and the attention layer mixes them the decoder writes the answer
token by token while the encoder reads the whole sentence at once lower layers learn local
patterns higher layers learn longer ones training uses the lowest loss and the newest data
the widest model is not always the best one smaller models train faster and faster models
are easier to deploy the learner learns the learned merges and tokenises unseen words
"""
CORPORA: dict[str, dict[str, int]] = {
    # The worked example of Sennrich et al. (2016).
    "sennrich": {"low": 5, "lower": 2, "newest": 6, "widest": 3},
    "english": dict(Counter(_ENGLISH.split())),
}


class Params(DemoParams):
    corpus: Literal["sennrich", "english"] = Field(
        "sennrich", description="Built-in training corpus."
    )
    merges: int = Field(10, ge=1, le=200, description="Merges to learn.")
    word: str = Field(
        "lowest", pattern=r"^[a-z]{1,30}$", description="A word to tokenise (a–z, 1–30 letters)."
    )


def _pairs(vocab: dict[tuple[str, ...], int]) -> Counter:
    pairs: Counter = Counter()
    for symbols, freq in vocab.items():
        for a, b in zip(symbols, symbols[1:], strict=False):
            pairs[a, b] += freq
    return pairs


def _merge(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def learn(
    words: dict[str, int], n_merges: int
) -> tuple[list[tuple[tuple[str, str], int]], list[int]]:
    """Greedy BPE: merge the most frequent adjacent pair (ties: the alphabetically first).
    Returns the merges and the corpus size in symbols after each one."""
    vocab = {(*w, END): f for w, f in words.items()}
    merges, sizes = [], []
    for _ in range(n_merges):
        pairs = _pairs(vocab)
        if not pairs:
            break
        freq = max(pairs.values())
        best = min(pair for pair, f in pairs.items() if f == freq)
        merges.append((best, freq))
        vocab = {_merge(sym, best): f for sym, f in vocab.items()}
        sizes.append(sum(len(sym) * f for sym, f in vocab.items()))
    return merges, sizes


def tokenize(word: str, merges: list[tuple[tuple[str, str], int]]) -> list[str]:
    symbols = (*word, END)
    for pair, _ in merges:
        symbols = _merge(symbols, pair)
    return list(symbols)


@register(
    "bpe-merges",
    title=L(zh="一步步学 BPE", en="Learning BPE step by step"),
    description=L(
        zh="在内置小语料上按频次反复合并最常见的相邻符号对，记录每一步；再按学到的顺序切分一个语料里没有的词。",
        en="On a small built-in corpus, repeatedly merge the most frequent adjacent pair and record each step; then tokenise a word the corpus never saw by replaying the merges in order.",
    ),
    params=Params,
    serves=("Q18",),
)
def run(p: Params, seed: int) -> DemoResult:
    words = CORPORA[p.corpus]
    merges, shrink = learn(words, p.merges)
    pieces = tokenize(p.word, merges)
    chars = len(p.word) + 1
    seen = p.word in words
    corpus_tokens = sum(len(tokenize(w, merges)) * f for w, f in words.items())
    corpus_chars = sum((len(w) + 1) * f for w, f in words.items())
    steps = list(range(1, len(merges) + 1))
    shown = " ".join(pieces)
    return DemoResult(
        conclusion=L(
            zh=f'学到 {len(merges)} 条合并；{"语料中出现过的" if seen else "语料中没有的"}词 "{p.word}" 被切成 {shown}（{len(pieces)} 个符号，字符级为 {chars} 个）。',
            en=f'{len(merges)} merges learned; the {"seen" if seen else "unseen"} word "{p.word}" becomes {shown} ({len(pieces)} symbols vs {chars} characters).',
        ),
        scalars=[
            Scalar(key="pieces", label=L(zh="切分结果", en="tokens"), value=shown),
            Scalar(key="n_pieces", label=L(zh="符号数", en="number of symbols"), value=len(pieces)),
            Scalar(
                key="word_in_corpus",
                label=L(zh="词在训练语料中", en="word in the corpus"),
                value=seen,
            ),
            Scalar(
                key="first_merge",
                label=L(zh="第一条合并", en="first merge"),
                value=" + ".join(merges[0][0]) if merges else "",
            ),
            Scalar(
                key="corpus_compression",
                label=L(zh="语料 token 数 / 字符数", en="corpus tokens / characters"),
                value=corpus_tokens / corpus_chars,
            ),
        ],
        tables=[
            Table(
                title=L(zh="每一步的合并", en="Merges, step by step"),
                columns=["step", "pair", "frequency", "new symbol"],
                rows=[[i + 1, f"{a} + {b}", f, a + b] for i, ((a, b), f) in enumerate(merges[:60])],
            )
        ],
        charts=[
            Chart(
                title=L(zh="合并次数与语料 token 数", en="Corpus size in tokens vs merges"),
                x_label="merges",
                y_label="tokens",
                series=[Series(name="tokens in corpus", x=steps, y=shrink)],
            )
        ],
    )
