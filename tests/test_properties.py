"""Property-based tests of the pooling statistics and VideoAggregator.

Hypothesis generates ragged inputs: 0 to 500 frames per video, NaN frames,
repeated values, scores at exactly 0 and 1, float16/32/64. Each statistic
is checked against a per-video reference written here with numpy, scipy
and the standard library's `decimal`. The invariants: frame order and
input form do not change the result, bounds hold, and a video without
valid frames gets ``fill_value``.

The examples are derandomized so that the default test run is reproducible.
"""

import math
import os
import pickle
import tempfile
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, logit, softmax

import skpool
from skpool import RaggedFrames, VideoAggregator
from skpool._stats import QUANTILE_METHODS

# SKPOOL_FUZZ_EXAMPLES=N runs N examples per test, fresh ones on every run:
# SKPOOL_FUZZ_EXAMPLES=500 python -m pytest tests/test_properties.py
_FUZZ_EXAMPLES = os.environ.get("SKPOOL_FUZZ_EXAMPLES")
PROPERTY_SETTINGS = settings(
    max_examples=int(_FUZZ_EXAMPLES) if _FUZZ_EXAMPLES else 30,
    deadline=None,
    derandomize=not _FUZZ_EXAMPLES,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

DTYPES = [np.float16, np.float32, np.float64]
SMALLEST = float(np.nextafter(0.0, 1.0))
SPECIAL_SCORES = [
    0.0,
    1.0,
    0.5,
    np.nan,
    0.25,
    0.8,
    SMALLEST,
    float(np.nextafter(1.0, 0.0)),
]
FRAME_SCORE = st.one_of(st.sampled_from(SPECIAL_SCORES), st.floats(0.0, 1.0))

# Parameters that are tiny but nonzero are where log-sum-exp and power
# means lose precision, so each real parameter also draws from that range.
TINY = st.floats(-1e-12, 1e-12).filter(lambda value: value != 0.0)

METHOD_PARAMS = {
    "mean": st.just({}),
    "median": st.just({}),
    "max": st.just({}),
    "min": st.just({}),
    "quantile": st.fixed_dictionaries(
        {
            "q": st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0.0, 1.0)),
            "quantile_method": st.sampled_from(QUANTILE_METHODS),
        }
    ),
    "trimmed_mean": st.fixed_dictionaries(
        {"trim": st.floats(0.0, 0.5, exclude_max=True)}
    ),
    "topk_mean": st.fixed_dictionaries(
        {"k": st.one_of(st.integers(1, 600), st.floats(0.0, 1.0, exclude_min=True))}
    ),
    "logit_mean": st.just({}),
    "confident": st.tuples(
        st.floats(0.0, 1.0),
        st.floats(0.0, 1.0),
        st.integers(0, 30),
        st.floats(0.1, 10.0),
        st.floats(0.0, 1.0),
    )
    .filter(lambda drawn: drawn[1] < drawn[0])
    .map(
        lambda drawn: {
            "confident_high": drawn[0],
            "confident_low": drawn[1],
            "confident_min_count": drawn[2],
            "confident_divisor": drawn[3],
            "confident_low_share": drawn[4],
        }
    ),
    "power_mean": st.fixed_dictionaries(
        {
            "power": st.one_of(
                st.sampled_from([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 4.0]),
                st.floats(-8.0, 8.0),
                TINY,
            )
        }
    ),
    "lse": st.fixed_dictionaries(
        {
            "sharpness": st.one_of(
                st.sampled_from([0.0, 1.0, 5.0]), st.floats(-50, 50), TINY
            )
        }
    ),
    "noisy_or": st.just({}),
    "vote": st.fixed_dictionaries({"threshold": st.floats(0.0, 1.0)}),
    "linear_softmax": st.just({}),
    "autopool": st.fixed_dictionaries(
        {"alpha": st.one_of(st.sampled_from([0.0, 5.0]), st.floats(-50, 50), TINY)}
    ),
    "sharpened_mean": st.fixed_dictionaries({"gamma": st.floats(0.05, 4.0)}),
}


# References: one video's valid (non-NaN) scores as float64 -> one float ----


def _decimal_digits(parameter):
    """Return a precision that keeps 40 digits of exp(parameter * x) - 1."""
    return 40 + max(0, math.ceil(-math.log10(abs(parameter))))


