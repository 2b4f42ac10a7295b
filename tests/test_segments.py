"""Segment reductions and blockwise, multi-threaded pooling against per-video loops."""

import itertools
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from skpool import STATISTICS, RaggedFrames, _stats
from skpool._segments import segment_product, segment_sum, window_sum
from skpool._stats import pool_frames

ATOL = 1e-12


def lengths_with_empty(rng, n=60):
    lengths = rng.integers(0, 40, size=n)
    lengths[[0, 7, -1]] = 0
    return lengths


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_segment_sum_and_product_match_loop(seed):
    rng = np.random.default_rng(seed)
    lengths = lengths_with_empty(rng)
    values = rng.random(lengths.sum())
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    sums = [values[a:b].sum() for a, b in itertools.pairwise(bounds)]
    products = [np.prod(values[a:b]) for a, b in itertools.pairwise(bounds)]
    np.testing.assert_allclose(segment_sum(values, lengths), sums, rtol=1e-13)
    np.testing.assert_allclose(segment_product(values, lengths), products, rtol=1e-13)


def test_segment_sum_counts_flags_past_255():
    flags = np.ones(300, dtype=np.uint8)
    counted = segment_sum(flags, np.array([0, 300]), dtype=np.int64)
    np.testing.assert_array_equal(counted, [0, 300])


@pytest.mark.parametrize("seed", [0, 1])
def test_window_sum_matches_loop(seed):
    rng = np.random.default_rng(seed)
    values = rng.random(500)
    starts = rng.integers(0, 500, size=40)
    widths = np.minimum(rng.integers(0, 30, size=40), 500 - starts)
    widths[:3] = 0
    expected = [values[s : s + w].sum() for s, w in zip(starts, widths)]
    np.testing.assert_allclose(window_sum(values, starts, widths), expected, rtol=1e-13)


def test_window_sum_of_tiling_windows():
    values = np.arange(10.0)
    sums = window_sum(values, np.array([0, 3, 3, 7]), np.array([3, 0, 4, 3]))
    np.testing.assert_array_equal(sums, [3.0, 0.0, 18.0, 24.0])


def make_frames(seed, n_videos=400):
    """Seeded scores of 0 to 60 frames per video, with exact 0, 1 and ties."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 61, size=n_videos)
    values = rng.random(lengths.sum())
    values[rng.random(values.size) < 0.03] = 0.0
    values[rng.random(values.size) < 0.03] = 1.0
    values[rng.random(values.size) < 0.05] = np.nan
    return RaggedFrames.from_lengths(values, lengths)


@pytest.fixture
def many_small_blocks(monkeypatch):
    """Make every statistic cut its frames into many blocks run on 3 threads."""
    monkeypatch.setattr(_stats, "_BLOCK_FRAMES", 97)
    monkeypatch.setattr(_stats, "_SUM_BLOCK_FRAMES", 211)
    monkeypatch.setattr(_stats, "_MIN_PARALLEL_FRAMES", 0)
    monkeypatch.setenv("SKPOOL_NUM_THREADS", "3")


def reference(method, frames):
    if method == "mean":
        return frames.mean()
    if method == "noisy_or":
        return 1 - np.prod(1 - frames)
    if method == "vote":
        return np.mean(frames > 0.5)
    if method == "lse":
        return np.log(np.mean(np.exp(5.0 * frames))) / 5.0
    if method == "power_mean":
        return np.mean(frames**2.0) ** 0.5
    if method == "autopool":
        weights = np.exp(5.0 * frames)
        return np.sum(weights * frames) / np.sum(weights)
    if method == "logit_mean":
        clipped = np.clip(frames, 1e-6, 1 - 1e-6)
        mean = np.mean(np.log(clipped / (1 - clipped)))
        return 1 / (1 + np.exp(-mean))
    raise AssertionError(method)


@pytest.mark.parametrize(
    "method",
    ["mean", "noisy_or", "vote", "lse", "power_mean", "autopool", "logit_mean"],
)
def test_threaded_blocks_match_loop(many_small_blocks, monkeypatch, method):
    helpers = []
    real_helper_threads = _stats._helper_threads
    monkeypatch.setattr(
        _stats,
        "_helper_threads",
        lambda size: helpers.append(size) or real_helper_threads(size),
    )
    videos = make_frames(0)
    params = {"sharpness": 5.0, "power": 2.0, "alpha": 5.0}
    pooled = pool_frames(videos, method, **params)
    assert helpers and set(helpers) == {2}
    expected = []
    for frames in videos.to_list():
        frames = frames[~np.isnan(frames)]
        expected.append(reference(method, frames) if frames.size else np.nan)
    np.testing.assert_allclose(pooled, expected, rtol=1e-12, atol=ATOL)


@pytest.mark.parametrize("method", sorted(STATISTICS))
def test_threads_do_not_change_results(monkeypatch, method):
    videos = make_frames(1)
    one_thread = []
    for threads in ("1", "3"):
        monkeypatch.setenv("SKPOOL_NUM_THREADS", threads)
        monkeypatch.setattr(_stats, "_BLOCK_FRAMES", 97)
        monkeypatch.setattr(_stats, "_SUM_BLOCK_FRAMES", 211)
        monkeypatch.setattr(_stats, "_MIN_PARALLEL_FRAMES", 0)
        videos._pooled.clear()
        one_thread.append(pool_frames(videos, method, power=-2.0, sharpness=-3.0))
    np.testing.assert_array_equal(one_thread[0], one_thread[1])


def test_threads_keep_caller_errstate(many_small_blocks):
    # A negative power divides by the zero scores. pool_frames silences
    # that warning, and the helper threads must silence it too.
    videos = make_frames(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pooled = pool_frames(videos, "power_mean", power=-1.5)
    assert not np.isnan(pooled[videos.lengths > 0]).all()


@pytest.mark.parametrize("setting", ["0", "-2", "two", "1.5"])
def test_thread_setting_invalid(monkeypatch, setting):
    monkeypatch.setenv("SKPOOL_NUM_THREADS", setting)
    with pytest.raises(ValueError, match=r"SKPOOL_NUM_THREADS=.* positive integer"):
        _stats._thread_count()


def test_thread_count_follows_settings(monkeypatch):
    monkeypatch.delenv("SKPOOL_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3,2")
    assert _stats._thread_count() == 3
    monkeypatch.setenv("SKPOOL_NUM_THREADS", "5")
    assert _stats._thread_count() == 5
    monkeypatch.delenv("SKPOOL_NUM_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "")
    assert _stats._thread_count() >= 1


def test_concurrent_callers_share_helpers(many_small_blocks):
    # Several searches on threads call pool_frames at once, each on its own
    # container, while the helper threads serve all of them.
    methods = sorted(STATISTICS)
    params = {"power": 2.5, "sharpness": 3.0, "alpha": 2.0}
    expected = {}
    for method in methods:
        expected[method] = pool_frames(make_frames(3), method, **params)

    def pool(method):
        return method, pool_frames(make_frames(3), method, **params)

    with ThreadPoolExecutor(4) as callers:
        pooled = dict(callers.map(pool, methods * 2))
    for method in methods:
        np.testing.assert_array_equal(pooled[method], expected[method])
