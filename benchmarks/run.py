"""Benchmark skpool's pooling and grid search against numpy, pandas and polars.

Run from the repository root::

    python benchmarks/run.py            # full run, under 10 minutes
    python benchmarks/run.py --quick    # 1,000 and 10,000 videos only

Every measurement runs in this one process on the same generated frames,
and every peer's pooled values are checked against skpool's with
``numpy.testing.assert_allclose`` before its time is reported. The tables
are printed and written to ``benchmarks/RESULTS.md`` (``--output``),
replacing the previous results.
"""

import argparse
import datetime
import gc
import os
import platform
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import polars as pl
import scipy
import scipy.stats
import sklearn
from numpy.testing import assert_allclose
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV, ParameterGrid

import skpool
from skpool import RaggedFrames, VideoAggregator, default_grid
from skpool._stats import LOGIT_EPS, SHARPENED_WEIGHT_FLOOR, pool_frames

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
MIN_FRAMES, MAX_FRAMES = 10, 54
NAN_SHARE = 0.03
# The per-video Python loop runs on at most this many videos; its time is
# scaled linearly to larger sizes.
LOOP_VIDEOS = 10_000
# Tolerance of the equality checks between skpool and every peer, which
# sum in other orders and use other but equivalent formulas.
RTOL, ATOL = 1e-9, 1e-12
SEARCH_FOLDS = 5
# Each search setting of the parallel comparison runs this many times, and
# the fastest run counts, because other processes disturb single runs.
SEARCH_REPEATS = 2


# Data -------------------------------------------------------------------


@dataclass
class Frames:
    """The same frames in each peer's natural form."""

    values: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    pandas: pd.DataFrame = field(repr=False)
    polars: pl.DataFrame = field(repr=False)

    @property
    def n_videos(self):
        return len(self.offsets) - 1

    @property
    def n_frames(self):
        return len(self.values)

    def head(self, n_videos):
        """Return the first ``n_videos`` videos."""
        stop = int(self.offsets[n_videos])
        return make_frames_from(
            self.values[:stop], self.offsets[: n_videos + 1], self.labels[:n_videos]
        )

    def video_list(self, n_videos=None):
        """Return one array of frame scores per video, NaN frames included."""
        n_videos = self.n_videos if n_videos is None else n_videos
        return np.split(self.values[: self.offsets[n_videos]], self.offsets[1:n_videos])


def make_frames_from(values, offsets, labels):
    video = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    frame_table = pd.DataFrame({"video": video, "score": values})
    # polars treats NaN as a number, not as missing, so NaN scores become null.
    polars_table = pl.DataFrame({"video": video, "score": values}).with_columns(
        pl.col("score").fill_nan(None)
    )
    return Frames(values, offsets, labels, frame_table, polars_table)


