"""Pooling statistics against per-video references in plain numpy and scipy."""

import math

import numpy as np
import pytest
import scipy.stats
from scipy.special import expit, logit

from skpool import STATISTICS, RaggedFrames, VideoAggregator
from skpool._stats import pool_frames

QUANTILE_METHODS = [
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
]
LEVELS = [0.0, 0.01, 0.1, 0.25, 0.5, 0.7, 0.75, 0.9, 0.95, 0.99, 1.0]
ATOL = 1e-12


def make_videos(seed, n_videos=150):
    """Return seeded frame scores with NaN holes, ties and 1 to 300 frames."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 301, size=n_videos)
    lengths[:6] = [1, 2, 3, 4, 299, 300]
    videos = []
    for position, n in enumerate(lengths):
        kind = position % 6
        if kind == 0:
            frames = rng.random(n)
        elif kind == 1:
            # Two decimals: many repeated values.
            frames = np.round(rng.random(n), 2)
        elif kind == 2:
            # Few distinct values, so ties everywhere, with exact 0 and 1.
            frames = rng.choice([0.0, 0.1, 0.5, 0.9, 1.0], size=n)
        elif kind == 3:
            # Mostly confident frames, so the confident rule picks a branch.
            frames = np.where(rng.random(n) < 0.8, 0.95, 0.05) + rng.normal(0, 0.02, n)
            frames = np.clip(frames, 0.0, 1.0)
        elif kind == 4:
            frames = rng.beta(0.3, 0.3, size=n)
        else:
            frames = np.full(n, rng.random())
        if position % 3 == 0 and n > 1:
            # NaN holes inside the video, but at least one valid frame.
            holes = rng.random(n) < 0.2
            holes[rng.integers(n)] = False
            frames = np.where(holes, np.nan, frames)
        videos.append(frames)
    videos.extend(
        [np.zeros(5), np.ones(7), np.array([0.0, 1.0]), np.array([0.8] * 13 + [0.9])]
    )
    return videos


VIDEOS = make_videos(0)


# References, one video at a time, written from each statistic's definition.


def reference_topk_mean(frames, k):
    if isinstance(k, int):
        count = min(len(frames), k)
    else:
        count = min(len(frames), max(1, math.floor(k * len(frames))))
    return np.mean(np.sort(frames)[::-1][:count])


def reference_logit_mean(frames):
    return expit(np.mean(logit(np.clip(frames, 1e-6, 1 - 1e-6))))


def reference_confident(frames):
    n = len(frames)
    high = [value for value in frames if value > 0.8]
    low = [value for value in frames if value < 0.2]
    if len(high) > n // 2.5 and len(high) > 11:
        return sum(high) / len(high)
    if len(low) > 0.9 * n:
        return sum(low) / len(low)
    return sum(frames) / n


def reference_power_mean(frames, power):
    if power == 0:
        if np.any(frames == 0):
            return 0.0
        return np.exp(np.mean(np.log(frames)))
    if power < 0 and np.any(frames == 0):
        # x ** power is infinite at 0, so the mean is infinite and its
        # 1 / power root is 0.
        return 0.0
    return np.mean(frames**power) ** (1 / power)


def reference_lse(frames, sharpness):
    if sharpness == 0:
        return np.mean(frames)
    return np.log(np.mean(np.exp(sharpness * frames))) / sharpness


def reference_linear_softmax(frames):
    total = np.sum(frames)
    if total == 0:
        return 0.0
    return np.sum(frames**2) / total


def reference_autopool(frames, alpha):
    weights = np.exp(alpha * frames)
    return np.sum(weights * frames) / np.sum(weights)


def reference_sharpened_mean(frames, gamma):
    distance = frames - 0.5
    sharpened = 0.5 + 0.5 * np.sign(distance) * (2 * np.abs(distance)) ** gamma
    weights = np.maximum(np.abs(distance), 1e-3)
    return np.sum(weights * sharpened) / np.sum(weights)


# (method, parameters, reference taking a video's non-NaN frames)
CASES = [
    ("mean", {}, np.mean),
    ("median", {}, np.median),
    ("max", {}, np.max),
    ("min", {}, np.min),
    ("logit_mean", {}, reference_logit_mean),
    ("confident", {}, reference_confident),
    ("noisy_or", {}, lambda frames: 1 - np.prod(1 - frames)),
    ("linear_softmax", {}, reference_linear_softmax),
]
CASES += [
    ("trimmed_mean", {"trim": trim}, lambda f, t=trim: scipy.stats.trim_mean(f, t))
    for trim in [0.0, 0.05, 0.1, 0.2, 0.25, 0.3, 0.45, 0.49]
]
CASES += [
    ("topk_mean", {"k": k}, lambda f, k=k: reference_topk_mean(f, k))
    for k in [1, 3, 10, 299, 300, 1000, 0.01, 0.1, 0.2, 0.5, 0.999, 1.0]
]
CASES += [
    ("power_mean", {"power": p}, lambda f, p=p: reference_power_mean(f, p))
    for p in [-20.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3, 20.0]
]
CASES += [
    ("lse", {"sharpness": r}, lambda f, r=r: reference_lse(f, r))
    for r in [-20.0, -5.0, -1.0, 0.0, 0.5, 1.0, 5.0, 20.0]
]
CASES += [
    ("vote", {"threshold": t}, lambda f, t=t: np.mean(f > t))
    for t in [0.0, 0.2, 0.5, 0.8, 1.0]
]
CASES += [
    ("autopool", {"alpha": a}, lambda f, a=a: reference_autopool(f, a))
    for a in [-20.0, -5.0, -1.0, 0.0, 1.0, 5.0, 20.0]
]
CASES += [
    ("sharpened_mean", {"gamma": g}, lambda f, g=g: reference_sharpened_mean(f, g))
    for g in [0.25, 0.5, 0.75, 1.0, 2.0]
]


def case_id(case):
    method, params, _ = case
    return "-".join([method] + [f"{key}={value!r}" for key, value in params.items()])


def reference_values(videos, reference):
    """Apply ``reference`` to each video's non-NaN frames, NaN for no frames."""
    pooled = []
    for frames in videos:
        frames = np.asarray(frames, dtype=np.float64)
        frames = frames[~np.isnan(frames)]
        pooled.append(reference(frames) if frames.size else np.nan)
    return np.array(pooled, dtype=np.float64)


