"""Pooling statistics: one definition each, vectorized over all videos.

Every statistic takes a `SortedFrames` (the non-NaN scores of each video,
sorted ascending) and returns one float64 per video, NaN for a video with
no valid frame. `VideoAggregator` and `FramePooler` both call these
functions through `STATISTICS`, so a formula lives in one place.
"""

import contextvars
import os
import threading
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import expit

from ._segments import segment_product, segment_sum, window_sum

__all__ = [
    "FEATURE_STATISTICS",
    "LOGIT_EPS",
    "SHARPENED_WEIGHT_FLOOR",
    "STATISTICS",
    "pool_frames",
]

LOGIT_EPS = 1e-6
"""Frame scores are clipped to [LOGIT_EPS, 1 - LOGIT_EPS] before taking log-odds."""

SHARPENED_WEIGHT_FLOOR = 1e-3
"""Smallest frame weight of `sharpened_mean`, so that all-0.5 videos stay defined."""


@dataclass(frozen=True)
class Statistic:
    """A pooling statistic and the names of the parameters it reads."""

    function: Callable
    params: tuple = ()


# Frames per block in `_blockwise_sums`: the temporaries of a block stay
# in the CPU cache, and their memory is bounded whatever the data size.
_BLOCK_FRAMES = 1 << 16

# Frames per block of a plain sum, which makes no temporaries: larger
# blocks call reduceat fewer times, and there are still several per thread.
_SUM_BLOCK_FRAMES = 1 << 18

# Below this many frames a statistic runs on the calling thread alone, as
# handing blocks to other threads would cost more than it saves.
_MIN_PARALLEL_FRAMES = 4 * _BLOCK_FRAMES

THREADS_VARIABLE = "SKPOOL_NUM_THREADS"
"""Environment variable that sets how many threads compute one statistic."""


def _thread_count():
    """Return how many threads may compute one statistic.

    The count is `THREADS_VARIABLE` if it is set, else ``OMP_NUM_THREADS``,
    else the number of CPUs this process may run on. joblib sets
    ``OMP_NUM_THREADS`` in its worker processes to their share of the
    cores, so a search with ``n_jobs`` runs about one thread per core.
    """
    setting = os.environ.get(THREADS_VARIABLE, "").strip()
    if setting:
        threads = int(setting) if setting.isdigit() else 0
        if threads < 1:
            raise ValueError(
                f"{THREADS_VARIABLE}={setting!r} is not a number of threads; "
                "set it to a positive integer, or to 1 to compute statistics "
                "on the calling thread only."
            )
        return threads
    # OpenMP accepts one count per nesting level; the first is the outer one.
    outer = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if outer.isdigit() and int(outer) > 0:
        return int(outer)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS and Windows


_helpers = None
_helpers_size = 0
_helpers_lock = threading.Lock()


def _forget_helpers():
    # A forked child has none of its parent's threads, so it starts its own.
    global _helpers, _helpers_size, _helpers_lock
    _helpers, _helpers_size = None, 0
    _helpers_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)


def _helper_threads(size):
    """Return the thread pool shared by all statistics, with at least ``size`` threads.

    Calls from several threads (a search with a threading backend) share
    it, so together they run at most as many helpers as one call requests.
    """
    global _helpers, _helpers_size
    with _helpers_lock:
        if _helpers_size < size:
            # The pool it replaces finishes its queued blocks, and its idle
            # threads exit once it is garbage collected.
            _helpers = ThreadPoolExecutor(size, thread_name_prefix="skpool")
            _helpers_size = size
        return _helpers


def _video_blocks(offsets, block_frames):
    """Return the first video of each block of about ``block_frames`` frames, then
    the number of videos. A longer video is a block of its own."""
    block_starts = np.arange(block_frames, offsets[-1], block_frames)
    cuts = np.searchsorted(offsets, block_starts)
    bounds = np.unique(np.concatenate(([0], cuts, [len(offsets) - 1]))).tolist()
    if len(bounds) == 1:
        bounds.append(bounds[0])
    return bounds


