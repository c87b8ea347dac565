def bpe_merge(
    words: dict[tuple[str, ...], int],
) -> tuple[tuple[str, str] | None, dict[tuple[str, ...], int]]:
    """One step of byte-pair-encoding training.

    words maps a word, as a tuple of symbols, to its frequency in the corpus.
    Count every adjacent pair of symbols, weighted by frequency; pick the most frequent pair
    (ties: the smallest pair in Python's tuple order); merge it everywhere, left to right.
    Returns (pair, new_words), or (None, a copy of words) when no word has two symbols.
    The input dict is not modified.
    """
    raise NotImplementedError("count pairs, pick the best, merge it in every word")
