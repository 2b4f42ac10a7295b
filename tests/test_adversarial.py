"""Bad input at every public entry point: the right value or a clear error.

Each case either works and the test checks the value, or raises an
exception whose message names the problem and the video or value at
fault. No case may return a number that is silently wrong or drop a
video. The last section checks that very many videos, and one very long
video, pool correctly without padded n_videos x max_frames memory.
"""

import json
import re
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import scipy.stats
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, make_scorer
from sklearn.model_selection import (
    GridSearchCV,
    PredefinedSplit,
    StratifiedKFold,
    cross_val_score,
)

import skpool
from skpool import FramePooler, RaggedFrames, VideoAggregator
from skpool._cli import main as skpool_main

TRAIN_X = [[0.1], [0.9]]
TRAIN_Y = [0, 1]


def _polars_wide_table():
    polars = pytest.importorskip("polars")
    return polars.DataFrame({"frame_0": [0.1, 0.2], "frame_1": [0.9, None]})


def _polars_long_table():
    polars = pytest.importorskip("polars")
    return polars.DataFrame(
        {"video": [0, 0, 1], "frame": [0, 1, 0], "score": [0.2, 0.4, 1.0]}
    )


def _pyarrow_table():
    pyarrow = pytest.importorskip("pyarrow")
    return pyarrow.table({"video": ["a"], "score": [0.1]})


# Frame scores given to the estimators -------------------------------------
#
# Each case is (X, expected). X is the input, or a function returning it
# for inputs built from optional packages. expected is the pooled mean of
# every video (fill_value 0.5 for a video without valid frames), or an
# (exception type, message pattern) pair.

X_CASES = {
    "inf": ([[0.1, np.inf]], (ValueError, r"video at position 0 has inf")),
    "minus-inf": ([[0.2], [0.1, -np.inf]], (ValueError, r"position 1 has -inf")),
    "float16-inf": (
        [np.array([0.1, np.inf], dtype=np.float16)],
        (ValueError, r"position 0 has inf"),
    ),
    "negative": (
        [[0.2], [-0.1, 0.5]],
        (ValueError, r"position 1 has -0.1.*logits=True"),
    ),
    "above-one": ([[1.5]], (ValueError, r"position 0 has 1.5.*logits=True")),
    "nan-only": ([[np.nan, np.nan], [np.nan]], [0.5, 0.5]),
    "no-frames": ([[], []], [0.5, 0.5]),
    "single-video": ([[0.2, 0.4]], [0.3]),
    "exactly-0-and-1": ([[0.0, 1.0], [0.0], [1.0]], [0.5, 0.0, 1.0]),
    "integers": (np.array([[0, 1, 1]]), [2 / 3]),
    "padded-float16": (
        np.array([[0.25, np.nan], [0.5, 0.75]], dtype=np.float16),
        [0.25, 0.625],
    ),
    "tuple-of-lists": (([0.1], [0.3]), [0.1, 0.3]),
    "object-none": ([np.array([0.2, None], dtype=object)], [0.2]),
    "pandas-na": ([pd.array([0.1, pd.NA], dtype="Float64")], [0.1]),
    "masked-padded": (np.ma.masked_array([[0.1, 0.9]], mask=[[False, True]]), [0.1]),
    "masked-video": ([np.ma.masked_array([0.1, 0.9], mask=[False, True])], [0.1]),
    "object-string-number": (
        [np.array(["0.2", 0.4], dtype=object)],
        (ValueError, r"position 0 contains strings, such as '0.2'"),
    ),
    "object-dict": (
        [[0.5], np.array([{}, 0.4], dtype=object)],
        (TypeError, r"position 1 contains values that are not numbers"),
    ),
    "list-of-strings": ([["0.2", "0.4"]], (ValueError, r"position 0 has dtype <U")),
    "string-video": ([[0.2], "0.4"], (TypeError, r"position 1 is a str")),
    "complex": ([[0.1 + 0j]], (ValueError, r"[Cc]omplex")),
    "2d-frames": (
        [np.full((3, 2), 0.5)],
        (ValueError, r"2 features per frame.*FrameScorer"),
    ),
    "mixed-1d-2d": ([[0.1], [[0.1, 0.2]]], (ValueError, r"position 1 has 2-D frames")),
    "3d-array": (np.zeros((2, 2, 2)), (ValueError, r"3-D array")),
    "1d-float-array": (
        np.array([0.1, 0.2]),
        (ValueError, r"1-D array of 2 numbers, which is ambiguous"),
    ),
    "flat-list": (
        [0.1, 0.2],
        (ValueError, r"flat list of 2 numbers, which is ambiguous"),
    ),
    "scalar-video": ([[0.1], 0.5], (ValueError, r"position 1 is a single number")),
    "series-of-floats": (
        pd.Series([0.1, 0.2], index=["a.mp4", "b.mp4"]),
        (ValueError, r"Video 'a.mp4' \(position 0\) is a single number"),
    ),
    "dict": ({"a.mp4": [0.1]}, (TypeError, r"Got a dict.*from_dict")),
    "dataframe": (
        pd.DataFrame({"video": ["a"], "score": [0.1]}),
        (TypeError, r"Got a DataFrame.*load_predictions"),
    ),
    "polars-wide-table": (
        _polars_wide_table,
        (TypeError, r"Got a DataFrame.*to_numpy"),
    ),
    "polars-long-table": (_polars_long_table, (TypeError, r"Got a DataFrame")),
    "pyarrow-table": (_pyarrow_table, (TypeError, r"Got a DataFrame")),
    "string": ("predictions.csv", (TypeError, r"Got a string.*load_predictions")),
    "none": (None, (TypeError, r"Cannot read frames from NoneType")),
    "sparse": (
        lambda: scipy.sparse.csr_matrix(np.full((2, 2), 0.5)),
        (TypeError, r"sparse"),
    ),
    "series-unicode-duplicate-ids": (
        pd.Series(
            [[0.1, 0.3], [np.nan], [0.8]],
            index=["vidéo 1.mp4", "vidéo 1.mp4", " b .mp4"],
        ),
        [0.2, 0.5, 0.8],
    ),
    "ragged-duplicate-ids": (
        lambda: RaggedFrames.from_list([[0.1], [0.3]], ids=["a", "a"]),
        [0.1, 0.3],
    ),
}