def _decimal_power_mean(scores, power):
    with localcontext() as context:
        context.prec = _decimal_digits(power)
        p = Decimal(power)
        terms = [(p * Decimal(value).ln()).exp() for value in scores]
        mean = sum(terms) / len(terms)
        return float((mean.ln() / p).exp())


def reference_power_mean(scores, power):
    if power == 0:
        if np.any(scores == 0):
            return 0.0
        return float(np.exp(np.mean(np.log(scores))))
    if power < 0 and np.any(scores == 0):
        return 0.0
    if power > 0 and np.all(scores == 0):
        return 0.0
    return _decimal_power_mean(scores, power)


def reference_lse(scores, sharpness):
    if sharpness == 0:
        return float(np.mean(scores))
    with localcontext() as context:
        context.prec = _decimal_digits(sharpness)
        r = Decimal(sharpness)
        mean = sum((r * Decimal(value)).exp() for value in scores) / len(scores)
        return float(mean.ln() / r)


def reference_topk_mean(scores, k):
    n = len(scores)
    if isinstance(k, int):
        count = min(n, k)
    else:
        count = min(n, max(1, math.floor(k * n)))
    return float(np.mean(np.sort(scores)[n - count :]))


def reference_confident(
    scores,
    confident_high,
    confident_low,
    confident_min_count,
    confident_divisor,
    confident_low_share,
):
    n = len(scores)
    high = scores[scores > confident_high]
    low = scores[scores < confident_low]
    if len(high) > n // confident_divisor and len(high) > confident_min_count:
        return float(np.mean(high))
    if len(low) > confident_low_share * n:
        return float(np.mean(low))
    return float(np.mean(scores))


def reference_linear_softmax(scores):
    total = np.sum(scores)
    return float(np.sum(scores**2) / total) if total > 0 else 0.0


def reference_sharpened_mean(scores, gamma):
    distance = scores - 0.5
    sharpened = 0.5 + 0.5 * np.sign(distance) * np.abs(2 * distance) ** gamma
    weights = np.maximum(np.abs(distance), 1e-3)
    return float(np.sum(weights * sharpened) / np.sum(weights))


REFERENCES = {
    "mean": lambda s: float(np.mean(s)),
    "median": lambda s: float(np.median(s)),
    "max": lambda s: float(np.max(s)),
    "min": lambda s: float(np.min(s)),
    "quantile": lambda s, q, quantile_method: float(
        np.quantile(s, q, method=quantile_method)
    ),
    "trimmed_mean": lambda s, trim: float(scipy.stats.trim_mean(s, trim)),
    "topk_mean": reference_topk_mean,
    "logit_mean": lambda s: float(expit(np.mean(logit(np.clip(s, 1e-6, 1 - 1e-6))))),
    "confident": reference_confident,
    "power_mean": reference_power_mean,
    "lse": reference_lse,
    "noisy_or": lambda s: float(1.0 - math.prod(1.0 - float(v) for v in s)),
    "vote": lambda s, threshold: float(np.mean(s > threshold)),
    "linear_softmax": reference_linear_softmax,
    "autopool": lambda s, alpha: float(np.sum(softmax(alpha * s) * s)),
    "sharpened_mean": reference_sharpened_mean,
}


def reference_pool(videos, method, params, fill_value):
    """Pool each video with its reference, ``fill_value`` when it has no valid frame."""
    pooled = []
    for video in videos:
        scores = np.asarray(video, dtype=np.float64)
        scores = scores[~np.isnan(scores)]
        if scores.size == 0:
            pooled.append(fill_value)
        else:
            pooled.append(REFERENCES[method](scores, **params))
    return np.array(pooled)


# Generated inputs -----------------------------------------------------------


@st.composite
def ragged_videos(draw, min_videos=1, max_videos=6, max_frames=500):
    """Draw a list of 1-D frame-score arrays of one dtype."""
    dtype = draw(st.sampled_from(DTYPES))
    n_videos = draw(st.integers(min_videos, max_videos))
    videos = []
    for _ in range(n_videos):
        length = draw(st.one_of(st.integers(0, 12), st.integers(0, max_frames)))
        scores = draw(st.lists(FRAME_SCORE, min_size=length, max_size=length))
        videos.append(np.array(scores, dtype=dtype))
    return videos