def generate_frames(n_videos, seed=0):
    """Generate frame scores whose videos' labels they predict, with NaN frames.

    Each video gets a label, a video-level log-odds that leans toward it,
    and 10 to 54 frames scored ``expit(video log-odds + frame noise)``.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(MIN_FRAMES, MAX_FRAMES + 1, n_videos)
    labels = (rng.random(n_videos) < 0.5).astype(np.int64)
    video_logodds = np.where(labels == 1, 1.0, -1.0) + rng.normal(0.0, 1.2, n_videos)
    frame_logodds = np.repeat(video_logodds, lengths) + rng.normal(
        0.0, 1.5, lengths.sum()
    )
    values = expit(frame_logodds)
    values[rng.random(values.size) < NAN_SHARE] = np.nan
    offsets = np.zeros(n_videos + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return make_frames_from(values, offsets, labels)


# Peers: one statistic written for each library ---------------------------


def _loop_topk(v, k):
    top = max(1, int(np.floor(k * len(v))))
    return np.sort(v)[len(v) - top :].mean()


def _loop_confident(v, high=0.8, low=0.2, min_count=11, divisor=2.5, low_share=0.9):
    n = len(v)
    confident_high = v[v > high]
    confident_low = v[v < low]
    if len(confident_high) > n // divisor and len(confident_high) > min_count:
        return confident_high.mean()
    if len(confident_low) > low_share * n:
        return confident_low.mean()
    return v.mean()


def _loop_sharpened(v, gamma):
    distance = v - 0.5
    sharpened = 0.5 + 0.5 * np.sign(distance) * (2 * np.abs(distance)) ** gamma
    weights = np.maximum(np.abs(distance), SHARPENED_WEIGHT_FLOOR)
    return (weights * sharpened).sum() / weights.sum()


def _loop_power_mean(v, power):
    # Power 0 is the geometric mean, the limit of the power mean.
    if power == 0:
        with np.errstate(divide="ignore"):
            return np.exp(np.mean(np.log(v)))
    return np.mean(v**power) ** (1 / power)


def _loop_autopool(v, alpha):
    weights = np.exp(alpha * v)
    return (weights * v).sum() / weights.sum()


LOOP = {
    "mean": lambda v: v.mean(),
    "max": lambda v: v.max(),
    "min": lambda v: v.min(),
    "median": lambda v: np.median(v),
    "quantile": lambda v, q: np.quantile(v, q),
    "trimmed_mean": lambda v, trim: scipy.stats.trim_mean(v, trim),
    "topk_mean": _loop_topk,
    "confident": _loop_confident,
    "logit_mean": lambda v: expit(np.mean(logit(np.clip(v, LOGIT_EPS, 1 - LOGIT_EPS)))),
    "power_mean": _loop_power_mean,
    "lse": lambda v, sharpness: np.log(np.mean(np.exp(sharpness * v))) / sharpness,
    "autopool": _loop_autopool,
    "noisy_or": lambda v: 1 - np.prod(1 - v),
    "vote": lambda v, threshold: np.mean(v > threshold),
    "linear_softmax": lambda v: (v * v).sum() / v.sum(),
    "sharpened_mean": _loop_sharpened,
}


def pool_loop(videos, method, params):
    """Pool with a Python loop over videos, plain numpy on each."""
    function = LOOP[method]
    pooled = np.full(len(videos), np.nan)
    for position, frames in enumerate(videos):
        frames = frames[~np.isnan(frames)]
        if frames.size:
            pooled[position] = function(frames, **params)
    return pooled


def _pandas_sorted_ranks(table):
    """Return the non-NaN frames sorted within each video, their rank and count."""
    valid = table.dropna().sort_values(["video", "score"])
    by_video = valid.groupby("video")
    return valid, by_video.cumcount().to_numpy(), by_video["score"].transform("size")


def _pandas_trimmed(table, trim):
    valid, rank, count = _pandas_sorted_ranks(table)
    cut = (trim * count).astype(np.int64)
    kept = valid["score"][(rank >= cut) & (rank < count - cut)]
    return kept.groupby(valid["video"][kept.index]).mean()


def _pandas_topk(table, k):
    valid, rank, count = _pandas_sorted_ranks(table)
    top = np.maximum(1, np.floor(k * count).astype(np.int64))
    kept = valid["score"][rank >= count - top]
    return kept.groupby(valid["video"][kept.index]).mean()


def _pandas_confident(table, high=0.8, low=0.2, min_count=11, divisor=2.5, share=0.9):
    score, video = table["score"], table["video"]
    count = score.groupby(video).count()
    is_high, is_low = score > high, score < low
    n_high = is_high.groupby(video).sum()
    n_low = is_low.groupby(video).sum()
    mean_high = score.where(is_high).groupby(video).mean()
    mean_low = score.where(is_low).groupby(video).mean()
    mean_all = score.groupby(video).mean()
    use_high = (n_high > np.floor(count / divisor)) & (n_high > min_count)
    use_low = ~use_high & (n_low > share * count)
    return mean_all.where(~use_high, mean_high).where(~use_low, mean_low)


def _pandas_sharpened(table, gamma):
    score, video = table["score"], table["video"]
    distance = score - 0.5
    sharpened = 0.5 + 0.5 * np.sign(distance) * (2 * distance.abs()) ** gamma
    weights = distance.abs().clip(lower=SHARPENED_WEIGHT_FLOOR)
    return (weights * sharpened).groupby(video).sum() / weights.groupby(video).sum()


def _pandas_autopool(table, alpha):
    score, video = table["score"], table["video"]
    weights = np.exp(alpha * score)
    return (weights * score).groupby(video).sum() / weights.groupby(video).sum()


def _pandas_logit_mean(table):
    clipped = table["score"].clip(LOGIT_EPS, 1 - LOGIT_EPS)
    return expit(np.log(clipped / (1 - clipped)).groupby(table["video"]).mean())


def _pandas_vote(table, threshold):
    score = table["score"]
    above = (score > threshold).astype(np.float64).where(score.notna())
    return above.groupby(table["video"]).mean()


def _by_video(table):
    return table.groupby("video")["score"]


PANDAS = {
    "mean": lambda t: _by_video(t).mean(),
    "max": lambda t: _by_video(t).max(),
    "median": lambda t: _by_video(t).median(),
    "quantile": lambda t, q: _by_video(t).quantile(q),
    "trimmed_mean": _pandas_trimmed,
    "topk_mean": _pandas_topk,
    "confident": _pandas_confident,
    "logit_mean": _pandas_logit_mean,
    "power_mean": lambda t, power: (
        (t["score"] ** power).groupby(t["video"]).mean() ** (1 / power)
    ),
    "lse": lambda t, sharpness: (
        np.log(np.exp(sharpness * t["score"]).groupby(t["video"]).mean()) / sharpness
    ),
    "autopool": _pandas_autopool,
    "noisy_or": lambda t: 1 - np.exp(np.log1p(-t["score"]).groupby(t["video"]).sum()),
    "vote": _pandas_vote,
    "linear_softmax": lambda t: (
        (t["score"] ** 2).groupby(t["video"]).sum()
        / t["score"].groupby(t["video"]).sum()
    ),
    "sharpened_mean": _pandas_sharpened,
}


def _polars_sorted():
    frames = pl.col("score").drop_nulls().sort()
    return frames, frames.len()


def _polars_trimmed(trim):
    frames, count = _polars_sorted()
    cut = (count * trim).floor().cast(pl.Int64)
    return frames.slice(cut, count - 2 * cut).mean()


def _polars_topk(k):
    frames, count = _polars_sorted()
    top = pl.max_horizontal(
        pl.lit(1, dtype=pl.Int64), (count * k).floor().cast(pl.Int64)
    )
    return frames.slice(count - top, top).mean()


def _polars_confident(high=0.8, low=0.2, min_count=11, divisor=2.5, share=0.9):
    score = pl.col("score")
    count = score.count()
    n_high = (score > high).sum()
    n_low = (score < low).sum()
    use_high = (n_high > (count / divisor).floor()) & (n_high > min_count)
    return (
        pl.when(use_high)
        .then(score.filter(score > high).mean())
        .when(n_low > share * count)
        .then(score.filter(score < low).mean())
        .otherwise(score.mean())
    )


def _polars_sharpened(gamma):
    distance = pl.col("score") - 0.5
    sharpened = 0.5 + 0.5 * distance.sign() * (2 * distance.abs()).pow(gamma)
    weights = distance.abs().clip(lower_bound=SHARPENED_WEIGHT_FLOOR)
    return (weights * sharpened).sum() / weights.sum()


def _polars_autopool(alpha):
    weights = (alpha * pl.col("score")).exp()
    return (weights * pl.col("score")).sum() / weights.sum()


def _polars_logit_mean():
    clipped = pl.col("score").clip(LOGIT_EPS, 1 - LOGIT_EPS)
    mean_logit = (clipped / (1 - clipped)).log().mean()
    return 1 / (1 + (-mean_logit).exp())


score = pl.col("score")
POLARS = {
    "mean": lambda: score.mean(),
    "max": lambda: score.max(),
    "median": lambda: score.median(),
    "quantile": lambda q: score.quantile(q, interpolation="linear"),
    "trimmed_mean": _polars_trimmed,
    "topk_mean": _polars_topk,
    "confident": _polars_confident,
    "logit_mean": _polars_logit_mean,
    "power_mean": lambda power: score.pow(power).mean().pow(1 / power),
    "lse": lambda sharpness: (sharpness * score).exp().mean().log() / sharpness,
    "autopool": _polars_autopool,
    "noisy_or": lambda: 1 - (-score).log1p().sum().exp(),
    "vote": lambda threshold: (score > threshold).cast(pl.Float64).mean(),
    "linear_softmax": lambda: (score * score).sum() / score.sum(),
    "sharpened_mean": _polars_sharpened,
}


def pool_polars(table, expression):
    # The lazy API lets polars plan the whole query; it ran faster than
    # the eager DataFrame.group_by on these frames.
    return table.lazy().group_by("video").agg(expression.alias("pooled")).collect()


# The statistics timed, with the parameters of VideoAggregator's defaults
# and q=0.9.
STATISTIC_PARAMS = {
    "mean": {},
    "max": {},
    "median": {},
    "quantile": {"q": 0.9},
    "trimmed_mean": {"trim": 0.1},
    "topk_mean": {"k": 0.2},
    "confident": {},
    "logit_mean": {},
    "power_mean": {"power": 2.0},
    "lse": {"sharpness": 5.0},
    "autopool": {"alpha": 5.0},
    "noisy_or": {},
    "vote": {"threshold": 0.5},
    "linear_softmax": {},
    "sharpened_mean": {"gamma": 0.5},
}


# Timing -------------------------------------------------------------------


def best_time(function, min_repeats=3, max_repeats=7, budget=1.0):
    """Return the fastest of several runs of ``function`` and its last result.

    Runs at least ``min_repeats`` times, and more (up to ``max_repeats``)
    while the total stays under ``budget`` seconds. The minimum is the run
    least disturbed by other processes.
    """
    times = []
    result = None
    started = time.perf_counter()
    while len(times) < max_repeats:
        gc.collect()
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
        if len(times) >= min_repeats and time.perf_counter() - started > budget:
            break
    return min(times), result


def pooled_from_pandas(result, n_videos):
    return result.reindex(np.arange(n_videos)).to_numpy(dtype=np.float64)


def pooled_from_polars(result, n_videos):
    pooled = np.full(n_videos, np.nan)
    pooled[result["video"].to_numpy()] = result["pooled"].fill_null(np.nan).to_numpy()
    return pooled


def time_statistic(frames, method, params, loop_videos):
    """Time one statistic with skpool cold and warm and with each peer."""
    values, offsets, n_videos = frames.values, frames.offsets, frames.n_videos

    def cold():
        return pool_frames(RaggedFrames(values, offsets), method, **params)

    warm_videos = RaggedFrames(values, offsets)
    warm_videos._sorted_frames()

    def warm():
        # Drop the cached pooled values, so that the statistic is computed
        # again from the cached sorted frames.
        warm_videos._pooled.clear()
        return pool_frames(warm_videos, method, **params)

    row = {}
    row["cold"], expected = best_time(cold)
    row["warm"], warm_result = best_time(warm, min_repeats=5, max_repeats=21)
    assert_allclose(warm_result, expected, rtol=0, atol=0)

    n_loop = min(loop_videos, n_videos)
    video_list = frames.video_list(n_loop)
    loop_time, loop_result = best_time(
        lambda: pool_loop(video_list, method, params), min_repeats=1, max_repeats=3
    )
    assert_allclose(loop_result, expected[:n_loop], rtol=RTOL, atol=ATOL)
    row["loop"] = loop_time * n_videos / n_loop
    row["loop_videos"] = n_loop

    row["pandas"], result = best_time(lambda: PANDAS[method](frames.pandas, **params))
    assert_allclose(
        pooled_from_pandas(result, n_videos), expected, rtol=RTOL, atol=ATOL
    )

    expression = POLARS[method](**params)
    row["polars"], result = best_time(lambda: pool_polars(frames.polars, expression))
    assert_allclose(
        pooled_from_polars(result, n_videos), expected, rtol=RTOL, atol=ATOL
    )
    return row


def measure_statistics(frames, loop_videos):
    rows = {}
    for method, params in STATISTIC_PARAMS.items():
        rows[method] = time_statistic(frames, method, params, loop_videos)
    return rows


def measure_pandas_apply(frames, n_videos):
    """Time scipy's trim_mean applied to each pandas group, on the first videos."""
    head = frames.head(n_videos)
    by_video = head.pandas.dropna().groupby("video")["score"]
    seconds, result = best_time(
        lambda: by_video.apply(lambda x: scipy.stats.trim_mean(x, 0.1)),
        min_repeats=1,
        max_repeats=1,
    )
    expected = pool_frames(
        RaggedFrames(head.values, head.offsets), "trimmed_mean", trim=0.1
    )
    assert_allclose(
        pooled_from_pandas(result, n_videos), expected, rtol=RTOL, atol=ATOL
    )
    return seconds * frames.n_videos / n_videos