def _build(X):
    return X() if callable(X) else X


def _check(call, expected):
    """Run ``call`` and compare its pooled means with ``expected``."""
    if isinstance(expected, tuple):
        error_type, pattern = expected
        with pytest.raises(error_type, match=pattern):
            call()
    else:
        result = call()
        assert result.shape == (len(expected),)
        assert_allclose(result, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize(("X", "expected"), X_CASES.values(), ids=X_CASES.keys())
def test_aggregator_predict_proba(X, expected):
    """predict_proba on bad frame scores: the right probability or a clear error."""
    model = VideoAggregator(method="mean").fit(TRAIN_X, TRAIN_Y)

    def positive_proba():
        proba = model.predict_proba(_build(X))
        assert proba.dtype == np.float64
        assert_allclose(proba.sum(axis=1), 1.0)
        return proba[:, 1]

    _check(positive_proba, expected)


# fit needs both classes, so it takes the cases with at least 2 videos.
FIT_CASES = {
    case_id: case
    for case_id, case in X_CASES.items()
    if isinstance(case[1], tuple) or len(case[1]) >= 2
}


@pytest.mark.parametrize(("X", "expected"), FIT_CASES.values(), ids=FIT_CASES.keys())
def test_aggregator_fit(X, expected):
    """fit rejects the same inputs as predict_proba, with the same message."""
    model = VideoAggregator(method="mean")
    if isinstance(expected, tuple):
        error_type, pattern = expected
        with pytest.raises(error_type, match=pattern):
            model.fit(_build(X), [0, 1] * 2)
        return
    n_videos = len(expected)
    model.fit(_build(X), [0, 1] * (n_videos // 2) + [0] * (n_videos % 2))
    assert_allclose(model.transform(_build(X))[:, 0], expected, rtol=1e-12)


@pytest.mark.parametrize(("X", "expected"), X_CASES.values(), ids=X_CASES.keys())
def test_pooler_transform(X, expected):
    """FramePooler gives the same mean or the same error as VideoAggregator."""
    pooler = FramePooler(statistics=["mean", "n_frames"])

    def pooled_mean():
        features = pooler.fit_transform(_build(X))
        assert not np.any(np.isnan(features))
        return features[:, 0]

    _check(pooled_mean, expected)


# Frame features given to FrameScorer ----------------------------------------

FEATURES = [np.random.default_rng(3).normal(size=(3, 2)) for _ in range(6)]
FEATURE_LABELS = [0, 1] * 3

SCORER_CASES = {
    "1d-scores": (
        [[0.1, 0.2]] * 6,
        FEATURE_LABELS,
        (ValueError, r"needs frame features .* one score per frame"),
    ),
    "padded-2d-array": (
        np.ones((6, 3)),
        FEATURE_LABELS,
        (ValueError, r"needs frame features"),
    ),
    "y-too-short": (
        FEATURES,
        FEATURE_LABELS[:-1],
        (ValueError, r"6 videos but y has 5"),
    ),
    "one-class": (FEATURES, [1] * 6, (ValueError, r"exactly 2 classes in y; got 1")),
    "dict": ({"a": FEATURES[0]}, [0], (TypeError, r"Got a dict")),
    "dataframe": (pd.DataFrame({"a": [1.0]}), [0], (TypeError, r"Got a DataFrame")),
    "strings": (
        [np.array([["a", "b"]])] * 6,
        FEATURE_LABELS,
        (ValueError, r"dtype <U1"),
    ),
    "class-only-in-empty-videos": (
        [np.empty((0, 2))] * 3 + FEATURES[:3],
        [0, 0, 0, 1, 1, 1],
        (ValueError, r"training fold 0 contain 1 class"),
    ),
}


@pytest.mark.parametrize(
    ("X", "y", "expected"), SCORER_CASES.values(), ids=SCORER_CASES.keys()
)
def test_frame_scorer_invalid(X, y, expected):
    """FrameScorer rejects inputs it cannot score, naming the problem."""

    error_type, pattern = expected
    with pytest.raises(error_type, match=pattern):
        skpool.FrameScorer(LogisticRegression(), cv=2).fit_transform(X, y)


def test_frame_scorer_keeps_empty_video():
    """A video without frames comes out of FrameScorer as an empty video."""

    videos = RaggedFrames.from_list(
        [*FEATURES, np.empty((0, 2))], ids=[f"v{i}" for i in range(7)]
    )
    scores = skpool.FrameScorer(LogisticRegression(), cv=2).fit_transform(
        videos, [*FEATURE_LABELS, 0]
    )
    assert scores.lengths.tolist() == [3] * 6 + [0]
    assert scores.ids.tolist() == videos.ids.tolist()
    assert np.all((scores.values >= 0) & (scores.values <= 1))


# Labels given to fit ------------------------------------------------------

THREE_VIDEOS = [[0.1], [0.5], [0.9]]

Y_CASES = {
    "one-class": ([1, 1, 1], (ValueError, r"exactly 2 classes in y; got 1 class")),
    "three-classes": ([0, 1, 2], (ValueError, r"3 classes \[0, 1, 2\].*exactly 2")),
    "too-short": ([0, 1], (ValueError, r"X has 3 videos but y has 2 labels")),
    "too-long": ([0, 1, 0, 1], (ValueError, r"X has 3 videos but y has 4 labels")),
    "nan": ([0, 1, np.nan], (ValueError, r"NaN")),
    "continuous": ([0.2, 0.7, 0.9], (ValueError, r"[Uu]nknown label type|continuous")),
    "2d": ([[0, 1, 1]], (ValueError, r"1d array|shape")),
    "none": (None, (ValueError, r"requires y")),
    "strings-without-pos-label": (
        ["real", "fake", "fake"],
        (ValueError, r"not 0/1, -1/1 or booleans.*pos_label"),
    ),
    "booleans": ([False, True, True], [False, True]),
    "minus-one-one": ([-1, 1, 1], [-1, 1]),
}


# scikit-learn's label checks cast NaN labels to int before raising.
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@pytest.mark.parametrize(("y", "expected"), Y_CASES.values(), ids=Y_CASES.keys())
def test_aggregator_fit_labels(y, expected):
    """fit on bad labels: the right classes or an error naming the problem."""
    model = VideoAggregator()
    if isinstance(expected, tuple):
        error_type, pattern = expected
        with pytest.raises(error_type, match=pattern):
            model.fit(THREE_VIDEOS, y)
    else:
        model.fit(THREE_VIDEOS, y)
        assert model.classes_.tolist() == expected
        assert_allclose(model.predict_proba(THREE_VIDEOS)[:, 1], [0.1, 0.5, 0.9])


def test_string_labels_with_pos_label():
    """String labels work once pos_label names the class the scores are for."""
    model = VideoAggregator(pos_label="fake").fit(
        THREE_VIDEOS, ["real", "fake", "fake"]
    )
    assert model.classes_.tolist() == ["fake", "real"]
    assert_allclose(model.predict_proba(THREE_VIDEOS)[:, 0], [0.1, 0.5, 0.9])


# Scoring folds with one class ----------------------------------------------

LOG_LOSS_WITH_LABELS = make_scorer(
    log_loss, labels=[0, 1], response_method="predict_proba", greater_is_better=False
)


def test_log_loss_labels_one_class_fold():
    """A log loss scorer with labels= scores a test fold holding one class."""
    model = VideoAggregator().fit(TRAIN_X, TRAIN_Y)
    score = LOG_LOSS_WITH_LABELS(model, [[0.2], [0.3]], [0, 0])
    assert score == pytest.approx((np.log(0.8) + np.log(0.7)) / 2)


def test_cross_val_one_class_test_folds():
    """Folds whose test part has one class score with labels=, fold by fold."""
    X = [[0.2], [0.3], [0.6], [0.9], [0.1], [0.8]]
    y = np.array([0, 0, 1, 1, 0, 1])
    # Test fold 0 is videos 0 and 1, both of class 0. Test fold 1 is videos
    # 2 and 3, both of class 1. Videos 4 and 5 are always in training.
    splits = PredefinedSplit([0, 0, 1, 1, -1, -1])
    scores = cross_val_score(
        VideoAggregator(), X, y, cv=splits, scoring=LOG_LOSS_WITH_LABELS
    )
    expected = [(np.log(0.8) + np.log(0.7)) / 2, (np.log(0.6) + np.log(0.9)) / 2]
    assert_allclose(scores, expected)


def test_cross_val_one_class_training_fold_raises():
    """A training fold with one class raises the estimator's clear message."""
    X = [[0.2], [0.3], [0.6], [0.9]]
    y = [0, 0, 1, 1]
    splits = PredefinedSplit([1, 1, 0, 0])
    with pytest.raises(ValueError, match=r"exactly 2 classes in y.*StratifiedKFold"):
        cross_val_score(VideoAggregator(), X, y, cv=splits, error_score="raise")


def test_grid_search_on_ragged_with_unicode_ids():
    """GridSearchCV keeps every video of a container with unicode and repeated ids."""
    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 10)
    videos = RaggedFrames.from_list(
        [np.clip(rng.normal(0.3 + 0.4 * label, 0.1, size=5), 0, 1) for label in y],
        ids=["vidéo 1.mp4", " b .mp4"] * 10,
    )
    search = GridSearchCV(
        VideoAggregator(),
        {"method": ["mean", "max"]},
        scoring=LOG_LOSS_WITH_LABELS,
        cv=StratifiedKFold(4),
    )
    search.fit(videos, y)
    proba = search.predict_proba(videos)
    assert proba.shape == (20, 2)
    statistic = np.max if search.best_params_["method"] == "max" else np.mean
    expected = [statistic(videos[position]) for position in range(20)]
    assert_allclose(proba[:, 1], expected)


# Loaders --------------------------------------------------------------------


def _write_text(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _write_npy_object(tmp_path, name, content):
    path = tmp_path / name
    np.save(path, np.array(content, dtype=object), allow_pickle=True)
    return path


CSV_HEADER = "video,frame,score\n"

PREDICTION_FILE_CASES = {
    "csv-truncated-last-line": (
        "p.csv",
        CSV_HEADER + "a.mp4,0,0.5\na.mp4,1,",
        {},
        (ValueError, r"last line of '.*p.csv' is incomplete"),
    ),
    "csv-empty": ("p.csv", "", {}, (ValueError, r"'.*p.csv' is empty")),
    "csv-header-only": ("p.csv", CSV_HEADER, {}, (ValueError, r"has no rows")),
    "csv-string-score": (
        "p.csv",
        CSV_HEADER + "a.mp4,0,0.5\nb.mp4,0,abc\n",
        {},
        (ValueError, r"not numbers: 'abc' for video 'b.mp4'"),
    ),
    "csv-boolean-scores": (
        "p.csv",
        CSV_HEADER + "a.mp4,0,True\nb.mp4,0,False\n",
        {},
        (ValueError, r"booleans"),
    ),
    "csv-repeated-frame": (
        "p.csv",
        CSV_HEADER + "a.mp4,0,0.5\na.mp4,0,0.7\n",
        {},
        (ValueError, r"more than one row: \('a.mp4', 0\)"),
    ),
    "csv-missing-video-id": (
        "p.csv",
        CSV_HEADER + "a.mp4,0,0.5\n,1,0.7\n",
        {},
        (ValueError, r"no value in column 'video'.*positions 1"),
    ),
    "csv-missing-score-column": (
        "p.csv",
        "video,frame,p_fake\na.mp4,0,0.5\n",
        {},
        (ValueError, r"no score column 'score'.*'p_fake'"),
    ),
    "csv-unicode-space-ids": (
        "p.csv",
        CSV_HEADER + "vidéo 1.mp4,1,0.75\n007,0,0.5\nvidéo 1.mp4,0,0.25\n",
        {},
        {"vidéo 1.mp4": [0.25, 0.75], "007": [0.5]},
    ),
    "csv-na-like-ids": (
        "p.csv",
        CSV_HEADER + "NA,0,NaN\nNA,1,None\nnull,0,0.5\nnan,0,nan\n",
        {},
        {"NA": [np.nan, np.nan], "null": [0.5], "nan": [np.nan]},
    ),
    "csv-nan-scores-kept": (
        "p.csv",
        CSV_HEADER + "a.mp4,0,\na.mp4,1,0.5\nb.mp4,0,\n",
        {},
        {"a.mp4": [np.nan, 0.5], "b.mp4": [np.nan]},
    ),
    "json-given-as-predictions": (
        "p.json",
        "{}",
        {},
        (ValueError, r"unknown extension '.json'"),
    ),
}


@pytest.mark.parametrize(
    ("name", "content", "options", "expected"),
    PREDICTION_FILE_CASES.values(),
    ids=PREDICTION_FILE_CASES.keys(),
)
def test_load_predictions_file(tmp_path, name, content, options, expected):
    """load_predictions on bad text files: the right frames or a clear error."""
    path = _write_text(tmp_path, name, content)
    if isinstance(expected, tuple):
        error_type, pattern = expected
        with pytest.raises(error_type, match=pattern):
            skpool.load_predictions(path, **options)
        return
    videos = skpool.load_predictions(path, **options)
    assert videos.ids.tolist() == list(expected)
    for video, frames in zip(videos, expected.values(), strict=True):
        assert_array_equal(video, frames)


NPY_CASES = {
    "pickled-list": (
        [[0.1, 0.2]],
        True,
        (ValueError, r"pickled ndarray, not a dict|not a dict"),
    ),
    "pickled-string": ("scores", True, (ValueError, r"pickled str, not a dict")),
    "pickled-dict-without-allow": (
        {"a": [0.1]},
        False,
        (ValueError, r"allow_pickle=True"),
    ),
    "pickled-dict-string-scores": (
        {"a.mp4": "0.1 0.2"},
        True,
        (ValueError, r"Video 'a.mp4'.*string"),
    ),
    "pickled-dict-2d-scores": (
        {"a.mp4": np.ones((2, 2))},
        True,
        (ValueError, r"Video 'a.mp4'.*shape \(2, 2\)"),
    ),
    "pickled-dict-no-id": ({None: [0.1]}, True, (ValueError, r"video with no id")),
    "pickled-empty-dict": ({}, True, (ValueError, r"contains no videos")),
    "pickled-dict": ({"b.mp4": [0.9, np.nan], "a b.mp4": []}, True, None),
}


@pytest.mark.parametrize(
    ("content", "allow_pickle", "expected"), NPY_CASES.values(), ids=NPY_CASES.keys()
)
def test_load_predictions_pickled_npy(tmp_path, content, allow_pickle, expected):
    """A pickled .npy that is not a {video: scores} dict raises, naming the file."""
    path = tmp_path / "p.npy"
    array = np.empty((), dtype=object)
    array[()] = content
    np.save(path, array, allow_pickle=True)
    if expected is None:
        videos = skpool.load_predictions(path, allow_pickle=allow_pickle)
        assert videos.ids.tolist() == ["b.mp4", "a b.mp4"]
        assert_array_equal(videos[0], [0.9, np.nan])
        assert videos.lengths.tolist() == [2, 0]
        return
    error_type, pattern = expected
    with pytest.raises(error_type, match=pattern):
        skpool.load_predictions(path, allow_pickle=allow_pickle)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("p.npy", b""),
        ("p.npz", b""),
        ("p.csv.gz", b""),
        ("p.parquet", b""),
        ("p.npy", b"\x93NUMPY"),
        ("p.npz", b"PK\x03\x04"),
        ("p.parquet", b"PAR1"),
    ],
    ids=["npy", "npz", "csv-gz", "parquet", "npy-magic", "npz-magic", "parquet-magic"],
)
def test_empty_or_truncated_file_raises(tmp_path, name, content):
    """Empty and truncated binary files raise ValueError naming the file."""
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"'.*{name}'"):
        skpool.load_predictions(path, ids=["a"] if name.endswith(".npy") else None)