def labels_for(n_videos):
    return np.arange(n_videos) % 2


def test_cases_cover_every_statistic():
    """Every registered statistic has a reference test here."""
    covered = {method for method, _, _ in CASES} | {"quantile"}
    assert covered == set(STATISTICS)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_statistic_matches_reference(case):
    """pool_frames matches the per-video reference on ragged data."""
    method, params, reference = case
    expected = reference_values(VIDEOS, reference)
    assert not np.isnan(expected).any()

    pooled = pool_frames(RaggedFrames.from_list(VIDEOS), method, **params)

    np.testing.assert_allclose(pooled, expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_transform_matches_reference(case):
    """VideoAggregator.transform returns the same values as the reference."""
    method, params, reference = case
    expected = reference_values(VIDEOS, reference)
    model = VideoAggregator(method=method, **params)

    pooled = model.fit(VIDEOS, labels_for(len(VIDEOS))).transform(VIDEOS)

    assert pooled.shape == (len(VIDEOS), 1)
    assert pooled.dtype == np.float64
    np.testing.assert_allclose(pooled[:, 0], expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("quantile_method", QUANTILE_METHODS)
def test_quantile_matches_numpy(quantile_method):
    """Every numpy.quantile method and level matches np.quantile per video."""
    videos = RaggedFrames.from_list(VIDEOS)
    for q in LEVELS:
        expected = reference_values(
            VIDEOS, lambda frames: np.quantile(frames, q, method=quantile_method)
        )

        pooled = pool_frames(videos, "quantile", q=q, quantile_method=quantile_method)

        np.testing.assert_allclose(
            pooled, expected, rtol=0, atol=ATOL, err_msg=f"q={q}"
        )


@pytest.mark.parametrize("quantile_method", QUANTILE_METHODS)
def test_quantile_transform_matches_numpy(quantile_method):
    """VideoAggregator(method="quantile") matches np.quantile per video."""
    y = labels_for(len(VIDEOS))
    for q in [0.0, 0.3, 0.9, 1.0]:
        expected = reference_values(
            VIDEOS, lambda frames: np.quantile(frames, q, method=quantile_method)
        )
        model = VideoAggregator(method="quantile", q=q, quantile_method=quantile_method)

        pooled = model.fit(VIDEOS, y).transform(VIDEOS)[:, 0]

        np.testing.assert_allclose(
            pooled, expected, rtol=0, atol=ATOL, err_msg=f"q={q}"
        )


def test_quantile_extremes_are_min_and_max():
    """q=0 is the min and q=1 the max for every method."""
    videos = RaggedFrames.from_list(VIDEOS)
    minimum = reference_values(VIDEOS, np.min)
    maximum = reference_values(VIDEOS, np.max)
    for quantile_method in QUANTILE_METHODS:
        low = pool_frames(videos, "quantile", q=0.0, quantile_method=quantile_method)
        high = pool_frames(videos, "quantile", q=1.0, quantile_method=quantile_method)

        np.testing.assert_array_equal(low, minimum, err_msg=quantile_method)
        np.testing.assert_array_equal(high, maximum, err_msg=quantile_method)


def test_median_is_linear_half_quantile():
    """The median equals np.median, also for even numbers of frames."""
    videos = [np.array([0.1, 0.4, 0.2, 0.9]), np.array([0.3, 0.3, 0.7])]

    pooled = pool_frames(RaggedFrames.from_list(videos), "median")

    np.testing.assert_allclose(pooled, [0.3, 0.3], rtol=0, atol=ATOL)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_other_seeds_match_reference(seed):
    """A few statistics on other seeds, to vary lengths and NaN positions."""
    videos = make_videos(seed, n_videos=60)
    ragged = RaggedFrames.from_list(videos)
    checks = [
        ("confident", {}, reference_confident),
        ("trimmed_mean", {"trim": 0.2}, lambda f: scipy.stats.trim_mean(f, 0.2)),
        ("topk_mean", {"k": 0.25}, lambda f: reference_topk_mean(f, 0.25)),
        ("median", {}, np.median),
    ]
    for method, params, reference in checks:
        expected = reference_values(videos, reference)

        pooled = pool_frames(ragged, method, **params)

        np.testing.assert_allclose(pooled, expected, rtol=0, atol=ATOL, err_msg=method)


# The confident rule at its boundaries.


def confident_video(n_high, n_low, n_frames=32, seed=0):
    """Return ``n_frames`` scores: n_high above 0.8, n_low below 0.2, the rest 0.5."""
    rng = np.random.default_rng(seed)
    high = rng.uniform(0.81, 1.0, n_high)
    low = rng.uniform(0.0, 0.19, n_low)
    middle = np.full(n_frames - n_high - n_low, 0.5)
    return rng.permutation(np.concatenate([high, low, middle])), high, low


def pool_one(frames, **params):
    return pool_frames(RaggedFrames.from_list([frames]), "confident", **params)[0]


def test_confident_12_of_32_high_uses_mean():
    """12 frames above 0.8 of 32 are not more than 32 // 2.5 = 12."""
    frames, _, _ = confident_video(n_high=12, n_low=0)

    assert pool_one(frames) == pytest.approx(np.mean(frames), rel=0, abs=ATOL)


def test_confident_13_of_32_high_uses_high_mean():
    """13 frames above 0.8 of 32 are more than 12 and more than 11."""
    frames, high, _ = confident_video(n_high=13, n_low=0)

    assert pool_one(frames) == pytest.approx(np.mean(high), rel=0, abs=ATOL)


def test_confident_high_needs_more_than_11():
    """With 20 frames, 11 high are more than 20 // 2.5 = 8 but not more than 11."""
    frames, _, _ = confident_video(n_high=11, n_low=0, n_frames=20)
    more_frames, high, _ = confident_video(n_high=12, n_low=0, n_frames=20)

    assert pool_one(frames) == pytest.approx(np.mean(frames), rel=0, abs=ATOL)
    assert pool_one(more_frames) == pytest.approx(np.mean(high), rel=0, abs=ATOL)


def test_confident_28_of_32_low_uses_mean():
    """28 frames below 0.2 of 32 are not more than 90% (28.8)."""
    frames, _, _ = confident_video(n_high=0, n_low=28)

    assert pool_one(frames) == pytest.approx(np.mean(frames), rel=0, abs=ATOL)


def test_confident_29_of_32_low_uses_low_mean():
    """29 frames below 0.2 of 32 are more than 90% (28.8)."""
    frames, _, low = confident_video(n_high=0, n_low=29)

    assert pool_one(frames) == pytest.approx(np.mean(low), rel=0, abs=ATOL)


def test_confident_thresholds_are_strict():
    """Scores of exactly 0.8 or 0.2 are neither confidently high nor low."""
    at_high = np.array([0.8] * 13 + [0.5] * 19)
    at_low = np.array([0.2] * 29 + [0.5] * 3)

    assert pool_one(at_high) == pytest.approx(np.mean(at_high), rel=0, abs=ATOL)
    assert pool_one(at_low) == pytest.approx(np.mean(at_low), rel=0, abs=ATOL)


def test_confident_ignores_nan_frames():
    """NaN frames count neither in n nor in either side."""
    frames, high, _ = confident_video(n_high=13, n_low=0)
    with_nan = np.concatenate([frames, np.full(40, np.nan)])

    assert pool_one(with_nan) == pytest.approx(np.mean(high), rel=0, abs=ATOL)


def test_confident_parameters_change_the_rule():
    """confident_* parameters move the thresholds and counts."""
    frames, _, _ = confident_video(n_high=12, n_low=0)
    high = frames[frames > 0.8]

    pooled = pool_one(frames, confident_min_count=5, confident_divisor=3.0)

    assert pooled == pytest.approx(np.mean(high), rel=0, abs=ATOL)


# Limits of the parametric statistics.


def grid_videos(seed=0, n_videos=40):
    """Return videos of scores on a 0.01 grid, so distinct scores are 0.01 apart."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 301, size=n_videos)
    return [np.round(rng.uniform(0.01, 1.0, n), 2) for n in lengths]


@pytest.mark.parametrize(
    "method, name",
    [("power_mean", "power"), ("lse", "sharpness"), ("autopool", "alpha")],
)
def test_parametric_limits(method, name):
    """Large negative values tend to the min, large positive ones to the max."""
    videos = grid_videos()
    ragged = RaggedFrames.from_list(videos)
    minimum = reference_values(videos, np.min)
    maximum = reference_values(videos, np.max)

    low = pool_frames(ragged, method, **{name: -1e6})
    high = pool_frames(ragged, method, **{name: 1e6})

    np.testing.assert_allclose(low, minimum, rtol=0, atol=1e-4)
    np.testing.assert_allclose(high, maximum, rtol=0, atol=1e-4)
    assert np.all(low >= minimum - ATOL)
    assert np.all(high <= maximum + ATOL)


@pytest.mark.parametrize("method, name", [("lse", "sharpness"), ("autopool", "alpha")])
def test_parametric_zero_is_mean(method, name):
    """sharpness=0 and alpha=0 give the mean, and tiny values are close to it."""
    videos = grid_videos()
    ragged = RaggedFrames.from_list(videos)
    mean = reference_values(videos, np.mean)

    np.testing.assert_allclose(
        pool_frames(ragged, method, **{name: 0.0}), mean, atol=ATOL
    )
    np.testing.assert_allclose(
        pool_frames(ragged, method, **{name: 1e-9}), mean, atol=1e-8
    )
    np.testing.assert_allclose(
        pool_frames(ragged, method, **{name: -1e-9}), mean, atol=1e-8
    )


def test_power_mean_zero_is_geometric_mean():
    """power=0 is the geometric mean, the limit of small powers."""
    videos = grid_videos()
    ragged = RaggedFrames.from_list(videos)
    geometric = reference_values(videos, scipy.stats.gmean)

    np.testing.assert_allclose(
        pool_frames(ragged, "power_mean", power=0), geometric, atol=ATOL
    )
    np.testing.assert_allclose(
        pool_frames(ragged, "power_mean", power=1e-9), geometric, atol=1e-8
    )
    np.testing.assert_allclose(
        pool_frames(ragged, "power_mean", power=-1e-9), geometric, atol=1e-8
    )


def test_power_mean_classic_means():
    """power=1 is the arithmetic mean and power=-1 the harmonic mean."""
    videos = grid_videos()
    ragged = RaggedFrames.from_list(videos)

    mean = pool_frames(ragged, "power_mean", power=1.0)
    harmonic = pool_frames(ragged, "power_mean", power=-1.0)

    np.testing.assert_allclose(mean, reference_values(videos, np.mean), atol=ATOL)
    np.testing.assert_allclose(
        harmonic, reference_values(videos, scipy.stats.hmean), atol=ATOL
    )


def test_power_mean_with_zero_score():
    """A zero score makes the geometric and negative power means 0."""
    ragged = RaggedFrames.from_list([[0.0, 0.5, 0.9], [0.0, 0.0]])

    for power in [-3.0, -1.0, 0.0]:
        pooled = pool_frames(ragged, "power_mean", power=power)

        np.testing.assert_array_equal(pooled, [0.0, 0.0], err_msg=f"power={power}")
    np.testing.assert_allclose(
        pool_frames(ragged, "power_mean", power=2.0),
        [np.sqrt((0.25 + 0.81) / 3), 0.0],
        atol=ATOL,
    )


# Videos without a valid frame.


EMPTY_CASES = [case for case in CASES if not case[1]] + [
    ("quantile", {"q": 0.9}, None),
    ("trimmed_mean", {"trim": 0.2}, None),
    ("topk_mean", {"k": 3}, None),
    ("power_mean", {"power": -2.0}, None),
    ("lse", {"sharpness": -5.0}, None),
    ("vote", {"threshold": 0.5}, None),
    ("autopool", {"alpha": -5.0}, None),
    ("sharpened_mean", {"gamma": 0.5}, None),
]


@pytest.mark.parametrize("case", EMPTY_CASES, ids=case_id)
def test_empty_and_all_nan_videos(case):
    """Empty and all-NaN videos pool to NaN, and VideoAggregator fills them."""
    method, params, _ = case
    videos = [[0.2, 0.9], [], [np.nan, np.nan, np.nan], [0.7], [np.nan]]
    ragged = RaggedFrames.from_list(videos)

    pooled = pool_frames(ragged, method, **params)
    model = VideoAggregator(method=method, fill_value=0.37, **params)
    filled = model.fit(videos, [0, 1, 0, 1, 0]).transform(videos)[:, 0]

    assert np.isnan(pooled[[1, 2, 4]]).all()
    assert np.isfinite(pooled[[0, 3]]).all()
    np.testing.assert_array_equal(filled[[1, 2, 4]], 0.37)
    np.testing.assert_array_equal(filled[[0, 3]], pooled[[0, 3]])


def test_all_videos_empty():
    """A container in which no video has a valid frame pools to NaN everywhere."""
    ragged = RaggedFrames.from_list([[], [np.nan]])

    for method in STATISTICS:
        pooled = pool_frames(ragged, method)

        assert np.isnan(pooled).all(), method


def test_fill_value_is_clipped():
    """fill_value goes through clip like any pooled value."""
    videos = [[0.2, 0.9], []]
    model = VideoAggregator(fill_value=1.0, clip=0.05).fit(videos, [0, 1])

    np.testing.assert_allclose(model.transform(videos)[:, 0], [0.55, 0.95], atol=ATOL)


def test_float32_input_same_as_float64():
    """float32 scores pool exactly like the same values in float64."""
    rng = np.random.default_rng(5)
    padded32 = rng.random((30, 50)).astype(np.float32)
    padded32[:, 40:] = np.nan
    padded64 = padded32.astype(np.float64)
    for method in STATISTICS:
        pooled32 = pool_frames(RaggedFrames.from_padded(padded32), method)
        pooled64 = pool_frames(RaggedFrames.from_padded(padded64), method)

        np.testing.assert_array_equal(pooled32, pooled64, err_msg=method)
