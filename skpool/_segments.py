"""Vectorized operations on consecutive segments of a flat array."""

import numpy as np

__all__ = ["gather_index", "offsets_from_lengths", "segment_sum"]


def offsets_from_lengths(lengths):
    """Return ``[0, cumsum(lengths)...]`` as int64, the boundaries of the segments."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def segment_sum(values, lengths):
    """Sum consecutive segments of ``values`` with the given lengths, 0 for empty ones."""
    sums = np.zeros(len(lengths), dtype=np.float64)
    nonempty = lengths > 0
    if values.size and nonempty.any():
        starts = offsets_from_lengths(lengths)[:-1]
        # reduceat sums from each start up to the next one, so passing only
        # the non-empty segments' starts makes each sum end where its segment
        # does.
        sums[nonempty] = np.add.reduceat(values, starts[nonempty])
    return sums


def gather_index(starts, lengths):
    """Return the flat positions of segments ``[start, start + length)``, in order."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    new_starts = offsets_from_lengths(lengths)[:-1]
    shift = np.repeat(starts - new_starts, lengths)
    return shift + np.arange(total, dtype=np.int64)
