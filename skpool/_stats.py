"""Pooling statistics: one definition each, vectorized over all videos.

Every statistic takes a `SortedFrames` (the non-NaN scores of each video,
sorted ascending) and returns one float64 per video, NaN for a video with
no valid frame. `VideoAggregator` and `FramePooler` both call these
functions through `STATISTICS`, so a formula lives in one place.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import expit

from ._segments import segment_sum

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


def _window_sum(frames, low, high):
    """Sum each video's sorted values at ranks ``low`` (inclusive) to ``high``."""
    width = np.maximum(high - low, 0)
    sums = np.zeros(len(width))
    nonempty = width > 0
    if nonempty.any():
        starts = (frames.offsets[:-1] + low)[nonempty]
        ends = starts + width[nonempty]
        if starts[0] == 0 and ends[-1] == len(frames.values) and np.array_equal(
            starts[1:], ends[:-1]
        ):
            # The windows tile the values, as whole videos do.
            sums[nonempty] = np.add.reduceat(frames.values, starts)
            return sums, width
        # reduceat over [start, end, start, end, ...] sums each window at
        # the even positions, without copying the windows out. It rejects
        # an index equal to the length, and without it the last window
        # runs to the end of the values just the same.
        bounds = np.empty(2 * len(starts), dtype=np.int64)
        bounds[0::2] = starts
        bounds[1::2] = ends
        if bounds[-1] == len(frames.values):
            bounds = bounds[:-1]
        sums[nonempty] = np.add.reduceat(frames.values, bounds)[0::2]
    return sums, width


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
    block_starts = np.arange(_BLOCK_FRAMES, offsets[-1], _BLOCK_FRAMES)
    cuts = np.searchsorted(offsets, block_starts)
    bounds = np.unique(np.concatenate(([0], cuts, [len(counts)]))).tolist()
    if len(bounds) == 1:
        bounds.append(bounds[0])
    sums = None
    for first, last in zip(bounds[:-1], bounds[1:]):
        videos = slice(first, last)
        block = terms(videos, frames.values[offsets[first] : offsets[last]])
        if sums is None:
            sums = [np.zeros(len(counts)) for _ in block]
        for total, term in zip(sums, block):
            total[videos] = segment_sum(term, counts[videos])
    return sums


def _per_frame(per_video, counts, videos):
    """Repeat each value of ``per_video[videos]`` once per frame of its video."""
    return np.repeat(per_video[videos], counts[videos])


def _divide(numerator, denominator):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def _empty_to_nan(result, counts):
    result = np.asarray(result, dtype=np.float64)
    result[counts == 0] = np.nan
    return result


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
    return _window_mean(frames, 0, frames.counts)


def _within_range(result, frames):
    """Clip each video's weighted mean to the video's [min, max].

    Every weighted mean lies in that range, but its float sums can round
    past it, so that a video whose frames are all 0.1 would pool to
    0.10000000000000002. Empty videos stay NaN.
    """
    return np.clip(result, pool_min(frames), pool_max(frames))


def pool_max(frames):
    counts = frames.counts
    last = np.maximum(frames.offsets[1:] - 1, 0)
    if frames.values.size == 0:
        return np.full(len(counts), np.nan)
    return _empty_to_nan(frames.values[last], counts)


def pool_min(frames):
    counts = frames.counts
    if frames.values.size == 0:
        return np.full(len(counts), np.nan)
    first = np.minimum(frames.offsets[:-1], frames.values.size - 1)
    return _empty_to_nan(frames.values[first], counts)


def _lerp(below, above, weight):
    # Same rounding as numpy.quantile's interpolation, which switches
    # formula at weight 0.5 so that weight 1 returns ``above`` exactly.
    difference = above - below
    return np.where(weight >= 0.5, above - difference * (1 - weight), below + difference * weight)


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
    """Number of top frames averaged by `topk_mean` for videos of ``counts`` frames.

    An integer ``k`` is a number of frames (all of them in shorter videos); a
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
        return (np.log(clipped / (1 - clipped)),)

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

    def terms(videos, values):
        high = values > confident_high
        low = values < confident_low
        return (
            high.astype(np.float64),
            low.astype(np.float64),
            np.where(high, values, 0.0),
            np.where(low, values, 0.0),
        )

    n_high, n_low, sum_high, sum_low = _blockwise_sums(frames, terms)
    mean_high = _divide(sum_high, n_high)
    mean_low = _divide(sum_low, n_low)
    mean_all = pool_mean(frames)
    use_high = (n_high > np.floor_divide(counts, confident_divisor)) & (
        n_high > confident_min_count
    )
    use_low = ~use_high & (n_low > confident_low_share * counts)
    result = np.where(use_high, mean_high, np.where(use_low, mean_low, mean_all))
    return _within_range(_empty_to_nan(result, counts), frames)


def _shift(frames, positive):
    """Return each video's max (``positive``) or min score, 0 for an empty video."""
    return np.nan_to_num(pool_max(frames) if positive else pool_min(frames))


