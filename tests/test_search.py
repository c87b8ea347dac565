"""Search as a reader uses it: ranked by relevance in both languages, Chinese segmented into
words, full-width and upper-case letters folded; the tag filter grouped (issue #16, item 10)."""

from __future__ import annotations

import pytest

from app.bank.loader import Bank, load_bank
from app.search import SOUL_GROUP, fold, tag_groups, tokens
from tests.conftest import REAL_BANK


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank(REAL_BANK)


def ids(bank: Bank, query: str) -> list[str]:
    return [q.id for q in bank.search(query)]


def test_words_not_substrings_find_the_question(bank):
    # Neither phrase occurs verbatim anywhere; each word does.
    assert ids(bank, "softmax saturation")[0] == "soul-04-scaled-dot-product"
    assert ids(bank, "为什么除以")[0] == "soul-04-scaled-dot-product"


def test_the_question_about_a_term_ranks_above_one_that_mentions_it(bank):
    hits = ids(bank, "layernorm")
    assert "soul-12-layernorm-vs-batchnorm" in hits[:3]
    if "soul-07-encoder-block" in hits:
        assert hits.index("soul-12-layernorm-vs-batchnorm") < hits.index("soul-07-encoder-block")
    assert ids(bank, "LayerNorm BatchNorm")[0] == "soul-12-layernorm-vs-batchnorm"


def test_case_and_width_folding(bank):
    assert ids(bank, "ＬａｙｅｒＮｏｒｍ") == ids(bank, "LAYERNORM") == ids(bank, "layernorm")
    assert fold("ＫＶ Ｃａｃｈｅ") == "kv cache"


def test_chinese_is_segmented_into_words():
    assert {"位置", "编码"} <= set(tokens("位置编码为什么用正弦"))
    assert "saturat" in tokens("saturation") and "saturat" in tokens("saturates")


def test_a_symbol_the_index_cannot_see_still_matches_as_text(bank):
    assert bank.search("√d_k")  # no word in it: the plain substring match answers


def test_empty_query_lists_everything(bank):
    assert len(bank.search("  ")) == len(bank.questions)


def test_tags_are_grouped_each_once(bank):
    groups = tag_groups(bank.questions.values(), [t.id for t in bank.topics])
    seen = [t for _, tags in groups for t in tags]
    assert sorted(seen) == sorted({t for q in bank.questions.values() for t in q.tags})
    assert len(seen) == len(set(seen))
    assert len(groups) > 3 and max(len(tags) for _, tags in groups) < 40
    soul = dict(groups)[SOUL_GROUP]
    assert "soul-04" in soul and all(t.startswith("soul-") for t in soul)


def test_question_list_page_ranks_and_groups(client):
    html = client.get("/questions", params={"q": "scaling"}).text
    assert 'id="result-count"' in html
    assert "<optgroup" in client.get("/questions").text