def to_form(videos, form):
    """Express a list of 1-D arrays in one of the accepted input forms."""
    if form == "list_of_arrays":
        return list(videos)
    if form == "list_of_lists":
        return [video.tolist() for video in videos]
    if form == "tuple_of_arrays":
        return tuple(videos)
    if form == "object_array":
        array = np.empty(len(videos), dtype=object)
        array[:] = list(videos)
        return array
    if form == "padded":
        width = max(len(video) for video in videos)
        padded = np.full((len(videos), width), np.nan, dtype=videos[0].dtype)
        for row, video in enumerate(videos):
            padded[row, : len(video)] = video
        return padded
    if form == "series":
        array = np.empty(len(videos), dtype=object)
        array[:] = list(videos)
        return pd.Series(array, index=[f"video {i}" for i in range(len(videos))])
    if form == "ragged":
        return RaggedFrames.from_list(videos)
    if form == "ragged_view":
        # The same videos seen through fancy indexing of a larger container
        # that also contains unrelated videos.
        decoys = [np.array([0.123, np.nan]), np.array([])]
        combined = RaggedFrames.from_list(decoys + list(videos) + decoys)
        return combined[np.arange(len(decoys), len(decoys) + len(videos))]
    raise AssertionError(form)


FORMS = [
    "list_of_arrays",
    "list_of_lists",
    "tuple_of_arrays",
    "object_array",
    "padded",
    "series",
    "ragged",
    "ragged_view",
]

TRAIN_X = [[0.1], [0.9]]
TRAIN_Y = [0, 1]


def pooled(X, method, params, **kwargs):
    """Return VideoAggregator's pooled probability for every video of ``X``."""
    model = VideoAggregator(method=method, **params, **kwargs).fit(TRAIN_X, TRAIN_Y)
    return model.transform(X)[:, 0]


@st.composite
def method_and_params(draw, methods=tuple(METHOD_PARAMS)):
    method = draw(st.sampled_from(methods))
    return method, draw(METHOD_PARAMS[method])


# Reference equality ----------------------------------------------------------


@pytest.mark.parametrize("method", list(METHOD_PARAMS))
@PROPERTY_SETTINGS
@given(data=st.data())
def test_statistic_matches_reference(method, data):
    """Every statistic equals its per-video reference on generated videos."""
    videos = data.draw(ragged_videos(), label="videos")
    params = data.draw(METHOD_PARAMS[method], label="params")
    form = data.draw(st.sampled_from(FORMS), label="form")
    expected = reference_pool(videos, method, params, fill_value=0.5)
    result = pooled(to_form(videos, form), method, params)
    assert result.dtype == np.float64
    assert result.shape == (len(videos),)
    assert_allclose(result, expected, rtol=1e-9, atol=1e-12)


@PROPERTY_SETTINGS
@given(videos=ragged_videos(max_videos=4, max_frames=60), form=st.sampled_from(FORMS))
def test_callable_method_matches_reference(videos, form):
    """A callable method receives each video's valid frames in frame order."""

    def first_minus_last_half(frames):
        return float(0.5 + 0.5 * (frames[0] - frames[-1]))

    expected = []
    for video in videos:
        scores = np.asarray(video, dtype=np.float64)
        scores = scores[~np.isnan(scores)]
        expected.append(first_minus_last_half(scores) if scores.size else 0.25)
    result = pooled(to_form(videos, form), first_minus_last_half, {}, fill_value=0.25)
    assert_array_equal(result, expected)


# Invariance -----------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    videos=ragged_videos(), drawn=method_and_params(), seed=st.integers(0, 2**32 - 1)
)
def test_frame_order_within_video_irrelevant(videos, drawn, seed):
    """Shuffling the frames inside each video changes no pooled value."""
    method, params = drawn
    rng = np.random.default_rng(seed)
    shuffled = [rng.permutation(video) for video in videos]
    assert_array_equal(pooled(shuffled, method, params), pooled(videos, method, params))


@PROPERTY_SETTINGS
@given(
    videos=ragged_videos(), drawn=method_and_params(), seed=st.integers(0, 2**32 - 1)
)
def test_video_order_permutes_result(videos, drawn, seed):
    """Permuting the videos permutes the pooled values the same way."""
    method, params = drawn
    order = np.random.default_rng(seed).permutation(len(videos))
    permuted = [videos[position] for position in order]
    assert_array_equal(
        pooled(permuted, method, params), pooled(videos, method, params)[order]
    )


