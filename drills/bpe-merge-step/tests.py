import reprlib

import torch

from app.drills.harness import case, check

SHORT = reprlib.Repr()
SHORT.maxdict = SHORT.maxtuple = SHORT.maxlevel = 6
SHORT.maxstring = 40

CORPUS = {
    ("l", "o", "w", "</w>"): 5,
    ("l", "o", "w", "e", "r", "</w>"): 2,
    ("n", "e", "w", "e", "s", "t", "</w>"): 6,
    ("w", "i", "d", "e", "s", "t", "</w>"): 3,
}


def pair_and_words(result):
    check(
        isinstance(result, tuple | list) and len(result) == 2,
        "bpe_merge must return a tuple (pair, new_words)",
    )
    pair, new_words = result
    check(isinstance(new_words, dict), f"new_words must be a dict, got {type(new_words).__name__}")
    return pair, new_words


def check_step(fn, ref, words, what):
    expected_pair, expected_words = ref(dict(words))
    pair, new_words = pair_and_words(fn(dict(words)))
    if pair is not None:
        pair = tuple(pair)
    check(
        pair == expected_pair, f"{what}: merged pair {SHORT.repr(pair)}, expected {expected_pair!r}"
    )
    if new_words != expected_words:
        wrong = [w for w in expected_words if new_words.get(w) != expected_words[w]]
        extra = [w for w in new_words if w not in expected_words]
        first = wrong[0] if wrong else extra[0]
        check(
            False,
            f"{what}: new_words[{SHORT.repr(first)}] is {SHORT.repr(new_words.get(first))}, "
            f"expected {expected_words.get(first)!r}",
        )


@case(
    "the four-word corpus: (e, s), (s, t) and (t, </w>) tie at 9",
    zh="四词语料：(e, s)、(s, t) 与 (t, </w>) 同为 9 次",
    visible=True,
)
def corpus(fn, ref):
    pair, new_words = pair_and_words(fn(dict(CORPUS)))
    check(tuple(pair) == ("e", "s"), f"pair: expected ('e', 's'), got {SHORT.repr(pair)}")
    expected = {
        ("l", "o", "w", "</w>"): 5,
        ("l", "o", "w", "e", "r", "</w>"): 2,
        ("n", "e", "w", "es", "t", "</w>"): 6,
        ("w", "i", "d", "es", "t", "</w>"): 3,
    }
    check(new_words == expected, f"new_words: expected {expected!r}, got {SHORT.repr(new_words)}")


@case(
    "single-symbol words have no pair: (None, a copy)",
    zh="只有单个符号的词没有相邻对：返回 (None, 新副本)",
    visible=True,
)
def nothing(fn, ref):
    words = {("a",): 3, ("b",): 1}
    pair, new_words = pair_and_words(fn(words))
    check(pair is None, f"pair: expected None, got {SHORT.repr(pair)}")
    check(new_words == words, f"new_words: expected {words!r}, got {SHORT.repr(new_words)}")
    check(new_words is not words, "new_words must be a new dict, not the input itself")


@case("frequencies weight the counts", zh="相邻对的计数按词频加权")
def weighted(fn, ref):
    words = {("x", "y"): 1, ("x", "y", "z"): 1, ("a", "b"): 5}
    check_step(fn, ref, words, "bpe_merge")


@case(
    "ties go to the smallest pair, whatever the dict order",
    zh="次数并列时取最小的符号对，与字典顺序无关",
)
def ties(fn, ref):
    words = {("z", "y"): 2, ("c", "d"): 2, ("b", "a"): 2}
    check_step(fn, ref, words, "bpe_merge (three pairs tied at 2)")
    words = {("q", "r", "</w>"): 1, ("a", "c"): 1, ("a", "b"): 1}
    check_step(fn, ref, words, "bpe_merge (all pairs tied at 1)")


@case(
    "overlaps: a a a counts (a, a) twice and merges to (aa, a)",
    zh="重叠：a a a 中 (a, a) 计两次，合并成 (aa, a)",
)
def overlaps(fn, ref):
    words = {("a", "a", "a"): 1, ("a", "a", "a", "a"): 1, ("b", "c"): 2}
    check_step(fn, ref, words, "bpe_merge")


@case(
    "two words that become the same add their frequencies",
    zh="合并后变成同一个词的两个词，词频相加",
)
def collide(fn, ref):
    words = {("a", "b"): 2, ("ab",): 3, ("a", "b", "c"): 1}
    check_step(fn, ref, words, "bpe_merge")


@case(
    "symbols made by earlier merges, and the input left alone",
    zh="先前合并出的多字符符号按整体匹配；输入字典不被改动",
)
def later_merges(fn, ref):
    words = {("lo", "w", "</w>"): 5, ("lo", "w", "er</w>"): 2, ("n", "e", "w", "er</w>"): 6}
    before = dict(words)
    check_step(fn, ref, words, "bpe_merge")
    # Merging (a, b) must not touch the pair (xa, b): match whole symbols, not text.
    check_step(fn, ref, {("a", "b"): 3, ("xa", "b"): 1}, "bpe_merge")
    fn(words)
    check(words == before, "the input dict was modified; build a new one")


@case("a random corpus of 40 words", zh="随机生成的 40 词语料")
def random_corpus(fn, ref):
    g = torch.Generator().manual_seed(0)
    words = {}
    for _ in range(40):
        n = int(torch.randint(1, 7, (1,), generator=g))
        letters = torch.randint(0, 5, (n,), generator=g).tolist()
        word = tuple("abcde"[i] for i in letters) + ("</w>",)
        words[word] = words.get(word, 0) + int(torch.randint(1, 10, (1,), generator=g))
    check_step(fn, ref, words, "bpe_merge")
