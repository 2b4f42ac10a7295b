"""Tests of FramePooler: a row of statistics per video."""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import expit
from scipy.stats import trim_mean
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skpool import FramePooler, RaggedFrames, VideoAggregator, load_predictions

DEFAULT_NAMES = [
    "mean",
    "std",
    "min",
    "max",
    "quantile_q0.25",
    "quantile_q0.5",
    "quantile_q0.75",
    "quantile_q0.9",
    "n_frames",
]


def make_frames(seed=0):
    """A few videos of frame scores, one with a NaN frame, one empty, one all-NaN."""
    rng = np.random.default_rng(seed)
    frames = [rng.uniform(0, 1, size) for size in (1, 2, 5, 17, 40)]
    frames[3][4] = np.nan
    frames.append(np.array([]))
    frames.append(np.array([np.nan, np.nan]))
    return frames


def default_reference(video):
    valid = video[~np.isnan(video)]
    if valid.size == 0:
        return None
    return [
        np.mean(valid),
        np.std(valid),
        np.min(valid),
        np.max(valid),
        np.quantile(valid, 0.25),
        np.quantile(valid, 0.5),
        np.quantile(valid, 0.75),
        np.quantile(valid, 0.9),
        valid.size,
    ]


def test_default_statistics_match_numpy():
    """The default columns equal numpy's statistics of each video's valid frames."""
    frames = make_frames()
    features = FramePooler().fit_transform(frames)

    assert features.shape == (len(frames), len(DEFAULT_NAMES))
    for row, video in zip(features, frames, strict=True):
        expected = default_reference(video)
        if expected is None:
            continue
        np.testing.assert_allclose(row, expected, rtol=1e-12, atol=1e-12)


def test_default_feature_names():
    """Default column names spell out the quantile levels."""
    pooler = FramePooler().fit(make_frames())

    assert pooler.get_feature_names_out().tolist() == DEFAULT_NAMES


def test_empty_videos_get_fill_value():
    """Videos without valid frames get fill_value, n_frames 0 and no NaN."""
    features = FramePooler(fill_value=-1.0).fit_transform(make_frames())

    assert not np.isnan(features).any()
    for row in features[-2:]:
        np.testing.assert_array_equal(row[:-1], -1.0)
        assert row[-1] == 0


def test_single_frame_std_is_zero():
    """A one-frame video has standard deviation 0, not NaN."""
    features = FramePooler(statistics=["std"]).fit_transform([[0.3], [0.1, 0.5]])

    np.testing.assert_allclose(features[:, 0], [0.0, 0.2])


def test_custom_statistics_with_parameters():
    """(name, params) pairs compute the statistic with those parameters."""
    frames = make_frames(seed=1)
    statistics = [
        ("trimmed_mean", {"trim": 0.2}),
        ("topk_mean", {"k": 3}),
        ("power_mean", {"power": 3.0}),
        "noisy_or",
        ("vote", {"threshold": 0.7}),
    ]
    pooler = FramePooler(statistics=statistics, fill_value=0.0)

    features = pooler.fit_transform(frames)

    assert pooler.get_feature_names_out().tolist() == [
        "trimmed_mean_trim0.2",
        "topk_mean_k3",
        "power_mean_power3.0",
        "noisy_or",
        "vote_threshold0.7",
    ]
    for row, video in zip(features, frames, strict=True):
        valid = video[~np.isnan(video)]
        if valid.size == 0:
            np.testing.assert_array_equal(row, 0.0)
            continue
        expected = [
            trim_mean(valid, 0.2),
            np.mean(np.sort(valid)[-3:]),
            np.mean(valid**3) ** (1 / 3),
            1 - np.prod(1 - valid),
            np.mean(valid > 0.7),
        ]
        np.testing.assert_allclose(row, expected, rtol=1e-10)


def test_parameters_left_out_take_aggregator_defaults():
    """A statistic without params matches VideoAggregator's default settings."""
    frames = make_frames(seed=2)[:5]
    y = [0, 1, 0, 1, 0]
    for method in ["autopool", "power_mean", "lse", "topk_mean", "confident"]:
        pooled = FramePooler(statistics=[method]).fit_transform(frames)[:, 0]
        model = VideoAggregator(method=method).fit(frames, y)
        np.testing.assert_allclose(pooled, model.predict_proba(frames)[:, 1])