# Grid search ----------------------------------------------------------------


class LoopAggregator(ClassifierMixin, BaseEstimator):
    """The naive estimator: pools each video with numpy in a Python loop.

    It takes the parameters of `VideoAggregator` that `default_grid` sets,
    and gives a video without valid frames the probability 0.5.
    """

    def __init__(
        self,
        *,
        method="mean",
        q=0.5,
        trim=0.1,
        k=0.2,
        power=2.0,
        sharpness=5.0,
        alpha=5.0,
        gamma=0.5,
        threshold=0.5,
        clip=None,
    ):
        self.method = method
        self.q = q
        self.trim = trim
        self.k = k
        self.power = power
        self.sharpness = sharpness
        self.alpha = alpha
        self.gamma = gamma
        self.threshold = threshold
        self.clip = clip

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        params = {
            name: getattr(self, name)
            for name in (
                "q",
                "trim",
                "k",
                "power",
                "sharpness",
                "alpha",
                "gamma",
                "threshold",
            )
            if name in STATISTIC_PARAMS_OF.get(self.method, ())
        }
        positive = pool_loop(X, self.method, params)
        positive[np.isnan(positive)] = 0.5
        if self.clip is not None:
            positive = np.clip(positive, self.clip, 1 - self.clip)
        return np.column_stack([1 - positive, positive])