def _per_block(frames, compute, block_frames=None):
    """Return the per-video arrays that ``compute`` returns for each block of videos.

    ``compute(videos, values)`` receives a slice of consecutive videos and
    their sorted values, and returns a tuple of arrays with one element
    per video of the slice, for blocks of about ``block_frames`` frames
    (`_BLOCK_FRAMES` by default). Blocks run on several threads when there are
    enough frames (`_thread_count`): numpy releases the GIL while it loops
    over a block's values. A block's results do not depend on the thread
    that computes it, so they are the same on any number of threads.
    """
    offsets = frames.offsets
    bounds = _video_blocks(offsets, block_frames or _BLOCK_FRAMES)
    n_videos = len(frames.counts)

    def run(block, results):
        videos = slice(bounds[block], bounds[block + 1])
        values = frames.values[offsets[videos.start] : offsets[videos.stop]]
        for result, part in zip(results, compute(videos, values)):
            result[videos] = part

    # The first block shows how many arrays there are, and of which types.
    first = compute(slice(bounds[0], bounds[1]), frames.values[: offsets[bounds[1]]])
    results = tuple(np.empty(n_videos, dtype=part.dtype) for part in first)
    for result, part in zip(results, first):
        result[: bounds[1]] = part
    n_blocks = len(bounds) - 1
    threads = min(_thread_count(), n_blocks - 1)
    if threads < 2 or offsets[-1] < _MIN_PARALLEL_FRAMES:
        for block in range(1, n_blocks):
            run(block, results)
        return results
    # Every thread, the calling one included, takes the next block left
    # until none is; a busy core then holds up at most one block.
    remaining = iter(range(1, n_blocks))

    def work():
        for block in remaining:
            run(block, results)

    helpers = _helper_threads(threads - 1)
    # Each helper runs in a copy of the caller's context, and so under its
    # numpy.errstate.
    started = [
        helpers.submit(contextvars.copy_context().run, work) for _ in range(threads - 1)
    ]
    try:
        work()
    finally:
        # No helper may still write into the results once they are returned.
        futures.wait(started)
    for helper in started:
        helper.result()
    return results


def _blockwise_sums(frames, terms):
    """Return each video's sums of the per-frame arrays that ``terms`` returns.

    ``terms(videos, values)`` receives a slice of consecutive videos and
    their sorted values, and returns a tuple of arrays shaped like
    ``values``. Computing them for about `_BLOCK_FRAMES` frames at a time
    keeps the temporaries small, and gives the same sums as whole arrays
    would, because each video's terms are summed in the same order.
    """
    counts = frames.counts
    offsets = frames.offsets

    def compute(videos, values):
        lengths = counts[videos]
        starts = offsets[videos] - offsets[videos.start]
        return tuple(
            segment_sum(term, lengths, starts=starts) for term in terms(videos, values)
        )

    return list(_per_block(frames, compute))


def _count_beyond(frames, thresholds, below=()):
    """Count each video's scores above each threshold, and below each of ``below``."""
    counts = frames.counts
    offsets = frames.offsets
    comparisons = [(np.greater, t) for t in thresholds] + [(np.less, t) for t in below]
    if _thread_count() > 1 and offsets[-1] >= _MIN_PARALLEL_FRAMES:
        # reduceat holds the GIL while it converts uint8 flags to a wider
        # type, so threads sum the flags as float64, which it does not convert.
        dtype, flag_type = np.float64, np.float64
    else:
        # On one thread, converting uint8 flags inside reduceat is faster
        # than float64 flags, and int32 is faster than int64.
        dtype = np.int32 if counts.size == 0 or counts.max() < 2**31 else np.int64
        flag_type = np.uint8

    def compute(videos, values):
        starts = offsets[videos] - offsets[videos.start]
        lengths = counts[videos]
        return tuple(
            segment_sum(
                compare(values, t).astype(flag_type, copy=False), lengths, dtype, starts
            )
            for compare, t in comparisons
        )

    # Sums of float64 flags are exact integers.
    return [count.astype(np.int64, copy=False) for count in _per_block(frames, compute)]