def test_logits_map_to_probabilities():
    """logits=True gives the statistics of the logistic of the scores."""
    rng = np.random.default_rng(3)
    log_odds = [rng.normal(0, 3, size) for size in (3, 8, 1)]
    from_logits = FramePooler(logits=True).fit_transform(log_odds)
    from_proba = FramePooler().fit_transform([expit(video) for video in log_odds])

    np.testing.assert_allclose(from_logits, from_proba)


def test_pandas_output():
    """set_output(transform='pandas') returns a DataFrame named by statistic."""
    pooler = FramePooler().set_output(transform="pandas")

    features = pooler.fit_transform(make_frames())

    assert isinstance(features, pd.DataFrame)
    assert features.columns.tolist() == DEFAULT_NAMES
    assert not features.isna().any().any()


def test_pandas_output_indexed_by_ids():
    """Pandas output is indexed by the video ids of the container."""
    frames = make_frames()
    ids = [f"clip_{i}.mp4" for i in range(len(frames))]
    videos = RaggedFrames.from_list(frames, ids=ids)
    pooler = FramePooler().set_output(transform="pandas")

    features = pooler.fit_transform(videos)

    assert features.index.tolist() == ids
    assert features.index.name == "video"
    np.testing.assert_allclose(features.to_numpy(), FramePooler().fit_transform(frames))


def test_reads_csv_predictions(tmp_path):
    """Frame scores loaded from a CSV file pool the same as the arrays."""
    frames = make_frames(seed=4)[:5]
    rows = [
        {"video": f"v{i}.mp4", "frame": j, "score": score}
        for i, video in enumerate(frames)
        for j, score in enumerate(video)
        if not np.isnan(score)
    ]
    path = tmp_path / "frames.csv"
    pd.DataFrame(rows).to_csv(path, index=False)

    loaded = load_predictions(path)
    features = FramePooler().fit_transform(loaded)

    expected = FramePooler().fit_transform(frames)
    order = [int(video_id[1:-4]) for video_id in loaded.ids]
    np.testing.assert_allclose(features, expected[order])