# Below this magnitude, power_mean and lse equal their limits at 0 (the
# geometric mean and the mean) far within float64 precision, while
# parameter * x would lose its digits to underflow.
_NEGLIGIBLE_PARAMETER = 1e-100


def _log_mean_exp(frames, exponents):
    """Return each video's log(mean(exp(x))) for exponents x <= 0.

    ``exponents(videos, values)`` returns x for a block of videos, as
    `_blockwise_sums` passes them. With a tiny power or sharpness every x
    is tiny, mean(exp(x)) rounds to 1 and its log to 0, which would return
    the max instead of a value near the mean. expm1 and log1p keep those
    digits while the mean of exp(x) stays near 1; further away, exp and
    log are the accurate ones.
    """
    counts = frames.counts

    def terms(videos, values):
        block = exponents(videos, values)
        return np.exp(block), np.expm1(block)

    with np.errstate(divide="ignore", invalid="ignore"):
        sum_exp, sum_expm1 = _blockwise_sums(frames, terms)
        mean_exp = _divide(sum_exp, counts)
        mean_expm1 = _divide(sum_expm1, counts)
        return np.where(
            np.abs(mean_expm1) < 0.5, np.log1p(mean_expm1), np.log(mean_exp)
        )


def pool_power_mean(frames, power=1.0):
    counts = frames.counts
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if abs(power) < _NEGLIGIBLE_PARAMETER:
            (sum_log,) = _blockwise_sums(
                frames, lambda videos, values: (np.log(values),)
            )
            geometric = _empty_to_nan(np.exp(_divide(sum_log, counts)), counts)
            return _within_range(geometric, frames)
        # Scaling by the max (power > 0) or the min (power < 0) keeps
        # values**power within [0, 1] and so free of overflow. The ratio is
        # taken in logs because values / scale overflows for a subnormal scale.
        per_video_scale = _shift(frames, power > 0)
        log_scale = np.log(per_video_scale)

        def exponents(videos, values):
            frame_log_scale = _per_frame(log_scale, counts, videos)
            log_ratio = np.where(
                np.isfinite(frame_log_scale), np.log(values) - frame_log_scale, 0.0
            )
            return power * log_ratio

        growth = _log_mean_exp(frames, exponents) / power
        result = per_video_scale * np.exp(growth)
        overflow = np.isinf(result)
        result[overflow] = np.exp(log_scale[overflow] + growth[overflow])
    if power < 0:
        # A zero score makes the power mean 0, its limit as values reach 0.
        result = np.where(pool_min(frames) == 0, 0.0, result)
    return _within_range(_empty_to_nan(result, counts), frames)


def pool_lse(frames, sharpness=1.0):
    """Log-mean-exp: (1 / r) log(mean(exp(r p))), between the mean and the max."""
    counts = frames.counts
    if abs(sharpness) < _NEGLIGIBLE_PARAMETER:
        return pool_mean(frames)
    per_video_shift = _shift(frames, sharpness > 0)

    def exponents(videos, values):
        return sharpness * (values - _per_frame(per_video_shift, counts, videos))

    log_mean_exp = _log_mean_exp(frames, exponents)
    result = _empty_to_nan(per_video_shift + log_mean_exp / sharpness, counts)
    return _within_range(result, frames)


def pool_noisy_or(frames):
    with np.errstate(divide="ignore"):
        (log_none,) = _blockwise_sums(
            frames, lambda videos, values: (np.log1p(-values),)
        )
    return _empty_to_nan(-np.expm1(log_none), frames.counts)


def pool_vote(frames, threshold=0.5):
    (n_above,) = _blockwise_sums(
        frames, lambda videos, values: ((values > threshold).astype(np.float64),)
    )
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
    """Softmax-weighted mean, sum p e^(alpha p) / sum e^(alpha p) (McFee et al., 2018)."""
    counts = frames.counts
    per_video_shift = _shift(frames, alpha > 0)

    def terms(videos, values):
        weights = np.exp(alpha * (values - _per_frame(per_video_shift, counts, videos)))
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
        sharpened = 0.5 + 0.5 * np.sign(distance) * (2 * np.abs(distance)) ** gamma
        weights = np.maximum(np.abs(distance), SHARPENED_WEIGHT_FLOOR)
        return weights * sharpened, weights

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
    return (name,) + tuple(
        (key, type(value).__name__, value) for key, value in sorted(params.items())
    )


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
    """
    statistic = FEATURE_STATISTICS[method]
    used = {name: params[name] for name in statistic.params if name in params}
    return videos._pooled_values(
        _cache_key(method, used), lambda frames: statistic.function(frames, **used)
    )