def test_npz_without_members_raises(tmp_path):
    """A valid .npz without arrays raises, saying it contains no videos."""
    path = tmp_path / "p.npz"
    np.savez(path)
    with pytest.raises(ValueError, match=r"contains no videos"):
        skpool.load_predictions(path)


def test_npy_padded_wrong_ids_raises(tmp_path):
    """A padded .npy with the wrong number of ids raises with both counts."""
    path = tmp_path / "p.npy"
    np.save(path, np.array([[0.1, np.nan], [0.5, 0.6]]))
    with pytest.raises(ValueError, match=r"'.*p.npy' has 2 videos but 3 ids"):
        skpool.load_predictions(path, ids=["a", "b", "c"])
    videos = skpool.load_predictions(path, ids=["a", "b"])
    assert_array_equal(videos[0], [0.1])


def test_npy_padded_duplicate_ids_raises(tmp_path):
    """Duplicate ids for a padded .npy raise, naming the repeated id."""
    path = tmp_path / "p.npy"
    np.save(path, np.array([[0.1], [0.5]]))
    with pytest.raises(ValueError, match=r"names 1 videos more than once: 'a'"):
        skpool.load_predictions(path, ids=["a", "a"])


def test_dict_masked_scores_read_as_nan():
    """A masked array in a {video: scores} dict keeps its masked frames as NaN."""
    scores = np.ma.masked_array([0.1, 0.9], mask=[False, True])
    videos = skpool.load_predictions({"a.mp4": scores})
    assert_array_equal(videos[0], [0.1, np.nan])