STATISTIC_PARAMS_OF = {
    "quantile": ("q",),
    "trimmed_mean": ("trim",),
    "topk_mean": ("k",),
    "power_mean": ("power",),
    "lse": ("sharpness",),
    "autopool": ("alpha",),
    "sharpened_mean": ("gamma",),
    "vote": ("threshold",),
}


def one_candidate_per_method(grid, clip=0.02):
    """Return the first setting of each method of ``grid``, with one clip."""
    chosen = {}
    for candidate in ParameterGrid(grid):
        if candidate["clip"] == clip and candidate["method"] not in chosen:
            chosen[candidate["method"]] = candidate
    return [
        {name: [value] for name, value in candidate.items()}
        for candidate in chosen.values()
    ]


def run_search(estimator, grid, X, y, n_jobs=1):
    search = GridSearchCV(
        estimator, grid, cv=SEARCH_FOLDS, scoring="neg_log_loss", n_jobs=n_jobs
    )
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start, search


def measure_search(frames, loop_videos):
    """Time the default-grid search and compare it with its peers."""
    results = {}
    grid = default_grid()
    n_candidates = len(ParameterGrid(grid))
    X, y = RaggedFrames(frames.values, frames.offsets), frames.labels
    seconds, search = run_search(VideoAggregator(), grid, X, y)
    results["skpool_total"] = seconds
    results["n_candidates"] = n_candidates
    results["skpool_per_candidate"] = seconds / n_candidates
    results["best"] = search.best_params_
    results["best_score"] = search.best_score_

    results["pandas_quantile"], _ = best_time(
        lambda: frames.pandas.groupby("video")["score"].quantile(0.9)
    )

    # The naive loop runs one candidate per method on the first videos,
    # and its time per candidate is scaled to all videos.
    subset = one_candidate_per_method(grid)
    head = frames.head(min(loop_videos, frames.n_videos))
    loop_seconds, loop_search = run_search(
        LoopAggregator(), subset, head.video_list(), head.labels
    )
    subset_seconds, subset_search = run_search(
        VideoAggregator(), subset, RaggedFrames(head.values, head.offsets), head.labels
    )
    assert_allclose(
        loop_search.cv_results_["mean_test_score"],
        subset_search.cv_results_["mean_test_score"],
        rtol=RTOL,
    )
    scale = frames.n_videos / head.n_videos
    results["loop_subset"] = (len(subset), head.n_videos)
    results["loop_per_candidate"] = loop_seconds / len(subset) * scale
    results["skpool_subset_per_candidate"] = subset_seconds / len(subset)
    results["loop_subset_per_candidate"] = loop_seconds / len(subset)
    return results