def _window_sum(frames, low, high):
    """Sum each video's sorted values at ranks ``low`` (inclusive) to ``high``."""
    width = np.maximum(high - low, 0)
    first_rank = np.broadcast_to(low, width.shape)
    offsets = frames.offsets

    def compute(videos, values):
        starts = offsets[videos] - offsets[videos.start] + first_rank[videos]
        return (window_sum(values, starts, width[videos]),)

    (sums,) = _per_block(frames, compute, _SUM_BLOCK_FRAMES)
    return sums, width


def _per_frame(per_video, counts, videos):
    """Repeat each value of ``per_video[videos]`` once per frame of its video."""
    return np.repeat(per_video[videos], counts[videos])


def _divide(numerator, denominator):
    """Return ``numerator / denominator``, NaN where the denominator is not positive."""
    result = np.full(np.shape(numerator), np.nan)
    np.divide(numerator, denominator, out=result, where=denominator > 0)
    return result


def _empty_to_nan(result, counts):
    result = np.asarray(result, dtype=np.float64)
    result[counts == 0] = np.nan
    return result


def _extremes(frames):
    """Return each video's lowest and highest score, NaN for an empty video.

    Several statistics clip to or scale by them, so they are computed once
    per `SortedFrames` and kept with it, read-only.
    """
    extremes = frames._derived.get("extremes")
    if extremes is None:
        counts = frames.counts
        nonempty = counts > 0
        lowest = np.full(len(counts), np.nan)
        highest = np.full(len(counts), np.nan)
        lowest[nonempty] = frames.values[frames.offsets[:-1][nonempty]]
        highest[nonempty] = frames.values[frames.offsets[1:][nonempty] - 1]
        lowest.flags.writeable = highest.flags.writeable = False
        extremes = frames._derived["extremes"] = (lowest, highest)
    return extremes


def _window_mean(frames, low, high):
    """Return the mean of each video's sorted values at ranks ``low`` to ``high``.

    Rounding can put the float mean of equal values above them (three
    frames of 0.1 sum to 0.30000000000000004), so the mean is clipped to
    the window's lowest and highest value. NaN for an empty window.
    """
    sums, width = _window_sum(frames, low, high)
    mean = _divide(sums, width)
    nonempty = width > 0
    starts = frames.offsets[:-1]
    lowest = frames.values[(starts + low)[nonempty]]
    highest = frames.values[(starts + high - 1)[nonempty]]
    mean[nonempty] = np.clip(mean[nonempty], lowest, highest)
    return mean


def pool_mean(frames):
    counts = frames.counts
    offsets = frames.offsets

    def compute(videos, values):
        starts = offsets[videos] - offsets[videos.start]
        return (segment_sum(values, counts[videos], starts=starts),)

    (sums,) = _per_block(frames, compute, _SUM_BLOCK_FRAMES)
    # Clipped to each video's range, as `_window_mean` explains.
    return _within_range(_divide(sums, counts), frames)


def _within_range(result, frames):
    """Clip each video's weighted mean to the video's [min, max].

    Every weighted mean lies in that range, but its float sums can round
    past it, so that a video whose frames are all 0.1 would pool to
    0.10000000000000002. Empty videos stay NaN.
    """
    lowest, highest = _extremes(frames)
    return np.clip(result, lowest, highest)


def pool_max(frames):
    return _extremes(frames)[1].copy()


def pool_min(frames):
    return _extremes(frames)[0].copy()


def _lerp(below, above, weight):
    # Same rounding as numpy.quantile's interpolation, which switches
    # formula at weight 0.5 so that weight 1 returns ``above`` exactly.
    difference = above - below
    from_above = above - difference * (1 - weight)
    from_below = below + difference * weight
    return np.where(weight >= 0.5, from_above, from_below)