@PROPERTY_SETTINGS
@given(videos=ragged_videos(), drawn=method_and_params())
def test_input_forms_agree(videos, drawn):
    """Every accepted input form gives the same pooled values."""
    method, params = drawn
    expected = pooled(videos, method, params)
    for form in FORMS:
        assert_array_equal(
            pooled(to_form(videos, form), method, params), expected, form
        )


@PROPERTY_SETTINGS
@given(
    videos=ragged_videos(max_videos=4),
    drawn=method_and_params(),
    logits=st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(0.0)),
        max_size=40,
    ),
)
def test_logits_match_probabilities(videos, drawn, logits):
    """``logits=True`` pools the logistic of the scores, infinities included."""
    method, params = drawn
    logit_videos = [*videos, np.array(logits)]
    with np.errstate(divide="ignore"):
        as_logits = [
            logit(np.asarray(video, dtype=np.float64)) for video in logit_videos
        ]
    probabilities = [expit(video) for video in as_logits]
    result = pooled(as_logits, method, params, logits=True)
    assert_array_equal(result, pooled(probabilities, method, params))


# Bounds ---------------------------------------------------------------------


def _valid(video):
    scores = np.asarray(video, dtype=np.float64)
    return scores[~np.isnan(scores)]


# Statistics that average the frames, so that each video's value lies
# between its min and max; the others sharpen, count or combine scores.
AVERAGING_METHODS = tuple(
    sorted(set(METHOD_PARAMS) - {"logit_mean", "noisy_or", "vote", "sharpened_mean"})
)


@PROPERTY_SETTINGS
@given(videos=ragged_videos(), drawn=method_and_params(AVERAGING_METHODS))
def test_averages_between_min_and_max(videos, drawn):
    """Every averaging statistic lies between each video's min and max."""
    method, params = drawn
    low = pooled(videos, "min", {})
    high = pooled(videos, "max", {})
    result = pooled(videos, method, params)
    assert np.all(low <= result)
    assert np.all(result <= high)


@PROPERTY_SETTINGS
@given(
    value=st.one_of(st.sampled_from(SPECIAL_SCORES[:3]), st.floats(0.0, 1.0)),
    lengths=st.lists(st.integers(1, 60), min_size=1, max_size=5),
    drawn=method_and_params(AVERAGING_METHODS),
)
def test_constant_video_pools_to_its_value(value, lengths, drawn):
    """A video whose frames all have one value pools exactly to that value."""
    method, params = drawn
    videos = [np.full(length, value) for length in lengths]
    assert_array_equal(pooled(videos, method, params), value)


@PROPERTY_SETTINGS
@given(
    videos=ragged_videos(),
    levels=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=6),
    quantile_method=st.sampled_from(QUANTILE_METHODS),
)
def test_quantile_monotone_and_bounded(videos, levels, quantile_method):
    """quantile(q) is non-decreasing in q and between each video's min and max."""
    low = pooled(videos, "min", {})
    high = pooled(videos, "max", {})
    previous = low
    for q in sorted(levels):
        result = pooled(
            videos, "quantile", {"q": q, "quantile_method": quantile_method}
        )
        assert np.all(low <= result)
        assert np.all(result <= high)
        assert np.all(previous <= result), q
        previous = result


@st.composite
def clip_bounds(draw):
    kind = draw(st.sampled_from(["none", "eps", "tuple"]))
    if kind == "none":
        return None
    if kind == "eps":
        return draw(st.floats(0.0, 0.5, exclude_min=True, exclude_max=True))
    low = draw(st.floats(0.0, 1.0, exclude_max=True))
    high = draw(st.floats(low, 1.0, exclude_min=True))
    return (low, high)