def _sort_random(seed):
    """Sort a million random numbers three times: a task that only computes."""
    values = np.random.default_rng(seed).random(1_000_000)
    for _ in range(3):
        np.sort(values)


def measure_parallel(frames, list_videos):
    """Time the default-grid search with n_jobs=1 and n_jobs=2."""
    grid = default_grid()
    y = frames.labels
    results = {}
    # Start the worker processes before timing, as a session running
    # several searches does once.
    start = time.perf_counter()
    run_search(VideoAggregator(), grid, [[0.2, 0.4], [0.7]] * 5, [0, 1] * 5, n_jobs=2)
    results["worker_start"] = time.perf_counter() - start
    results[1] = results[2] = np.inf
    for _ in range(SEARCH_REPEATS):
        for n_jobs in (1, 2):
            X = RaggedFrames(frames.values, frames.offsets)
            seconds, _ = run_search(VideoAggregator(), grid, X, y, n_jobs=n_jobs)
            results[n_jobs] = min(results[n_jobs], seconds)

    # A second search on the same container finds its pooled values cached.
    X = RaggedFrames(frames.values, frames.offsets)
    run_search(VideoAggregator(), grid, X, y)
    for n_jobs in (1, 2):
        results[f"again_{n_jobs}"], _ = run_search(
            VideoAggregator(), grid, X, y, n_jobs=n_jobs
        )

    # A list of arrays is converted to a RaggedFrames in every fit and
    # prediction, so it runs on a subset of the grid and videos.
    subset = one_candidate_per_method(grid)[:4]
    head = frames.head(min(list_videos, frames.n_videos))
    video_list = head.video_list()
    for n_jobs in (1, 2):
        seconds, _ = run_search(
            VideoAggregator(), subset, video_list, head.labels, n_jobs
        )
        results[f"list_{n_jobs}"] = seconds
    results["list_subset"] = (len(subset), head.n_videos)

    # A control with no skpool in it: how much a second process gains on
    # this machine, for tasks that only compute.
    for n_jobs in (1, 2):
        start = time.perf_counter()
        joblib.Parallel(n_jobs=n_jobs)(
            joblib.delayed(_sort_random)(i) for i in range(40)
        )
        results[f"control_{n_jobs}"] = time.perf_counter() - start
    return results


# Memory ---------------------------------------------------------------------