def _quantile_positions(n, q, method):
    """Return (lower rank, upper rank, weight) of quantile ``q`` for sizes ``n``.

    Follows numpy.quantile's definitions of each ``method`` (Hyndman and
    Fan, 1996), as numpy 2.x implements them.
    """
    n = n.astype(np.float64)
    integer_methods = {
        "lower": lambda: np.floor((n - 1) * q),
        "higher": lambda: np.ceil((n - 1) * q),
        "nearest": lambda: np.around((n - 1) * q),
    }
    if method in integer_methods:
        index = integer_methods[method]()
        return index, index, np.zeros_like(n)
    if method in ("inverted_cdf", "closest_observation"):
        if method == "inverted_cdf":
            virtual = n * q - 1
            previous = np.floor(virtual)
            take_previous = (virtual - previous) == 0
        else:
            virtual = n * q - 1 - 0.5
            previous = np.floor(virtual)
            take_previous = ((virtual - previous) == 0) & (previous % 2 == 1)
        index = np.where(take_previous, previous, previous + 1)
        index = np.maximum(index, 0)
        return index, index, np.zeros_like(n)
    alpha_beta = {
        "interpolated_inverted_cdf": (0.0, 1.0),
        "hazen": (0.5, 0.5),
        "weibull": (0.0, 0.0),
        "median_unbiased": (1 / 3.0, 1 / 3.0),
        "normal_unbiased": (3 / 8.0, 3 / 8.0),
    }
    if method == "linear":
        virtual = (n - 1) * q
    elif method == "averaged_inverted_cdf":
        virtual = n * q - 1
    elif method == "midpoint":
        virtual = 0.5 * (np.floor((n - 1) * q) + np.ceil((n - 1) * q))
    elif method in alpha_beta:
        alpha, beta = alpha_beta[method]
        virtual = n * q + (alpha + q * (1 - alpha - beta)) - 1
    else:
        raise ValueError(f"Unknown quantile method {method!r}.")
    previous = np.floor(virtual)
    weight = virtual - previous
    if method == "averaged_inverted_cdf":
        weight = np.where(weight == 0, 0.5, 1.0)
    elif method == "midpoint":
        weight = np.where(virtual % 1 == 0, 0.0, 0.5)
    below = previous.copy()
    above = previous + 1
    at_top = virtual >= n - 1
    below[at_top] = n[at_top] - 1
    above[at_top] = n[at_top] - 1
    at_bottom = virtual < 0
    below[at_bottom] = 0
    above[at_bottom] = 0
    return below, above, weight


QUANTILE_METHODS = (
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "linear",
    "median_unbiased",
    "normal_unbiased",
    "lower",
    "higher",
    "nearest",
    "midpoint",
)


def pool_quantile(frames, q=0.5, quantile_method="linear"):
    counts = frames.counts
    result = np.full(len(counts), np.nan)
    nonempty = counts > 0
    if not nonempty.any():
        return result
    n = counts[nonempty]
    below, above, weight = _quantile_positions(n, q, quantile_method)
    top = (n - 1).astype(np.float64)
    below = np.clip(below, 0, top).astype(np.int64)
    above = np.clip(above, 0, top).astype(np.int64)
    starts = frames.offsets[:-1][nonempty]
    result[nonempty] = _lerp(
        frames.values[starts + below], frames.values[starts + above], weight
    )
    return result


def pool_median(frames):
    return pool_quantile(frames, q=0.5, quantile_method="linear")


def pool_trimmed_mean(frames, trim=0.1):
    counts = frames.counts
    # scipy.stats.trim_mean cuts int(trim * n) values from each end.
    cut = (trim * counts).astype(np.int64)
    return _window_mean(frames, cut, counts - cut)


def topk_count(counts, k):
    """Return how many top frames `topk_mean` averages in videos of ``counts`` frames.

    An integer ``k`` is a number of frames, capped at the video's length. A
    float ``k`` in (0, 1] is a share of each video's frames, at least one.
    """
    if isinstance(k, (int, np.integer)):
        return np.minimum(counts, k)
    return np.minimum(counts, np.maximum(1, np.floor(k * counts).astype(np.int64)))


def pool_topk_mean(frames, k=0.2):
    counts = frames.counts
    top = topk_count(counts, k)
    return _window_mean(frames, counts - top, counts)


