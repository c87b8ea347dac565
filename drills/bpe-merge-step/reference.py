from collections import Counter


def bpe_merge(
    words: dict[tuple[str, ...], int],
) -> tuple[tuple[str, str] | None, dict[tuple[str, ...], int]]:
    counts: Counter[tuple[str, str]] = Counter()
    for word, freq in words.items():
        for pair in zip(word, word[1:], strict=False):  # every adjacent position, overlaps too
            counts[pair] += freq
    if not counts:
        return None, dict(words)
    # Highest count first; among equal counts the smallest pair, so the result is deterministic.
    best = min(counts, key=lambda p: (-counts[p], p))
    a, b = best
    merged: dict[tuple[str, ...], int] = {}
    for word, freq in words.items():
        out, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                out.append(a + b)
                i += 2
            else:
                out.append(word[i])
                i += 1
        key = tuple(out)
        merged[key] = merged.get(key, 0) + freq
    return best, merged
