"""Vectorized operations on consecutive segments of a flat array."""

import numpy as np

__all__ = [
    "gather_index",
    "offsets_from_lengths",
    "segment_product",
    "segment_sum",
    "window_sum",
]


def offsets_from_lengths(lengths):
    """Return ``[0, cumsum(lengths)...]`` as int64, the boundaries of the segments."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def segment_sum(values, lengths, dtype=np.float64, starts=None):
    """Sum consecutive segments of ``values`` with the given lengths, 0 for empty ones.

    The sums are accumulated in ``dtype``, so that boolean or uint8 flags
    are counted rather than added modulo 256. ``starts``, the position of
    each segment in ``values``, saves a cumulative sum when it is known.
    """
    return _segment_reduce(np.add, values, lengths, dtype, starts)


def segment_product(values, lengths, starts=None):
    """Multiply consecutive segments of ``values``, 1 for empty ones."""
    return _segment_reduce(np.multiply, values, lengths, np.float64, starts)


def _segment_reduce(ufunc, values, lengths, dtype, starts):
    if starts is None:
        starts = offsets_from_lengths(lengths)[:-1]
    if values.size and len(lengths) and lengths.min() > 0:
        return ufunc.reduceat(values, starts, dtype=dtype)
    reduced = np.full(len(lengths), ufunc.identity, dtype=dtype)
    nonempty = lengths > 0
    if values.size and nonempty.any():
        # reduceat reduces from each start up to the next one, so passing
        # only the non-empty segments' starts makes each one end where its
        # segment does.
        reduced[nonempty] = ufunc.reduceat(values, starts[nonempty], dtype=dtype)
    return reduced


def window_sum(values, starts, widths):
    """Sum ``values[start:start + width]`` for each window, 0 for an empty one.

    Each window's values are summed in the same order however the windows
    lie, so a window gives the same sum in a slice of ``values`` as in the
    whole array.
    """
    sums = np.zeros(len(widths))
    nonempty = widths > 0
    if not nonempty.any():
        return sums
    starts = starts[nonempty]
    ends = starts + widths[nonempty]
    if (
        starts[0] == 0
        and ends[-1] == len(values)
        and np.array_equal(starts[1:], ends[:-1])
    ):
        # The windows tile the values, as whole videos do.
        sums[nonempty] = np.add.reduceat(values, starts)
        return sums
    # reduceat over [start, end, start, end, ...] sums each window at the
    # even positions, without copying the windows out. It rejects an index
    # equal to the length, and without it the last window runs to the end
    # of the values just the same.
    bounds = np.empty(2 * len(starts), dtype=np.int64)
    bounds[0::2] = starts
    bounds[1::2] = ends
    if bounds[-1] == len(values):
        bounds = bounds[:-1]
    sums[nonempty] = np.add.reduceat(values, bounds)[0::2]
    return sums


def gather_index(starts, lengths):
    """Return the flat positions of segments ``[start, start + length)``, in order."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    new_starts = offsets_from_lengths(lengths)[:-1]
    shift = np.repeat(starts - new_starts, lengths)
    return shift + np.arange(total, dtype=np.int64)