def pool_logit_mean(frames):

    def terms(videos, values):
        clipped = np.clip(values, LOGIT_EPS, 1 - LOGIT_EPS)
        # log(p / (1 - p)) runs about 3x faster than scipy.special.logit and
        # is as accurate in absolute terms (within 1e-15), which is all a
        # mean of log-odds keeps; scipy is more accurate only relative to
        # log-odds near 0.
        odds = np.subtract(1, clipped)
        np.divide(clipped, odds, out=odds)
        return (np.log(odds, out=odds),)

    (sum_logit,) = _blockwise_sums(frames, terms)
    mean_logit = _divide(sum_logit, frames.counts)
    return expit(mean_logit)


def pool_confident(
    frames,
    confident_high=0.8,
    confident_low=0.2,
    confident_min_count=11,
    confident_divisor=2.5,
    confident_low_share=0.9,
):
    """The rule of the Deepfake Detection Challenge winners (Seferbekov, 2020).

    With ``n`` valid frames: if more than ``n // confident_divisor`` and more
    than ``confident_min_count`` frames score above ``confident_high``,
    return their mean; else if more than ``confident_low_share * n`` frames
    score below ``confident_low``, return their mean; else the plain mean.
    """
    counts = frames.counts
    n_high, n_low = _count_beyond(frames, [confident_high], [confident_low])
    use_high = n_high > confident_min_count
    # floor_divide of floats is slow, so it is left to the videos it decides.
    candidates = np.flatnonzero(use_high)
    use_high[candidates] = n_high[candidates] > np.floor_divide(
        counts[candidates], confident_divisor
    )
    use_low = ~use_high & (n_low > confident_low_share * counts)
    # Scores are sorted within each video, so the ones above confident_high
    # are its last n_high, and the ones below confident_low its first n_low.
    first = np.where(use_high, counts - n_high, 0)
    end = np.where(use_low, n_low, counts)
    return _window_mean(frames, first, end)


def _shift(frames, positive):
    """Return each video's max (``positive``) or min score, 0 for an empty video."""
    lowest, highest = _extremes(frames)
    return np.nan_to_num(highest if positive else lowest)


# Below this magnitude, power_mean and lse equal their limits at 0 (the
# geometric mean and the mean) far within float64 precision, while
# parameter * x would lose its digits to underflow.
_NEGLIGIBLE_PARAMETER = 1e-100


# exp(x) of |x| up to this stays far from overflow and from subnormal
# numbers, even summed over millions of frames.
_SAFE_EXPONENT = 600.0


def _exp_is_safe(frames, rate):
    """Return whether exp(rate * p) is a normal float for every score p."""
    lowest, highest = _extremes(frames)
    if not np.isfinite(rate) or np.isnan(lowest).all():
        return np.isfinite(rate)
    largest = max(abs(np.nanmin(lowest)), abs(np.nanmax(highest)))
    return abs(rate) * largest <= _SAFE_EXPONENT


def _log_mean_exp(frames, exponent, per_video, exp_sums=None):
    """Return each video's log(mean(exp(x))) for exponents x <= 0.

    ``exponent(values, per_frame)`` returns x, as a new array, for a block
    of sorted values and ``per_video`` repeated once per frame of their
    videos. With a tiny power or sharpness every x is tiny, mean(exp(x))
    rounds to 1 and its log to 0, which would return the max instead of a
    value near the mean. expm1 and log1p keep those digits while the mean
    of exp(x) stays above 0.5; further away, exp and log are the accurate
    ones. Only the videos whose mean of exp(x) is above about 0.5 need
    expm1, so it is computed for their frames alone when they hold fewer
    than half of all frames. ``exp_sums()``, if given, returns each
    video's sum of exp(x) within a few units in the last place, faster than
    x and exp(x) frame by frame.
    """
    counts = frames.counts

    def exp_terms(videos, values):
        x = exponent(values, _per_frame(per_video, counts, videos))
        return (np.exp(x, out=x),)

    if exp_sums is None:
        (sum_exp,) = _blockwise_sums(frames, exp_terms)
    else:
        sum_exp = exp_sums()
    log_mean = np.log(_divide(sum_exp, counts))
    # The margin below 0.5 covers the rounding of the sums, and the mean
    # of expm1 decides which of these videos use it.
    near_one = np.flatnonzero(sum_exp > (0.5 - 1e-6) * counts)
    if near_one.size == 0:
        return log_mean
    if 2 * counts[near_one].sum() < len(frames.values):
        subset, subset_per_video = frames.take(near_one), per_video[near_one]
    else:
        subset, subset_per_video = frames, per_video

    def expm1_terms(videos, values):
        x = exponent(values, _per_frame(subset_per_video, subset.counts, videos))
        return (np.expm1(x, out=x),)

    (sum_expm1,) = _blockwise_sums(subset, expm1_terms)
    mean_expm1 = _divide(sum_expm1, subset.counts)
    if subset is frames:
        mean_expm1 = mean_expm1[near_one]
    close = np.abs(mean_expm1) < 0.5
    log_mean[near_one[close]] = np.log1p(mean_expm1[close])
    return log_mean


