"""Pooling statistics: one definition each, vectorized over all videos.

Every statistic takes a `SortedFrames` (the non-NaN scores of each video,
sorted ascending) and returns one float64 per video, NaN for a video with
no valid frame. `VideoAggregator` and `FramePooler` both call these
functions through `STATISTICS`, so a formula lives in one place.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import expit, logit

from ._segments import gather_index, segment_sum

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


def _window_sum(frames, low, high):
    """Sum each video's sorted values at ranks ``low`` (inclusive) to ``high``."""
    width = np.maximum(high - low, 0)
    positions = gather_index(frames.offsets[:-1] + low, width)
    return segment_sum(frames.values[positions], width), width


def _divide(numerator, denominator):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def _empty_to_nan(result, counts):
    result = np.asarray(result, dtype=np.float64)
    result[counts == 0] = np.nan
    return result


def pool_mean(frames):
    return _divide(segment_sum(frames.values, frames.counts), frames.counts)


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
    sums, width = _window_sum(frames, cut, counts - cut)
    return _divide(sums, width)


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
    sums, width = _window_sum(frames, counts - top, counts)
    return _divide(sums, width)


def pool_logit_mean(frames):
    clipped = np.clip(frames.values, LOGIT_EPS, 1 - LOGIT_EPS)
    mean_logit = _divide(segment_sum(logit(clipped), frames.counts), frames.counts)
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
    values = frames.values
    high = values > confident_high
    low = values < confident_low
    n_high = segment_sum(high.astype(np.float64), counts)
    n_low = segment_sum(low.astype(np.float64), counts)
    mean_high = _divide(segment_sum(np.where(high, values, 0.0), counts), n_high)
    mean_low = _divide(segment_sum(np.where(low, values, 0.0), counts), n_low)
    mean_all = pool_mean(frames)
    use_high = (n_high > np.floor_divide(counts, confident_divisor)) & (
        n_high > confident_min_count
    )
    use_low = ~use_high & (n_low > confident_low_share * counts)
    result = np.where(use_high, mean_high, np.where(use_low, mean_low, mean_all))
    return _empty_to_nan(result, counts)


def _shift(frames, positive):
    """Per-frame copy of each video's max (``positive``) or min score."""
    per_video = pool_max(frames) if positive else pool_min(frames)
    return np.nan_to_num(per_video)[frames.video_index]


def pool_power_mean(frames, power=1.0):
    counts = frames.counts
    values = frames.values
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if power == 0:
            mean_log = _divide(segment_sum(np.log(values), counts), counts)
            return _empty_to_nan(np.exp(mean_log), counts)
        # Scaling by the max (power > 0) or the min (power < 0) keeps
        # values**power within [0, 1] and so free of overflow.
        scale = _shift(frames, power > 0)
        ratio = np.where(scale > 0, values / np.where(scale > 0, scale, 1), 1.0)
        mean_power = _divide(segment_sum(ratio**power, counts), counts)
        per_video_scale = np.nan_to_num(pool_max(frames) if power > 0 else pool_min(frames))
        result = per_video_scale * mean_power ** (1.0 / power)
    if power < 0:
        # A zero score makes the power mean 0, its limit as values reach 0.
        result = np.where(pool_min(frames) == 0, 0.0, result)
    return _empty_to_nan(result, counts)


def pool_lse(frames, sharpness=1.0):
    """Log-mean-exp: (1 / r) log(mean(exp(r p))), between the mean and the max."""
    counts = frames.counts
    if sharpness == 0:
        return pool_mean(frames)
    shift = _shift(frames, sharpness > 0)
    mean_exp = _divide(
        segment_sum(np.exp(sharpness * (frames.values - shift)), counts), counts
    )
    per_video_shift = np.nan_to_num(pool_max(frames) if sharpness > 0 else pool_min(frames))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _empty_to_nan(per_video_shift + np.log(mean_exp) / sharpness, counts)


def pool_noisy_or(frames):
    with np.errstate(divide="ignore"):
        log_none = segment_sum(np.log1p(-frames.values), frames.counts)
    return _empty_to_nan(-np.expm1(log_none), frames.counts)


def pool_vote(frames, threshold=0.5):
    above = (frames.values > threshold).astype(np.float64)
    return _divide(segment_sum(above, frames.counts), frames.counts)


def pool_linear_softmax(frames):
    counts = frames.counts
    values = frames.values
    total = segment_sum(values, counts)
    squares = segment_sum(values * values, counts)
    # A video whose scores are all 0 pools to 0, the limit of the formula.
    return _empty_to_nan(np.where(total > 0, _divide(squares, total), 0.0), counts)


def pool_autopool(frames, alpha=0.0):
    """Softmax-weighted mean, sum p e^(alpha p) / sum e^(alpha p) (McFee et al., 2018)."""
    counts = frames.counts
    values = frames.values
    shift = _shift(frames, alpha > 0)
    weights = np.exp(alpha * (values - shift))
    return _divide(segment_sum(weights * values, counts), segment_sum(weights, counts))


def pool_sharpened_mean(frames, gamma=0.5):
    """Confidence-weighted mean of sharpened scores.

    Each score moves as 0.5 + sign(d) (2|d|)^gamma / 2 with d = p - 0.5, so
    gamma < 1 pushes scores toward 0 and 1 and the result stays in [0, 1];
    frames are weighted by max(|d|, SHARPENED_WEIGHT_FLOOR).
    """
    counts = frames.counts
    distance = frames.values - 0.5
    sharpened = 0.5 + 0.5 * np.sign(distance) * (2 * np.abs(distance)) ** gamma
    weights = np.maximum(np.abs(distance), SHARPENED_WEIGHT_FLOOR)
    return _divide(
        segment_sum(weights * sharpened, counts), segment_sum(weights, counts)
    )


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