def test_inf_in_csv_names_video_at_fit(tmp_path):
    """An inf score read from a CSV is rejected by the estimator, naming the video."""
    path = _write_text(
        tmp_path, "p.csv", CSV_HEADER + "a.mp4,0,0.2\nvidéo 2.mp4,0,inf\n"
    )
    videos = skpool.load_predictions(path)
    with pytest.raises(ValueError, match=r"video 'vidéo 2.mp4' \(position 1\) has inf"):
        VideoAggregator().fit(videos, [0, 1])


METADATA_CASES = {
    "missing-label": (
        {"a.mp4": {"label": "FAKE"}, "b b.mp4": {"split": "train"}},
        (ValueError, r"Video 'b b.mp4' in '.*metadata.json' has no 'label' field"),
    ),
    "unknown-label": (
        {"a.mp4": {"label": "MAYBE"}},
        (ValueError, r"Video 'a.mp4' .* has label 'MAYBE'"),
    ),
    "label-not-string": ({"a.mp4": {"label": 1}}, (ValueError, r"has label 1")),
    "entry-not-object": ({"a.mp4": "FAKE"}, (ValueError, r"Video 'a.mp4'.*no 'label'")),
    "list": ([{"label": "FAKE"}], (ValueError, r"contains a list")),
    "empty-object": ({}, (ValueError, r"contains no videos")),
    "lower-case-and-unicode": (
        {"vidéo 1.mp4": {"label": "fake"}, "b.mp4": {"label": "REAL"}},
        {"vidéo 1.mp4": 1, "b.mp4": 0},
    ),
}