def pool_power_mean(frames, power=1.0):
    counts = frames.counts
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if abs(power) < _NEGLIGIBLE_PARAMETER:
            (sum_log,) = _blockwise_sums(
                frames, lambda videos, values: (np.log(values),)
            )
            geometric = _empty_to_nan(np.exp(_divide(sum_log, counts)), counts)
            return _within_range(geometric, frames)
        if _has_direct_power(frames, power):
            (sums,) = _blockwise_sums(
                frames, lambda videos, values: (_direct_power(values, power),)
            )
            result = np.power(_divide(sums, counts), 1 / power)
        else:
            result = _scaled_power_mean(frames, power)
    if power < 0:
        # A zero score makes the power mean 0, its limit as values reach 0.
        result = np.where(_extremes(frames)[0] == 0, 0.0, result)
    return _within_range(_empty_to_nan(result, counts), frames)


# Powers that are multiples of 1/2 up to this size are computed with square
# roots and products: faster than exp and log, and more accurate. Larger
# ones would take more products than exp and log cost.
_DIRECT_POWER_LIMIT = 4.0

# Scores whose power is within 2 ** +-_DIRECT_POWER_RANGE stay normal
# floats, and so do sums of millions of them.
_DIRECT_POWER_RANGE = 900.0


def _has_direct_power(frames, power):
    """Return whether `_direct_power` computes every score's ``power`` accurately."""
    halves = 2 * abs(power)
    if halves != np.round(halves) or abs(power) > _DIRECT_POWER_LIMIT:
        return False
    # A video's largest term is its max ** power (or min ** power for a
    # negative power); terms far below it do not count. A video whose scale
    # is 0 pools to 0 whatever its terms.
    lowest, highest = _extremes(frames)
    scale = highest if power > 0 else lowest
    scale = scale[scale > 0]
    if scale.size == 0:
        return True
    exponents = np.abs(power * np.log2([scale.min(), scale.max()]))
    return bool(np.all(exponents <= _DIRECT_POWER_RANGE))


def _direct_power(values, power):
    """Return ``values ** power``, for a multiple of 1/2, by roots and products."""
    halves = round(2 * abs(power))
    result = np.sqrt(values) if halves % 2 else None
    square, whole = values, halves // 2
    while whole:
        if whole % 2:
            if result is None:
                result = square.copy() if square is values else square
            else:
                result *= square
        whole //= 2
        if whole:
            square = square * square
    if power < 0:
        np.reciprocal(result, out=result)
    return result


def _scaled_power_mean(frames, power):
    """Return each video's power mean through exp and log, for any nonzero power."""
    # Scaling by the max (power > 0) or the min (power < 0) keeps
    # values**power within [0, 1] and so free of overflow. The ratio is
    # taken in logs because values / scale overflows for a subnormal scale.
    per_video_scale = _shift(frames, power > 0)
    log_scale = np.log(per_video_scale)
    # A scale of 0 (all scores 0 for power > 0, or one of them for
    # power < 0) has no finite log: such a video's ratios count as 1,
    # so that it pools to its scale.
    unscaled = ~np.isfinite(log_scale)

    def exponents(values, frame_log_scale):
        x = np.log(values)
        x -= frame_log_scale
        x *= power
        return x

    log_mean = _log_mean_exp(frames, exponents, np.where(unscaled, 0.0, log_scale))
    log_mean[unscaled] = 0.0
    growth = log_mean / power
    result = per_video_scale * np.exp(growth)
    overflow = np.isinf(result)
    result[overflow] = np.exp(log_scale[overflow] + growth[overflow])
    return result


