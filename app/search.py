"""Ranked search over the bank in both languages.

Each question is indexed over its prompt, tags, key points and answer, in Chinese and English
together (the long explanations would triple the index for words the answer already has). Text is folded first (NFKC turns full-width letters and digits into
ASCII, then case is folded), Chinese is segmented into words by jieba's search mode (which also
emits the shorter words inside a long one), English words lose common suffixes so "saturation"
finds "saturates". Questions are ranked by BM25F: a term counts more in a short field and in a
field that says what the question is about (prompt, tags) than in the answer.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.bank.models import Question

# Field weights: where a word appears says how much the question is about it.
WEIGHTS: dict[str, float] = {
    "prompt": 3.0,
    "tags": 2.5,
    "key_points": 1.5,
    "answer": 1.0,
}
K1, B = 1.2, 0.75
# A hit must cover at least this share of the query's weight (IDF), so that "为什么除以" is not
# answered by every question that merely says "为什么".
MIN_COVERAGE = 0.5

_WORD = re.compile(r"[a-z0-9]+(?:[._+-][a-z0-9]+)*")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Words that appear everywhere and carry no topic.
_STOP_WORDS = """a an and are as at be by can do does for from how in is it its of on or the this
    to what when where which why with would you your vs not no than that then them they
    的 了 是 在 和 与 或 把 被 就 也 都 而 及 吗 呢 个 一个 这 那 对 从 为 会 要 有 用 让 时 中"""
_STOP = frozenset(_STOP_WORDS.split())
# (suffix, replacement), first match wins: saturation, saturates, saturating -> saturat.
_SUFFIXES = (
    ("izations", "iz"),
    ("ization", "iz"),
    ("ations", "at"),
    ("ation", "at"),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("es", ""),
    ("ed", ""),
    ("s", ""),
    ("e", ""),
)

_jieba_lock = threading.Lock()
_jieba = None


def _segmenter():
    """jieba, imported and its dictionary loaded once (about a second), on the first search."""
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _jieba = jieba
    return _jieba


def fold(text: str) -> str:
    """Width and case folding: ＬａｙｅｒＮｏｒｍ, LAYERNORM and layernorm are one word."""
    return unicodedata.normalize("NFKC", text).casefold()


def _stem(word: str) -> str:
    for suf, rep in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 4:
            return word[: -len(suf)] + rep
    return word


def tokens(text: str) -> list[str]:
    """The index terms of a text: Chinese words (and the words inside them), English stems,
    numbers; stop words and single Latin letters dropped. Only text with Chinese in it goes
    through jieba (the slow part); English is split by a regular expression."""
    text = fold(text)
    out: list[str] = []
    pieces = _segmenter().lcut_for_search(text) if _HAN.search(text) else [text]
    for tok in pieces:
        tok = tok.strip()
        if not tok or tok in _STOP:
            continue
        if _HAN.search(tok):
            out.append(tok)
        else:
            out += [_stem(w) for w in _WORD.findall(tok) if len(w) > 1 and w not in _STOP]
    return out


def _fields(q: Question) -> dict[str, list[str]]:
    """Each indexed field as its texts (one per language or item), tokenised one by one."""
    return {
        "prompt": [q.prompt.zh, q.prompt.en],
        "tags": [" ".join(t.replace("-", " ") for t in q.tags)],
        "key_points": [*q.key_points.zh, *q.key_points.en],
        "answer": [q.answer.zh, q.answer.en],
    }


@dataclass
class Index:
    ids: list[str]
    tf: list[dict[str, Counter]]  # per question, per field: term counts
    lengths: list[dict[str, int]]
    avg: dict[str, float]
    df: Counter = field(default_factory=Counter)

    @classmethod
    def build(cls, questions: Iterable[Question]) -> Index:
        ids, tf, lengths, df = [], [], [], Counter()
        for q in questions:
            per = {
                name: Counter(t for text in texts for t in tokens(text))
                for name, texts in _fields(q).items()
            }
            ids.append(q.id)
            tf.append(per)
            lengths.append({name: sum(c.values()) for name, c in per.items()})
            df.update({t for c in per.values() for t in c})
        n = max(len(ids), 1)
        avg = {f: max(sum(ln[f] for ln in lengths) / n, 1.0) for f in WEIGHTS}
        return cls(ids=ids, tf=tf, lengths=lengths, avg=avg, df=df)

    def idf(self, term: str) -> float:
        n, d = len(self.ids), self.df.get(term, 0)
        return math.log(1 + (n - d + 0.5) / (d + 0.5))

    def rank(self, query: str) -> list[tuple[str, float]]:
        """(question id, score), best first; empty when no term of the query is indexed."""
        terms = list(dict.fromkeys(tokens(query)))
        if not terms:
            return []
        weight = {t: self.idf(t) for t in terms}
        need = MIN_COVERAGE * sum(weight.values())
        hits = []
        for k, qid in enumerate(self.ids):
            score = covered = 0.0
            for t in terms:
                w_tf = sum(
                    WEIGHTS[f] * self.tf[k][f][t] / (1 - B + B * self.lengths[k][f] / self.avg[f])
                    for f in WEIGHTS
                    if self.tf[k][f][t]
                )
                if w_tf:
                    covered += weight[t]
                    score += weight[t] * w_tf * (K1 + 1) / (K1 + w_tf)
            if score and covered >= need - 1e-9:
                hits.append((qid, score))
        hits.sort(key=lambda h: (-h[1], h[0]))
        return hits


def substring_hits(questions: Iterable[Question], text: str) -> list[Question]:
    """The old plain match, for what the index cannot see (a symbol, part of a word)."""
    needle = fold(text.strip())
    out = []
    for q in questions:
        hay = fold(" ".join([q.id, *(t for texts in _fields(q).values() for t in texts)]))
        if needle in hay:
            out.append(q)
    return out


SOUL_GROUP, GENERAL_GROUP = "soul-20", ""


def tag_groups(
    questions: Iterable[Question], topic_order: list[str]
) -> list[tuple[str, list[str]]]:
    """The tags for the filter, grouped instead of one long list: (group, sorted tags) with the
    group a topic id (the topic most of the tag's questions are in), ``SOUL_GROUP`` for the
    soul-20 numbering tags, or ``GENERAL_GROUP`` for tags spread over three topics or more."""
    where: dict[str, Counter] = {}
    for q in questions:
        for t in q.tags:
            where.setdefault(t, Counter())[q.topic] += 1
    rank = {tid: k for k, tid in enumerate(topic_order)}
    groups: dict[str, list[str]] = {}
    for tag, topics in where.items():
        if tag.startswith("soul-"):
            group = SOUL_GROUP
        elif len(topics) >= 3:
            group = GENERAL_GROUP
        else:
            group = min(topics, key=lambda tid: (-topics[tid], rank.get(tid, len(rank))))
        groups.setdefault(group, []).append(tag)
    order = [GENERAL_GROUP, *topic_order, SOUL_GROUP]
    return [(g, sorted(groups[g])) for g in order if g in groups]
