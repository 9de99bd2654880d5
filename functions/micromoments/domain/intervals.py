"""Half-open intervals of epoch seconds: ``(start, end)`` with ``start < end``.

Every metric is computed on UTC instants (DESIGN.md "Calendar semantics"); integer seconds
keep the arithmetic exact and fast. Lists returned here are sorted and disjoint.
"""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Merge overlapping or touching intervals into a sorted, disjoint list."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def clip(intervals: Iterable[Interval], lo: int, hi: int) -> list[Interval]:
    """Each interval cut to ``[lo, hi)``; empty pieces are dropped."""
    out: list[Interval] = []
    for start, end in intervals:
        s = start if start > lo else lo
        e = end if end < hi else hi
        if s < e:
            out.append((s, e))
    return out


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Intersection of two sorted, disjoint lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s = max(a[i][0], b[j][0])
        e = min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """``a`` minus ``b``; both sorted and disjoint."""
    out: list[Interval] = []
    j = 0
    for start, end in a:
        cur = start
        while j < len(b) and b[j][1] <= cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] < end:
            if b[k][0] > cur:
                out.append((cur, b[k][0]))
            cur = max(cur, b[k][1])
            if cur >= end:
                break
            k += 1
        if cur < end:
            out.append((cur, end))
    return out


def total(intervals: Iterable[Interval]) -> int:
    """Summed length in seconds."""
    return sum(end - start for start, end in intervals)


def covers(intervals: list[Interval], target: list[Interval]) -> bool:
    """True when the sorted, disjoint ``intervals`` contain every point of ``target``."""
    return not subtract(target, intervals)