def pool_lse(frames, sharpness=1.0):
    """Log-mean-exp: (1 / r) log(mean(exp(r p))), between the mean and the max."""
    counts = frames.counts
    if abs(sharpness) < _NEGLIGIBLE_PARAMETER:
        return pool_mean(frames)
    per_video_shift = _shift(frames, sharpness > 0)

    def exponents(values, frame_shift):
        x = values - frame_shift
        x *= sharpness
        return x

    def exp_sums():
        # sum(exp(r (p - shift))) = exp(-r shift) sum(exp(r p)), without
        # repeating the shift for every frame.
        def terms(videos, values):
            x = values * sharpness
            return (np.exp(x, out=x),)

        (sums,) = _blockwise_sums(frames, terms)
        return sums * np.exp(-sharpness * per_video_shift)

    log_mean_exp = _log_mean_exp(
        frames,
        exponents,
        per_video_shift,
        exp_sums if _exp_is_safe(frames, sharpness) else None,
    )
    result = _empty_to_nan(per_video_shift + log_mean_exp / sharpness, counts)
    return _within_range(result, frames)


def pool_noisy_or(frames):
    """1 - prod(1 - p): the probability that at least one frame is positive.

    The product of 1 - p keeps its relative accuracy, as 1 - p rounds by at
    most half a unit in the last place, and so does 1 minus it while the
    product is at most 0.5. Above that, 1 minus it would lose digits, so
    those videos sum log1p(-p) instead and return -expm1 of the sum.
    """
    counts = frames.counts
    offsets = frames.offsets

    def products(videos, values):
        starts = offsets[videos] - offsets[videos.start]
        return (segment_product(1 - values, counts[videos], starts),)

    (none,) = _per_block(frames, products)
    result = _empty_to_nan(1 - none, counts)
    unlikely = np.flatnonzero((none > 0.5) & (counts > 0))
    if unlikely.size:
        subset = frames.take(unlikely)

        def terms(videos, values):
            log_none = np.negative(values)
            return (np.log1p(log_none, out=log_none),)

        with np.errstate(divide="ignore"):
            (log_none,) = _blockwise_sums(subset, terms)
        result[unlikely] = -np.expm1(log_none)
    return result


def pool_vote(frames, threshold=0.5):
    (n_above,) = _count_beyond(frames, [threshold])
    return _divide(n_above, frames.counts)


def pool_linear_softmax(frames):
    counts = frames.counts
    total, squares = _blockwise_sums(
        frames, lambda videos, values: (values, values * values)
    )
    # A video whose scores are all 0 pools to 0, the limit of the formula.
    result = _empty_to_nan(np.where(total > 0, _divide(squares, total), 0.0), counts)
    return _within_range(result, frames)


def pool_autopool(frames, alpha=0.0):
    """Softmax-weighted mean, sum p e^(alpha p) / sum e^(alpha p).

    AutoPool (McFee, Salamon and Bello, 2018): alpha 0 is the mean, large
    alpha tends to the max and negative alpha to the min.
    """
    counts = frames.counts
    per_video_shift = _shift(frames, alpha > 0)
    # The shift cancels out of the ratio and only guards exp(alpha p)
    # against overflow, so it is left out when `_exp_is_safe` rules that out.
    shifted = not _exp_is_safe(frames, alpha)

    def terms(videos, values):
        if shifted:
            weights = values - _per_frame(per_video_shift, counts, videos)
            weights *= alpha
        else:
            weights = values * alpha
        np.exp(weights, out=weights)
        return weights * values, weights

    weighted_sum, weight_sum = _blockwise_sums(frames, terms)
    return _within_range(_divide(weighted_sum, weight_sum), frames)