@pytest.mark.parametrize(
    ("content", "expected"), METADATA_CASES.values(), ids=METADATA_CASES.keys()
)
def test_load_dfdc_labels_file(tmp_path, content, expected):
    """load_dfdc_labels on bad metadata: the right labels or a clear error."""
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    if isinstance(expected, tuple):
        error_type, pattern = expected
        with pytest.raises(error_type, match=pattern):
            skpool.load_dfdc_labels(path)
        return
    labels = skpool.load_dfdc_labels(path)
    assert labels.to_dict() == expected


def test_dfdc_labels_missing_for_requested_video(tmp_path):
    """A requested video without a label is named; missing='nan' gives NaN for it."""
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps({"a.mp4": {"label": "FAKE"}}))
    with pytest.raises(ValueError, match=r"1 of 2 videos have no label: 'zz.mp4'"):
        skpool.load_dfdc_labels(path, ["a.mp4", "zz.mp4"])
    labels = skpool.load_dfdc_labels(path, ["a.mp4", "zz.mp4"], missing="nan")
    assert_array_equal(labels, [1.0, np.nan])


def test_dfdc_labels_conflict_across_files(tmp_path):
    """The same video labelled differently in two files is an error naming it."""
    first = tmp_path / "one.json"
    second = tmp_path / "two.json"
    first.write_text(json.dumps({"a.mp4": {"label": "FAKE"}}))
    second.write_text(json.dumps({"a.mp4": {"label": "REAL"}}))
    with pytest.raises(ValueError, match=r"conflicting labels: 'a.mp4'"):
        skpool.load_dfdc_labels([first, second])