@PROPERTY_SETTINGS
@given(
    videos=ragged_videos(),
    drawn=method_and_params(),
    clip=clip_bounds(),
    fill_value=st.floats(0.0, 1.0),
    labels=st.sampled_from([(0, 1), (False, True), ("real", "fake")]),
)
def test_predict_proba_valid(videos, drawn, clip, fill_value, labels):
    """predict_proba is float64 (n, 2), finite, within the clip bounds, sums to 1."""
    method, params = drawn
    assume(not isinstance(clip, tuple) or clip[0] < clip[1])
    pos_label = labels[1] if labels[0] == "real" else None
    model = VideoAggregator(
        method=method, clip=clip, fill_value=fill_value, pos_label=pos_label, **params
    )
    model.fit(TRAIN_X, list(labels))
    proba = model.predict_proba(videos)
    low, high = (
        (0.0, 1.0)
        if clip is None
        else (clip if isinstance(clip, tuple) else (clip, 1 - clip))
    )
    assert proba.dtype == np.float64
    assert proba.shape == (len(videos), 2)
    assert np.all(np.isfinite(proba))
    positive = proba[:, list(model.classes_).index(labels[1])]
    assert np.all(positive >= low)
    assert np.all(positive <= high)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert np.all(np.isfinite(model.decision_function(videos)))
    assert set(model.predict(videos).tolist()) <= set(labels)


@PROPERTY_SETTINGS
@given(
    videos=ragged_videos(max_videos=4),
    drawn=method_and_params(),
    n_empty=st.integers(1, 3),
    fill_value=st.floats(0.0, 1.0),
    form=st.sampled_from(FORMS),
)
def test_videos_without_frames_get_fill_value(videos, drawn, n_empty, fill_value, form):
    """Empty and all-NaN videos pool to fill_value, and are never NaN or dropped."""
    method, params = drawn
    empties = [np.array([], dtype=videos[0].dtype)] + [
        np.full(length, np.nan, dtype=videos[0].dtype) for length in range(1, n_empty)
    ]
    combined = empties + videos + empties
    result = pooled(to_form(combined, form), method, params, fill_value=fill_value)
    assert result.shape == (len(combined),)
    assert not np.any(np.isnan(result))
    assert_array_equal(result[: len(empties)], fill_value)
    assert_array_equal(result[-len(empties) :], fill_value)
    has_frames = np.array([_valid(video).size > 0 for video in videos])
    middle = result[len(empties) : len(empties) + len(videos)]
    assert_array_equal(middle[~has_frames], fill_value)


# Cases the generated tests found, kept as fixed regressions ----------------

FOUND_CASES = [
    # A tiny power or sharpness must give the limit at 0 (geometric mean,
    # mean), not the max: exp(tiny) rounds to 1 and its log to 0.
    pytest.param("power_mean", {"power": 1e-17}, [0.25, 1.0], 0.5, id="power-1e-17"),
    pytest.param("power_mean", {"power": 7.3e-81}, [0.5], 0.5, id="power-7e-81"),
    pytest.param("lse", {"sharpness": 1e-17}, [0.0, 1.0], 0.5, id="lse-1e-17"),
    pytest.param("lse", {"sharpness": 5e-324}, [0.0, 1.0], 0.5, id="lse-5e-324"),
    pytest.param("lse", {"sharpness": -3e-13}, [0.0, 1.0], 0.5, id="lse-negative-tiny"),
    # Scaling by a subnormal min overflowed values / min to inf, and the
    # pooled inf was then clipped to 1.
    pytest.param(
        "power_mean",
        {"power": -0.001953125},
        [1.0, 1.0, 1.0, 1.0, SMALLEST],
        6.87841701569416e-113,
        id="power-negative-subnormal-min",
    ),
    pytest.param(
        "power_mean",
        {"power": -2.0},
        [SMALLEST, 1.0],
        SMALLEST * math.sqrt(2),
        id="power-2",
    ),
    # The float mean of equal values can round above them.
    pytest.param("mean", {}, [0.1, 0.1, 0.1], 0.1, id="mean-of-equal"),
    pytest.param(
        "trimmed_mean", {"trim": 0.2}, [0.0, 0.1, 0.1, 0.1, 1.0], 0.1, id="trim"
    ),
    pytest.param("topk_mean", {"k": 3}, [0.0, 0.7, 0.7, 0.7], 0.7, id="topk"),
    pytest.param("autopool", {"alpha": 5.0}, [0.1, 0.1, 0.1], 0.1, id="autopool"),
    pytest.param("linear_softmax", {}, [0.1] * 7, 0.1, id="linear-softmax"),
    pytest.param("power_mean", {"power": 0.0}, [0.2] * 7, 0.2, id="geometric"),
]