def pool_sharpened_mean(frames, gamma=0.5):
    """Confidence-weighted mean of sharpened scores.

    Each score moves as 0.5 + sign(d) (2|d|)^gamma / 2 with d = p - 0.5, so
    gamma < 1 pushes scores toward 0 and 1 and the result stays in [0, 1];
    frames are weighted by max(|d|, SHARPENED_WEIGHT_FLOOR).
    """

    def terms(videos, values):
        distance = values - 0.5
        magnitude = np.abs(distance)
        weights = np.maximum(magnitude, SHARPENED_WEIGHT_FLOOR)
        magnitude *= 2
        moved = magnitude**gamma
        if gamma > 0:
            # sign(d) (2|d|)^gamma, with (2|d|)^gamma = 0 where d = 0.
            np.copysign(moved, distance, out=moved)
        else:
            moved *= np.sign(distance)
        moved *= 0.5
        moved += 0.5
        moved *= weights
        return moved, weights

    weighted_sum, weight_sum = _blockwise_sums(frames, terms)
    return _divide(weighted_sum, weight_sum)


STATISTICS = {
    "mean": Statistic(pool_mean),
    "median": Statistic(pool_median),
    "max": Statistic(pool_max),
    "min": Statistic(pool_min),
    "quantile": Statistic(pool_quantile, ("q", "quantile_method")),
    "trimmed_mean": Statistic(pool_trimmed_mean, ("trim",)),
    "topk_mean": Statistic(pool_topk_mean, ("k",)),
    "logit_mean": Statistic(pool_logit_mean),
    "confident": Statistic(
        pool_confident,
        (
            "confident_high",
            "confident_low",
            "confident_min_count",
            "confident_divisor",
            "confident_low_share",
        ),
    ),
    "power_mean": Statistic(pool_power_mean, ("power",)),
    "lse": Statistic(pool_lse, ("sharpness",)),
    "noisy_or": Statistic(pool_noisy_or),
    "vote": Statistic(pool_vote, ("threshold",)),
    "linear_softmax": Statistic(pool_linear_softmax),
    "autopool": Statistic(pool_autopool, ("alpha",)),
    "sharpened_mean": Statistic(pool_sharpened_mean, ("gamma",)),
}


def pool_std(frames):
    """Population standard deviation (ddof=0), so a one-frame video gives 0."""
    counts = frames.counts
    mean = pool_mean(frames)
    deviation = frames.values - np.nan_to_num(mean)[frames.video_index]
    return np.sqrt(_divide(segment_sum(deviation * deviation, counts), counts))


def pool_n_frames(frames):
    """Number of valid (non-NaN) frames, 0 for an empty video."""
    return frames.counts.astype(np.float64)


FEATURE_STATISTICS = {
    **STATISTICS,
    "std": Statistic(pool_std),
    "n_frames": Statistic(pool_n_frames),
}
"""Statistics `FramePooler` computes: `STATISTICS` plus two that describe a
video's scores but are not probabilities, so `VideoAggregator` rejects them."""


def _cache_key(name, params):
    items = sorted(params.items())
    return (name, *((key, type(value).__name__, value) for key, value in items))


def pool_frames(videos, method, **params):
    """Pool each video's frame scores with the statistic named ``method``.

    Parameters
    ----------
    videos : RaggedFrames
        Frame scores in [0, 1], NaN for missing frames.

    method : str
        A key of `FEATURE_STATISTICS`: `STATISTICS`, "std" or "n_frames".

    **params
        The statistic's parameters; others are ignored.

    Returns
    -------
    ndarray of float64 of shape (n_videos,)
        NaN for videos without a valid frame, except 0 for "n_frames".

    Notes
    -----
    From about 260,000 frames on, a statistic runs on several threads,
    each taking blocks of consecutive videos, with the same result on
    any number of threads. The environment variable ``SKPOOL_NUM_THREADS``
    sets their number (1 keeps all work on the calling thread); without
    it, ``OMP_NUM_THREADS`` does, and without either, the number of CPUs
    the process may use. joblib sets ``OMP_NUM_THREADS`` in the worker
    processes of a search with ``n_jobs``, so the workers share the cores
    instead of each starting one thread per core.
    """
    statistic = FEATURE_STATISTICS[method]
    used = {name: params[name] for name in statistic.params if name in params}
    return videos._pooled_values(
        _cache_key(method, used), lambda frames: statistic.function(frames, **used)
    )