def measure_memory(frames):
    """Return the peak memory of pooling each statistic, over the frame data size."""
    frame_bytes = 8 * frames.n_frames
    rows = {}
    for method, params in STATISTIC_PARAMS.items():
        gc.collect()
        tracemalloc.start()
        videos = RaggedFrames(frames.values, frames.offsets)
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        pool_frames(videos, method, **params)
        cold_peak = tracemalloc.get_traced_memory()[1] - before
        videos._pooled.clear()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        pool_frames(videos, method, **params)
        warm_peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
        rows[method] = (cold_peak / frame_bytes, warm_peak / frame_bytes)
    return rows


# Report ---------------------------------------------------------------------


def machine_description():
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    return {
        "CPU": model,
        "cores available (nproc)": len(os.sched_getaffinity(0)),
        "memory": memory,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "not set"),
    }


def library_versions():
    return {
        "skpool": skpool.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "pandas": pd.__version__,
        "polars": pl.__version__,
        "joblib": joblib.__version__,
    }


def seconds_text(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def statistics_table(n_videos, n_frames, rows):
    loop_videos = min(row["loop_videos"] for row in rows.values())
    scaled = loop_videos < n_videos
    loop_header = "numpy loop" + (" (scaled)" if scaled else "")
    header = [
        "statistic",
        "skpool cold",
        "skpool warm",
        loop_header,
        "pandas",
        "polars",
        "pandas ÷ cold",
        "pandas ÷ warm",
        "polars ÷ cold",
        "polars ÷ warm",
        "loop ÷ warm",
    ]
    body = []
    for method, row in rows.items():
        body.append(
            [
                method,
                seconds_text(row["cold"]),
                seconds_text(row["warm"]),
                seconds_text(row["loop"]),
                seconds_text(row["pandas"]),
                seconds_text(row["polars"]),
                f"{row['pandas'] / row['cold']:.1f}",
                f"{row['pandas'] / row['warm']:.1f}",
                f"{row['polars'] / row['cold']:.1f}",
                f"{row['polars'] / row['warm']:.1f}",
                f"{row['loop'] / row['warm']:.0f}",
            ]
        )
    title = f"### {n_videos:,} videos, {n_frames:,} frames"
    note = ""
    if scaled:
        note = (
            f"\n\nThe numpy loop ran on the first {loop_videos:,} videos; its time is "
            "scaled linearly to all videos."
        )
    return f"{title}\n\n{table(header, body)}{note}"


def target_lines(statistics, search, memory, parallel):
    """Return one line per target, met or missed, with the measured numbers."""
    lines = []
    for kind in ("warm", "cold"):
        for peer in ("pandas", "polars"):
            speedups = {
                method: row[peer] / row[kind] for method, row in statistics.items()
            }
            slow = [
                f"{method} {speedup:.1f}x"
                for method, speedup in speedups.items()
                if speedup < 5
            ]
            if slow:
                verdict = (
                    f"MISSED by {len(slow)} of {len(speedups)} statistics: "
                    + ", ".join(slow)
                )
            else:
                verdict = f"met; the smallest speed-up is {min(speedups.values()):.1f}x"
            lines.append(
                f"- Every statistic at least 5x faster than {peer}, skpool {kind}: "
                f"{verdict}."
            )
    if search is not None:
        per_candidate = search["skpool_per_candidate"]
        quantile = search["pandas_quantile"]
        met = "met" if per_candidate < quantile else "MISSED"
        lines.append(
            f"- Default-grid search cheaper per candidate than one pandas groupby "
            f"quantile: {met}; {seconds_text(per_candidate)} per candidate against "
            f"{seconds_text(quantile)}."
        )
    worst_cold = max((cold, method) for method, (cold, _) in memory.items())
    met = "met" if worst_cold[0] < 3 else "MISSED"
    lines.append(
        f"- Peak extra memory of pooling below 3x the frame data: {met}; at most "
        f"{worst_cold[0]:.2f}x cold ({worst_cold[1]}), sorted copy included."
    )
    if parallel is not None:
        met = "met" if parallel[2] <= parallel[1] else "MISSED"
        lines.append(
            f"- n_jobs=2 not slower than n_jobs=1: {met}; {seconds_text(parallel[2])} "
            f"against {seconds_text(parallel[1])}."
        )
    return lines


# Causes of the targets this benchmark misses, found by profiling with
# cProfile on the machine of RESULTS.md. They are printed with every run,
# whether or not that run missed them.
MISSED_TARGET_CAUSES = """\
## Where skpool falls short, and why

- **Cold pooling** includes removing NaN frames and sorting every video's
  frames, which takes most of the cold time (compare cold and warm). A
  container pays it once, for all statistics and all folds of a search.
  Cold reaches 5x mostly where the peers must sort or rank frames
  themselves (trimmed_mean, topk_mean). A single cheap statistic such as
  mean, computed once, is as fast in pandas or polars.
- **polars** runs its group_by on every core, and so does skpool from
  about 260,000 frames on, in blocks of consecutive videos
  (`SKPOOL_NUM_THREADS` sets the number of threads). polars evaluates an
  expression in one pass over each group, while skpool makes one numpy
  pass over all frames per operation: about 2 ms per 3.2 million frames
  on one core for a reduceat sum, exp or square root, more for log. On
  an idle machine polars takes about 17 ms for the mean, so even
  skpool's mean, a single sum, ends near 5x, and statistics of several
  passes stay within it: sharpened_mean (a power, a sign and two sums),
  autopool (exp and two sums), confident (two counts, then one mean per
  video), logit_mean, power_mean and linear_softmax. lse also gathers
  the frames of the videos whose mean of exp is near 1 (about 15% at
  sharpness 5) to compute expm1, which keeps their digits.
- **Grid search**: a candidate is 5 fits and 5 scorings, and most of
  their time goes to scikit-learn's own checks: `log_loss` validates and
  one-hot encodes the labels of every fold, and fit checks the targets
  with `type_of_target`. The pooling itself is cached per statistic.
- **n_jobs=2**: a search task (one fit and one scoring) is about 7 ms of
  work at 100,000 videos, and joblib sends every batch of tasks to a
  worker process with its own copies of the arrays below its 1 MB
  memory-mapping threshold: the container's offsets, the labels and the
  train and test indices, about 3 MB per task. Each worker also unpickles
  a new container per batch, whose cache of pooled values starts empty,
  so it pools again what the previous batch pooled. A container that
  has pooled values pickles them with itself, one array per statistic
  below that threshold, so a second search on the same container sends
  them with every batch (the second-search row). The control row shows
  what a second process gains on this machine for tasks that only
  compute.
"""


def render(context):
    machine, versions = context["machine"], context["versions"]
    parts = [
        "# Benchmark results",
        "",
        "Written by `python benchmarks/run.py"
        + (" --quick" if context["quick"] else "")
        + f"` on {context['date']}, in {context['elapsed']:.0f} s. See "
        "[README.md](README.md) for what each column measures.",
        "",
        "## Machine",
        "",
        table(
            ["", ""],
            [*machine.items(), ("load average at start, end", context["load"])],
        ),
        "",
        context["shared_note"],
        "",
        "## Versions",
        "",
        table(["library", "version"], list(versions.items())),
        "",
        "## Targets",
        "",
        f"Measured at {max(context['statistics']):,} videos"
        + (
            "; a quick run, while the targets are set at 100,000 videos."
            if context["quick"]
            else "."
        ),
        "",
        *context["targets"],
        "",
        MISSED_TARGET_CAUSES,
        "## Pooling one statistic",
        "",
        "Times are the fastest of several runs. Speed-ups are the peer's time "
        "divided by skpool's; above 1 means skpool is faster. *Cold* builds a "
        "`RaggedFrames` from the flat frames and pools it, so it includes the "
        "sort of the frames within each video; *warm* pools a container whose "
        "sorted frames are already cached, as every candidate after the first "
        "in a search does.",
        "",
    ]
    for n_videos, (n_frames, rows) in context["statistics"].items():
        parts += [statistics_table(n_videos, n_frames, rows), ""]
    if context.get("apply") is not None:
        n_videos = max(context["statistics"])
        parts += [
            f"For contrast, pandas `groupby(...).apply` with `scipy.stats.trim_mean` "
            f"per video takes {seconds_text(context['apply'])} for trimmed_mean at "
            f"{n_videos:,} videos (run on the first {LOOP_VIDEOS:,} videos and "
            "scaled).",
            "",
        ]
    search = context.get("search")
    if search is not None:
        n_subset, loop_videos = search["loop_subset"]
        n_videos = context["search_videos"]
        parts += [
            "## Grid search",
            "",
            f"`GridSearchCV(VideoAggregator(), default_grid(), cv={SEARCH_FOLDS}, "
            f'scoring="neg_log_loss")` on {n_videos:,} videos '
            f"({search['n_candidates']} candidates, "
            f"{search['n_candidates'] * SEARCH_FOLDS} fits), starting from a new "
            "`RaggedFrames`:",
            "",
            table(
                ["measure", "time"],
                [
                    ("whole search", seconds_text(search["skpool_total"])),
                    ("per candidate", seconds_text(search["skpool_per_candidate"])),
                    (
                        "one pandas groupby quantile(0.9) over the same frames",
                        seconds_text(search["pandas_quantile"]),
                    ),
                    (
                        f"naive loop estimator per candidate (scaled from "
                        f"{loop_videos:,} videos)",
                        seconds_text(search["loop_per_candidate"]),
                    ),
                ],
            ),
            "",
            f"The naive estimator (`LoopAggregator` in `run.py`) ran {n_subset} "
            f"candidates, one per method with clip=0.02, on the first {loop_videos:,} "
            f"videos: {seconds_text(search['loop_subset_per_candidate'])} per "
            f"candidate, against {seconds_text(search['skpool_subset_per_candidate'])} "
            "for VideoAggregator on the same candidates and videos. Both found "
            "the same cross-validated log losses. The best candidate of the full "
            f"search is `{search['best']}` (neg_log_loss {search['best_score']:.4f}).",
            "",
        ]
    parallel = context.get("parallel")
    if parallel is not None:
        n_subset, list_videos = parallel["list_subset"]
        parts += [
            "## Parallel search",
            "",
            f"The first row is the fastest of {SEARCH_REPEATS} runs of each "
            "setting, alternating; the other rows ran once.",
            "",
            table(
                ["input", "n_jobs=1", "n_jobs=2"],
                [
                    (
                        "RaggedFrames, default grid, "
                        f"{context['search_videos']:,} videos",
                        seconds_text(parallel[1]),
                        seconds_text(parallel[2]),
                    ),
                    (
                        "the same RaggedFrames, searched a second time",
                        seconds_text(parallel["again_1"]),
                        seconds_text(parallel["again_2"]),
                    ),
                    (
                        f"list of arrays, {n_subset} candidates, "
                        f"{list_videos:,} videos",
                        seconds_text(parallel["list_1"]),
                        seconds_text(parallel["list_2"]),
                    ),
                    (
                        "control: 40 numpy sorts of 1 M numbers, no skpool",
                        seconds_text(parallel["control_1"]),
                        seconds_text(parallel["control_2"]),
                    ),
                ],
            ),
            "",
            f"Starting the two worker processes took "
            f"{seconds_text(parallel['worker_start'])} before the timed searches.",
            "",
        ]
    memory = context["memory"]
    parts += [
        "## Peak memory of pooling",
        "",
        f"Peak memory allocated while pooling {context['memory_videos']:,} videos "
        "(tracemalloc), divided by the frame data (8 bytes x frames). *Cold* "
        "includes the sorted copy of the frames that the container keeps.",
        "",
        table(
            ["statistic", "cold", "warm"],
            [
                (method, f"{cold:.2f}x", f"{warm:.2f}x")
                for method, (cold, warm) in memory.items()
            ],
        ),
        "",
    ]
    return "\n".join(parts)


def load_average():
    return " / ".join(f"{value:.1f}" for value in os.getloadavg()[:1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="measure 1,000 and 10,000 videos only (about 2 minutes)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).with_name("RESULTS.md"),
        help="Markdown file the results are written to (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    started = time.perf_counter()
    load_start = load_average()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    frames = generate_frames(max(sizes))
    context = {"quick": args.quick, "date": date, "statistics": {}}
    for n_videos in sizes:
        subset = frames.head(n_videos)
        print(
            f"Pooling {n_videos:,} videos ({subset.n_frames:,} frames)...", flush=True
        )
        rows = measure_statistics(subset, LOOP_VIDEOS)
        context["statistics"][n_videos] = (subset.n_frames, rows)
        print(statistics_table(n_videos, subset.n_frames, rows), flush=True)
    context["apply"] = measure_pandas_apply(frames, min(LOOP_VIDEOS, frames.n_videos))

    print(f"Grid search on {frames.n_videos:,} videos...", flush=True)
    context["search_videos"] = frames.n_videos
    context["search"] = measure_search(frames, LOOP_VIDEOS)
    print("Parallel search...", flush=True)
    context["parallel"] = measure_parallel(frames, LOOP_VIDEOS)
    print("Memory...", flush=True)
    context["memory_videos"] = frames.n_videos
    context["memory"] = measure_memory(frames)

    context["machine"] = machine_description()
    context["versions"] = library_versions()
    context["load"] = f"{load_start}, {load_average()}"
    context["shared_note"] = SHARED_NOTE
    context["targets"] = target_lines(
        context["statistics"][max(sizes)][1],
        context["search"],
        context["memory"],
        context["parallel"],
    )
    context["elapsed"] = time.perf_counter() - started
    report = render(context)
    print(report)
    args.output.write_text(report + "\n")
    print(f"Wrote {args.output}")
    return 0


SHARED_NOTE = (
    "Other processes shared these cores during the run (see the load "
    "average), so times are the fastest of several runs and ratios below "
    "about 1.2 are within the noise."
)


if __name__ == "__main__":
    sys.exit(main())