LABEL_TABLE_CASES = {
    "conflicting-duplicate": (
        "video,label\na.mp4,1\na.mp4,0\n",
        (ValueError, r"conflicting labels: 'a.mp4'"),
    ),
    "same-duplicate": (
        "video,label\na.mp4,1\na.mp4,1\nb.mp4,0\n",
        {"a.mp4": 1, "b.mp4": 0},
    ),
    "missing-label": (
        "video,label\na.mp4,1\nb.mp4,\n",
        (ValueError, r"no value in column 'label'.*positions 1"),
    ),
    "no-label-column": (
        "video,target\na.mp4,1\n",
        (ValueError, r"no label column 'label'"),
    ),
    "header-only": ("video,label\n", (ValueError, r"no rows of labels")),
}


@pytest.mark.parametrize(
    ("content", "expected"), LABEL_TABLE_CASES.values(), ids=LABEL_TABLE_CASES.keys()
)
def test_load_labels_file(tmp_path, content, expected):
    """load_labels on bad tables: the right labels or a clear error."""
    path = _write_text(tmp_path, "labels.csv", content)
    if isinstance(expected, tuple):
        error_type, pattern = expected
        with pytest.raises(error_type, match=pattern):
            skpool.load_labels(path)
        return
    assert skpool.load_labels(path).to_dict() == expected


def test_load_dataset_keeps_videos_without_predictions():
    """A labelled video without predictions is kept and pooled to fill_value."""
    predictions = {"a.mp4": [0.9, 0.7], "extra.mp4": [0.1]}
    labels = {"a.mp4": 1, "no frames.mp4": 0}
    with pytest.warns(UserWarning) as caught:
        videos, y = skpool.load_dataset(predictions, labels)
    messages = " ".join(str(warning.message) for warning in caught)
    assert "no predictions: 'no frames.mp4'" in messages
    assert "left out: 'extra.mp4'" in messages
    assert videos.ids.tolist() == ["a.mp4", "no frames.mp4"]
    assert_array_equal(y, [1, 0])
    proba = VideoAggregator(fill_value=0.3).fit(videos, y).predict_proba(videos)
    assert_allclose(proba[:, 1], [0.8, 0.3])


SUBMISSION_CASES = {
    "nan": (
        ["a.mp4", "b.mp4"],
        [0.5, np.nan],
        r"1 probabilities are not finite: 'b.mp4'",
    ),
    "above-one": (["a.mp4", "b.mp4"], [1.5, 0.5], r"outside \[0, 1\]: 'a.mp4': 1.5"),
    "negative": (["a.mp4"], [-0.1], r"outside \[0, 1\]: 'a.mp4'"),
    "duplicate-ids": (["a.mp4", "a.mp4"], [0.5, 0.5], r"more than once: 'a.mp4'"),
    "wrong-length": (["a.mp4", "b.mp4"], [0.5], r"2 video ids and 1 probabilities"),
    "proba-2d": (["a.mp4"], [[0.5, 0.5]], r"proba must be 1-D.*proba\[:, 1\]"),
    "missing-id": (
        ["a.mp4", None],
        [0.5, 0.5],
        r"1 video ids are missing, at positions 1",
    ),
    "strings": (["a.mp4"], ["0.5"], r"proba must hold numbers"),
}


@pytest.mark.parametrize(
    ("ids", "proba", "pattern"), SUBMISSION_CASES.values(), ids=SUBMISSION_CASES.keys()
)
def test_write_submission_invalid(tmp_path, ids, proba, pattern):
    """write_submission refuses values that would make a wrong submission."""
    path = tmp_path / "submission.csv"
    with pytest.raises(ValueError, match=pattern):
        skpool.write_submission(path, ids, proba)
    assert not path.exists()


def test_write_submission_unicode_ids(tmp_path):
    """Ids with accents, spaces and commas survive the CSV round trip."""
    path = tmp_path / "submission.csv"
    ids = ["vidéo 1.mp4", "a,b.mp4", " c.mp4"]
    skpool.write_submission(path, ids, [0.25, 0.5, 1.0])
    table = pd.read_csv(path, dtype={"filename": str})
    assert table["filename"].tolist() == ids
    assert_array_equal(table["label"], [0.25, 0.5, 1.0])


def test_save_predictions_colliding_ids(tmp_path):
    """Ids that become the same string (1 and "1") are rejected, not merged."""
    videos = RaggedFrames.from_list([[0.1], [0.2]], ids=[1, "1"])
    with pytest.raises(ValueError, match=r"more than once: '1'"):
        skpool.save_predictions(tmp_path / "p.npz", videos)


# Long tables pooled by skpool.dask ---------------------------------------------

DASK_TABLE_CASES = {
    "inf": (
        [("a", 0, 0.1), ("b", 0, np.inf)],
        (ValueError, r"video 'b' .*has inf"),
    ),
    "string-score": (
        [("a", 0, "0.1"), ("b", 0, "abc")],
        (ValueError, r"not numbers: 'abc' for video 'b'"),
    ),
    "repeated-frame": (
        [("a", 0, 0.1), ("a", 0, 0.2)],
        (ValueError, r"more than one row: \('a', 0\)"),
    ),
    "nan-only-video": ([("a", 0, np.nan), ("b", 0, 0.4)], {"a": 0.5, "b": 0.4}),
    "unicode-space-ids": (
        [("vidéo 1", 0, 0.1), ("vidéo 1", 1, 0.3), (" b ", 0, 0.2)],
        {" b ": 0.2, "vidéo 1": 0.2},
    ),
}


