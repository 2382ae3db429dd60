"""Numbers as short ranges, for the lines people read: [1, 2, 3, 5, 7, 8] -> '1-3, 5, 7-8'."""

from __future__ import annotations

from collections.abc import Iterable


def compress_ranges(numbers: Iterable[int]) -> str:
    """Sorted, each number once: [3, 1, 2, 2, 7] -> '1-3, 7'; '' for none."""
    parts: list[str] = []
    ordered = sorted(set(numbers))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(parts)