def make_labelled_videos(n_videos=200, seed=5):
    """Videos whose label shows in both the mean and the max of their frames."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n_videos // 2)
    lengths = rng.integers(4, 30, n_videos)
    values = rng.beta(2, 5, lengths.sum())
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    spike = starts + rng.integers(0, lengths)
    values[spike[y == 1]] = rng.uniform(0.7, 1.0, (y == 1).sum())
    return RaggedFrames.from_lengths(values, lengths), y


def test_stacking_pipeline_beats_mean_pooling():
    """FramePooler then LogisticRegression learns a better mix than the mean."""
    videos, y = make_labelled_videos()
    stacked = make_pipeline(FramePooler(), LogisticRegression())
    cv = StratifiedKFold(4, shuffle=True, random_state=0)

    stacked_scores = cross_val_score(stacked, videos, y, cv=cv, scoring="neg_log_loss")
    mean_scores = cross_val_score(
        VideoAggregator(method="mean"), videos, y, cv=cv, scoring="neg_log_loss"
    )

    assert stacked_scores.mean() > mean_scores.mean()
    proba = stacked.fit(videos, y).predict_proba(videos)[:, 1]
    assert log_loss(y, proba) < np.log(2)


def test_stacking_pipeline_grid_search():
    """GridSearchCV tunes the statistics and the stacked model together."""
    videos, y = make_labelled_videos(n_videos=100, seed=6)
    pipeline = make_pipeline(FramePooler(), LogisticRegression())
    grid = {
        "framepooler__statistics": [None, ["mean", "max"]],
        "logisticregression__C": [0.1, 1.0],
    }

    search = GridSearchCV(pipeline, grid, cv=3, scoring="neg_log_loss").fit(videos, y)

    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    names = search.best_estimator_[0].get_feature_names_out()
    assert len(names) == search.best_estimator_[-1].coef_.shape[1]


@pytest.mark.parametrize(
    ("statistics", "message"),
    [
        (["median", "nope"], "Unknown statistic 'nope'"),
        ([("quantile", {"k": 2})], r"has no parameter\(s\) \['k'\]"),
        ([("quantile", {"q": 1.5})], "'q' parameter of FramePooler statistic"),
        ([("autopool", {"alpha": None})], "does not learn parameters"),
        (["mean", "mean"], r"columns \['mean'\] more than once"),
        ([], "empty list"),
        ([("quantile", 0.9)], "a name or a \\(name, params\\) pair"),
        (
            [("confident", {"confident_low": 0.9})],
            r"statistic 'confident': confident_low=0.9 must be below "
            r"confident_high=0.8",
        ),
    ],
    ids=[
        "unknown",
        "bad-param",
        "out-of-range",
        "none",
        "repeat",
        "empty",
        "pair",
        "low-above-high",
    ],
)
def test_invalid_statistics_rejected(statistics, message):
    """Invalid statistics entries are rejected with a message naming the entry."""
    with pytest.raises(ValueError, match=message):
        FramePooler(statistics=statistics).fit([[0.1, 0.2]])


@pytest.mark.parametrize("fill_value", [np.nan, np.inf])
def test_invalid_fill_value_rejected(fill_value):
    """A fill_value that is not finite is rejected, so none leaks into features."""
    with pytest.raises(ValueError, match="'fill_value' parameter of FramePooler"):
        FramePooler(fill_value=fill_value).fit([[0.1, 0.2]])


def test_frame_features_rejected():
    """Videos of 2-D frame features get an error pointing to FrameScorer."""
    features = [np.ones((3, 2)), np.zeros((2, 2))]
    with pytest.raises(
        ValueError, match=r"FramePooler pools frame scores.*FrameScorer"
    ):
        FramePooler().fit(features)


def test_scores_out_of_range_rejected():
    """Scores outside [0, 1] are rejected unless logits=True."""
    with pytest.raises(ValueError, match="set logits=True"):
        FramePooler().fit([[0.1, 2.0]])


video_strategy = st.lists(
    arrays(
        np.float64,
        st.integers(0, 12),
        elements=st.floats(0, 1) | st.just(np.nan),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(frames=video_strategy, seed=st.integers(0, 2**16))
def test_default_features_invariants(frames, seed):
    """Rows ignore frame order, stay ordered min <= quantiles <= max, have no NaN."""
    rng = np.random.default_rng(seed)
    shuffled = [rng.permutation(video) for video in frames]
    pooler = FramePooler(fill_value=0.5)

    features = pooler.fit_transform(frames)

    np.testing.assert_allclose(pooler.transform(shuffled), features, atol=1e-12)
    assert not np.isnan(features).any()
    columns = dict(zip(DEFAULT_NAMES, features.T, strict=True))
    ordered = ["min", "quantile_q0.25", "quantile_q0.5", "quantile_q0.75"]
    ordered += ["quantile_q0.9", "max"]
    for low, high in itertools.pairwise(ordered):
        assert np.all(columns[low] <= columns[high] + 1e-12)
    assert np.all(columns["min"] <= columns["mean"] + 1e-12)
    assert np.all(columns["mean"] <= columns["max"] + 1e-12)
    valid_counts = [np.count_nonzero(~np.isnan(video)) for video in frames]
    np.testing.assert_array_equal(columns["n_frames"], valid_counts)


_N_FEATURES_REASON = (
    "The columns of a padded array are frames, not features, and videos may "
    "have any number of them, so n_features_in_ does not apply and a different "
    "number of columns in transform is valid."
)


@parametrize_with_checks(
    # The checks pass arbitrary real numbers, valid frame scores only as log-odds.
    [FramePooler(logits=True)],
    expected_failed_checks=lambda estimator: {
        "check_n_features_in": _N_FEATURES_REASON,
        "check_n_features_in_after_fitting": _N_FEATURES_REASON,
        "check_transformer_general": _N_FEATURES_REASON,
        "check_estimators_empty_data_messages": (
            "A padded array with 0 columns holds videos with no frames, which "
            "are valid and get fill_value, so there is no error to raise."
        ),
    },
)
def test_sklearn_compatible(estimator, check):
    """FramePooler passes scikit-learn's estimator checks."""
    check(estimator)