@pytest.mark.parametrize(("method", "params", "frames", "expected"), FOUND_CASES)
def test_found_case(method, params, frames, expected):
    """Regressions found by the generated tests keep their exact values."""
    result = pooled([np.array(frames)], method, params)
    assert_allclose(result, [expected], rtol=1e-12, atol=0)
    if len(set(frames)) == 1 or method in ("trimmed_mean", "topk_mean"):
        assert result[0] == expected


# Learned parameters -------------------------------------------------------------

LEARNABLE_NAMES = {"autopool": "alpha", "power_mean": "power", "lse": "sharpness"}
NEUTRAL_VALUES = {"autopool": 0.0, "power_mean": 1.0, "lse": 0.0}


def _training_log_loss(proba_positive, y_positive):
    """Return the binary log loss with probabilities clipped to [1e-15, 1 - 1e-15]."""
    p = np.clip(proba_positive, 1e-15, 1 - 1e-15)
    return float(-np.mean(np.where(y_positive, np.log(p), np.log1p(-p))))


@PROPERTY_SETTINGS
@given(
    videos=ragged_videos(min_videos=2, max_videos=8, max_frames=80),
    method=st.sampled_from(sorted(LEARNABLE_NAMES)),
    calibration=st.sampled_from([None, "sigmoid"]),
    clip=clip_bounds(),
    seed=st.integers(0, 2**32 - 1),
)
def test_learned_parameter_valid(videos, method, calibration, clip, seed):
    """A learned parameter is finite, frame order does not change it, outputs are valid.

    Without calibration, the learned value's training loss is at most the
    loss of the neutral value (the plain mean), which the search also tries.
    """
    assume(not isinstance(clip, tuple) or clip[0] < clip[1])
    rng = np.random.default_rng(seed)
    y = np.arange(len(videos)) % 2
    name = LEARNABLE_NAMES[method]
    params = {name: None, "calibration": calibration, "clip": clip}
    model = VideoAggregator(method=method, **params).fit(videos, y)
    learned = getattr(model, f"{name}_")
    assert np.isfinite(learned)
    proba = model.predict_proba(videos)
    assert np.all(np.isfinite(proba))
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)

    shuffled = [rng.permutation(video) for video in videos]
    reordered = VideoAggregator(method=method, **params).fit(shuffled, y)
    assert getattr(reordered, f"{name}_") == learned
    assert_array_equal(reordered.predict_proba(shuffled), proba)

    if calibration is None:
        neutral = VideoAggregator(
            method=method, clip=clip, **{name: NEUTRAL_VALUES[method]}
        )
        neutral_proba = neutral.fit(videos, y).predict_proba(videos)[:, 1]
        learned_loss = _training_log_loss(proba[:, 1], y == 1)
        assert learned_loss <= _training_log_loss(neutral_proba, y == 1) + 1e-12


# Saving and loading ---------------------------------------------------------------

# Video ids with accents, spaces, commas, quotes and digits, and ids that
# pandas reads as missing by default. An empty id is missing in a CSV file.
VIDEO_ID = st.one_of(
    st.text(alphabet=st.sampled_from(list("aé 0,7\"'.-_ü/")), min_size=1, max_size=12),
    st.sampled_from(["NA", "N/A", "nan", "NaN", "None", "null", "#N/A", "<NA>"]),
)


@PROPERTY_SETTINGS
@given(
    videos=ragged_videos(max_videos=5, max_frames=40),
    data=st.data(),
    suffix=st.sampled_from([".npz", ".csv", ".csv.gz", ".parquet"]),
)
def test_save_load_round_trip(videos, data, suffix):
    """save_predictions then load_predictions keeps every video, id and frame.

    A video without frames is written as one NaN frame, which pools the same.
    """
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    ids = data.draw(
        st.lists(VIDEO_ID, min_size=len(videos), max_size=len(videos), unique=True)
    )
    original = RaggedFrames.from_list(videos, ids=ids)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"predictions{suffix}"
        skpool.save_predictions(path, original)
        loaded = skpool.load_predictions(path)
    assert loaded.ids.tolist() == ids
    for video, frames in zip(loaded, videos, strict=True):
        expected = np.asarray(frames, dtype=np.float64)
        if expected.size == 0 and suffix != ".npz":
            expected = np.array([np.nan])
        assert_array_equal(video, expected)
    assert_array_equal(pooled(loaded, "mean", {}), pooled(original, "mean", {}))