@pytest.mark.parametrize("engine", ["pandas", "dask"])
@pytest.mark.parametrize(
    ("rows", "expected"), DASK_TABLE_CASES.values(), ids=DASK_TABLE_CASES.keys()
)
def test_dask_pool_frames_table(rows, expected, engine):
    """skpool.dask.pool_frames: the right mean per video or a clear error."""
    from skpool.dask import pool_frames

    table = pd.DataFrame(rows, columns=["video", "frame", "score"])
    if engine == "dask":
        dataframe = pytest.importorskip("dask.dataframe")
        table = dataframe.from_pandas(table, npartitions=2)
    if isinstance(expected, tuple):
        error_type, pattern = expected
        with pytest.raises(error_type, match=pattern):
            pool_frames(table, ["mean"])
        return
    pooled = pool_frames(table, ["mean"])
    assert pooled["mean"].to_dict() == pytest.approx(expected)


# The command line ------------------------------------------------------------


@pytest.fixture
def cli_files(tmp_path):
    """Write small prediction, label and list files for the command line."""
    files = {
        "ok.csv": CSV_HEADER + "a.mp4,0,0.2\na.mp4,1,0.4\nb b.mp4,0,0.9\n",
        "inf.csv": CSV_HEADER + "a.mp4,0,0.2\nvidéo.mp4,0,inf\n",
        "empty.csv": "",
        "list.csv": "filename,label\na.mp4,0.5\nb b.mp4,0.5\nmissing.mp4,0.5\n",
        "nolabel.json": json.dumps({"a.mp4": {"label": "FAKE"}, "b b.mp4": {}}),
        "oneclass.json": json.dumps(
            {"a.mp4": {"label": "FAKE"}, "b b.mp4": {"label": "FAKE"}}
        ),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


CLI_ERROR_CASES = {
    "missing-file": (
        ["predict", "{dir}/nope.csv", "--out", "{dir}/o.csv"],
        r"nope.csv",
    ),
    "empty-csv": (["predict", "{dir}/empty.csv", "--out", "{dir}/o.csv"], r"is empty"),
    "inf-score": (
        ["predict", "{dir}/inf.csv", "--out", "{dir}/o.csv"],
        r"video 'vidéo.mp4' \(position 1\) has inf",
    ),
    "unknown-method": (
        ["predict", "{dir}/ok.csv", "--out", "{dir}/o.csv", "--method", "nope"],
        r"--method 'nope' is unknown",
    ),
    "label-missing": (
        ["compare", "{dir}/ok.csv", "--labels", "{dir}/nolabel.json"],
        r"Video 'b b.mp4' .* has no 'label' field",
    ),
    "one-class": (
        ["compare", "{dir}/ok.csv", "--labels", "{dir}/oneclass.json"],
        r"both classes",
    ),
    "q-out-of-range": (
        [
            "predict",
            "{dir}/ok.csv",
            "--out",
            "{dir}/o.csv",
            "--method",
            "quantile",
            "--q",
            "2",
        ],
        r"'q' parameter .* Got 2.0",
    ),
}


@pytest.mark.parametrize(
    ("argv", "pattern"), CLI_ERROR_CASES.values(), ids=CLI_ERROR_CASES.keys()
)
def test_cli_error(cli_files, capsys, argv, pattern):
    """Bad command-line input exits 1 with one error line naming the problem."""
    status = skpool_main([arg.format(dir=cli_files) for arg in argv])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err.startswith("skpool: error: ")
    assert len(captured.err.strip().splitlines()) == 1
    assert re.search(pattern, captured.err), captured.err
    assert not (cli_files / "o.csv").exists()


def test_cli_predict_keeps_listed_video_without_predictions(cli_files, capsys):
    """A listed video without predictions gets fill_value in the submission."""
    out = cli_files / "o.csv"
    argv = ["predict", str(cli_files / "ok.csv"), "--out", str(out)]
    argv += ["--video-list", str(cli_files / "list.csv"), "--fill-value", "0.4"]
    assert skpool_main(argv) == 0
    assert "missing.mp4" in capsys.readouterr().err
    table = pd.read_csv(out)
    assert table["filename"].tolist() == ["a.mp4", "b b.mp4", "missing.mp4"]
    assert_allclose(table["label"], [0.3, 0.9, 0.4])


# Large inputs -----------------------------------------------------------------


def _pool(videos, method, **params):
    model = VideoAggregator(method=method, **params).fit(TRAIN_X, TRAIN_Y)
    return model.transform(videos)[:, 0]


LARGE_CHECKS = [
    ("mean", {}),
    ("max", {}),
    ("quantile", {"q": 0.7}),
    ("trimmed_mean", {"trim": 0.2}),
]


def test_million_one_frame_videos():
    """1,000,000 videos of one frame each pool to their frame."""
    rng = np.random.default_rng(0)
    frames = rng.random(1_000_000)
    videos = RaggedFrames.from_lengths(frames, np.ones(len(frames), dtype=np.int64))
    for method, params in LARGE_CHECKS:
        assert_array_equal(_pool(videos, method, **params), frames, err_msg=method)


def test_ten_million_frame_video():
    """One video of 10,000,000 frames pools like numpy and scipy on the flat array."""
    rng = np.random.default_rng(1)
    frames = rng.random(10_000_000)
    videos = RaggedFrames.from_lengths(frames, [len(frames)])
    expected = {
        "mean": frames.mean(),
        "max": frames.max(),
        "quantile": np.quantile(frames, 0.7),
        "trimmed_mean": scipy.stats.trim_mean(frames, 0.2),
    }
    for method, params in LARGE_CHECKS:
        assert_allclose(_pool(videos, method, **params), [expected[method]], rtol=1e-12)


def test_long_and_short_videos_not_padded():
    """No statistic pads many short videos to the length of one long video.

    Padding to n_videos x max_frames would take 2,001 x 200,000 floats,
    about 3.2 GB, against 1.6 MB of frames. Each statistic, sort included,
    peaks near 5 times the frames' memory; the bound leaves room for more.
    """
    rng = np.random.default_rng(2)
    lengths = np.r_[np.ones(2_000, dtype=np.int64), 200_000]
    frames = rng.random(int(lengths.sum()))
    pooled = {}
    for method in skpool.STATISTICS:
        videos = RaggedFrames.from_lengths(frames, lengths)
        params = {"k": 0.1} if method == "topk_mean" else {}
        tracemalloc.start()
        try:
            pooled[method] = _pool(videos, method, **params)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 50 * frames.nbytes, method
    long_video = frames[2_000:]
    assert_array_equal(pooled["max"][:2_000], frames[:2_000])
    assert_array_equal(pooled["mean"][:2_000], frames[:2_000])
    assert_allclose(pooled["mean"][-1], long_video.mean(), rtol=1e-12)
    assert_allclose(pooled["quantile"][-1], np.quantile(long_video, 0.5), rtol=1e-12)
    top = np.sort(long_video)[-20_000:]
    assert_allclose(pooled["topk_mean"][-1], top.mean(), rtol=1e-12)


def test_many_videos_near_tied_frames():
    """500,000 two-frame videos with frames 1e-16 apart sort exactly within each video.

    The vectorized sort orders all frames by video number plus scaled score,
    which cannot separate such close scores once video numbers are large.
    """
    rng = np.random.default_rng(5)
    n_videos = 500_000
    first = rng.random(n_videos)
    offsets = rng.choice([0.0, 1e-16, -1e-16, 1e-12, -1e-12, 0.3, -0.3], size=n_videos)
    second = np.clip(first + offsets, 0, 1)
    frames = np.column_stack([first, second]).ravel()
    videos = RaggedFrames.from_lengths(frames, np.full(n_videos, 2))
    assert_array_equal(_pool(videos, "max"), np.maximum(first, second))
    assert_array_equal(_pool(videos, "min"), np.minimum(first, second))
    assert_array_equal(_pool(videos, "quantile", q=0.0), np.minimum(first, second))


def test_cli_video_list_numeric_names(cli_files, capsys):
    """File names such as 007 in --video-list stay strings and match their videos."""
    predictions = cli_files / "numeric.csv"
    predictions.write_text(CSV_HEADER + "007,0,0.9\n123,0,0.8\nNA,0,0.1\n")
    video_list = cli_files / "numeric_list.csv"
    video_list.write_text("filename,label\n007,0.5\n123,0.5\nNA,0.5\n")
    out = cli_files / "o.csv"
    argv = ["predict", str(predictions), "--out", str(out)]
    assert skpool_main([*argv, "--video-list", str(video_list)]) == 0
    assert capsys.readouterr().err == ""
    table = pd.read_csv(out, dtype={"filename": str}, keep_default_na=False)
    assert table["filename"].tolist() == ["007", "123", "NA"]
    assert_allclose(table["label"], [0.9, 0.8, 0.1])


@pytest.mark.parametrize("missing_id", [None, np.nan], ids=["none", "nan"])
def test_align_videos_missing_requested_id(missing_id):
    """A requested id that is None or NaN raises, naming its position."""
    videos = RaggedFrames.from_list([[0.1], [0.2]], ids=["a", "b"])
    with pytest.raises(
        ValueError, match=r"1 missing ids \(None or NaN\), at positions 1"
    ):
        skpool.align_videos(videos, ["a", missing_id])


def test_align_videos_predictions_with_missing_ids():
    """Predictions whose ids repeat None are reported as repeated, not a crash."""
    videos = RaggedFrames.from_list([[0.1], [0.2], [0.3]], ids=[None, "a", None])
    with pytest.raises(ValueError, match=r"names 1 videos more than once: (None|nan)"):
        skpool.align_videos(videos, ["a"])


def test_load_dataset_integer_and_string_ids(tmp_path):
    """Integer ids in Parquet and the same ids as text in a CSV raise, not fill."""
    pytest.importorskip("pyarrow")
    predictions = tmp_path / "predictions.parquet"
    table = pd.DataFrame(
        {"video": [7, 7, 8], "frame": [0, 1, 0], "score": [0.9, 0.8, 0.1]}
    )
    table.to_parquet(predictions)
    labels = _write_text(tmp_path, "labels.csv", "video,label\n7,1\n8,0\n")
    # load_dataset warns about the unmatched videos before it raises.
    with (
        pytest.warns(UserWarning) as caught,
        pytest.raises(
            ValueError, match=r"'7' \(str\) matches .* 7 \(int\) only as text"
        ),
    ):
        skpool.load_dataset(predictions, labels)
    messages = " ".join(str(warning.message) for warning in caught)
    assert "left out: 7, 8" in messages
    assert "no predictions: '7', '8'" in messages


def test_align_videos_integer_request_for_string_ids():
    """Requesting 7 from videos named "7" raises instead of returning no frames."""
    videos = RaggedFrames.from_list([[0.1], [0.2]], ids=["7", "8"])
    with pytest.raises(
        ValueError, match=r"7 \(int\) matches .* '7' \(str\) only as text"
    ):
        skpool.align_videos(videos, [7, 8], missing="ignore")