# Views, caches and pickles ----------------------------------------------------------


@st.composite
def video_selections(draw, n_videos):
    """Draw an index of a container: positions with repeats, negatives, or a mask."""
    kind = draw(st.sampled_from(["positions", "mask", "slice"]))
    if kind == "mask":
        return np.array(
            draw(st.lists(st.booleans(), min_size=n_videos, max_size=n_videos))
        )
    if kind == "slice":
        start = draw(st.integers(-n_videos, n_videos))
        step = draw(st.sampled_from([1, 2, -1]))
        return slice(start, None, step)
    positions = st.integers(-n_videos, n_videos - 1)
    return np.array(draw(st.lists(positions, max_size=2 * n_videos)), dtype=np.int64)


@PROPERTY_SETTINGS
@given(
    videos=ragged_videos(max_videos=6, max_frames=60),
    drawn=method_and_params(),
    data=st.data(),
    warm_cache=st.booleans(),
)
def test_views_pool_like_their_videos(videos, drawn, data, warm_cache):
    """A view, and its pickle, pool like a container built from its videos.

    With ``warm_cache`` the full container is pooled first, so the view
    reads the cached values of the full container.
    """
    method, params = drawn
    container = RaggedFrames.from_list(
        videos, ids=[f"v{i}" for i in range(len(videos))]
    )
    selection = data.draw(video_selections(len(videos)))
    selected = np.arange(len(videos))[selection]
    if warm_cache:
        pooled(container, method, params)
    view = container[selection]
    expected = pooled([videos[position] for position in selected], method, params)
    assert view.ids.tolist() == [f"v{position}" for position in selected]
    assert_array_equal(pooled(view, method, params), expected)
    restored = pickle.loads(pickle.dumps(view))
    assert restored.ids.tolist() == view.ids.tolist()
    assert_array_equal(pooled(restored, method, params), expected)
    assert_array_equal(pooled(view[::-1], method, params), expected[::-1])


# Long tables --------------------------------------------------------------------------


def reference_long_table(table, face_reduce):
    """Return {video: frame scores} of a long table with a plain Python loop."""
    reduce = {"max": np.nanmax, "min": np.nanmin, "mean": np.nanmean}[face_reduce]
    videos = {}
    for video_id in dict.fromkeys(table["video"].tolist()):
        rows = table[table["video"] == video_id]
        frames = []
        for frame in sorted(set(rows["frame"].tolist())):
            scores = rows.loc[rows["frame"] == frame, "score"].to_numpy(dtype=float)
            if np.all(np.isnan(scores)):
                frames.append(np.nan)
            else:
                frames.append(float(reduce(scores)))
        videos[video_id] = np.array(frames)
    return videos


@st.composite
def long_tables(draw):
    """Draw a shuffled long table: videos, frames with gaps, faces, NaN scores."""
    ids = draw(st.lists(VIDEO_ID, min_size=1, max_size=4, unique=True))
    rows = []
    for video_id in ids:
        frames = draw(st.lists(st.integers(0, 30), min_size=1, max_size=8, unique=True))
        for frame in frames:
            n_faces = draw(st.integers(1, 3))
            for face in range(n_faces):
                rows.append((video_id, frame, face, draw(FRAME_SCORE)))
    order = draw(st.permutations(range(len(rows))))
    return pd.DataFrame(
        [rows[position] for position in order],
        columns=["video", "frame", "face", "score"],
    )


@PROPERTY_SETTINGS
@given(
    table=long_tables(),
    face_reduce=st.sampled_from(["max", "min", "mean"]),
    as_csv=st.booleans(),
)
def test_long_table_matches_reference(table, face_reduce, as_csv):
    """A shuffled long table with faces reads as a per-frame loop over its rows does."""
    expected = reference_long_table(table, face_reduce)
    with tempfile.TemporaryDirectory() as directory:
        source = table
        if as_csv:
            source = Path(directory) / "predictions.csv"
            table.to_csv(source, index=False)
        videos = skpool.load_predictions(source, face_reduce=face_reduce)
    assert videos.ids.tolist() == list(expected)
    for video, frames in zip(videos, expected.values(), strict=True):
        assert_allclose(video, frames, rtol=1e-15, atol=0)
