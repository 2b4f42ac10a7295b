"""VideoAggregator with scikit-learn's model selection tools and its input checks."""

import pickle
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from joblib import parallel_backend
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skpool import RaggedFrames, VideoAggregator, default_grid

N_VIDEOS = 120


def make_dataset(seed=0, n_videos=N_VIDEOS):
    """Return seeded (videos, y) with y in {0, 1} and scores inside (0.001, 0.999).

    Positive videos draw frames from Beta(4, 2) and negative ones from
    Beta(2, 4), with 17 to 300 frames and NaN holes in every fourth video.
    """
    rng = np.random.default_rng(seed)
    y = (rng.random(n_videos) < 0.4).astype(np.int64)
    videos = []
    for position, label in enumerate(y):
        n_frames = int(rng.integers(17, 301))
        a, b = (4.0, 2.0) if label else (2.0, 4.0)
        frames = np.clip(rng.beta(a, b, size=n_frames), 0.001, 0.999)
        if position % 4 == 0:
            frames[rng.random(n_frames) < 0.1] = np.nan
            frames[0] = 0.5
        videos.append(frames)
    return videos, y


VIDEOS, Y = make_dataset()
IDS = [f"video_{position:03d}.mp4" for position in range(N_VIDEOS)]


def as_padded(videos):
    width = max(len(frames) for frames in videos)
    padded = np.full((len(videos), width), np.nan)
    for row, frames in enumerate(videos):
        padded[row, : len(frames)] = frames
    return padded


FORMS = {
    "list": VIDEOS,
    "padded": as_padded(VIDEOS),
    "ragged": RaggedFrames.from_list(VIDEOS, ids=IDS),
}


def per_video(function, videos=VIDEOS):
    """Apply ``function`` to each video's non-NaN frames."""
    return np.array([function(frames[~np.isnan(frames)]) for frames in videos])


def manual_log_loss(y_true_positive, p_positive):
    """Binary log loss with probabilities clipped to machine epsilon, as sklearn."""
    eps = np.finfo(np.float64).eps
    p = np.clip(p_positive, eps, 1 - eps)
    q = np.clip(1 - p_positive, eps, 1 - eps)
    return -np.mean(np.where(y_true_positive, np.log(p), np.log(q)))


CV = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
GRID = {
    "method": ["mean", "max", "median", "confident", "logit_mean"],
    "clip": [None, 0.01, 0.1],
}


# Model selection gives the same numbers for every input form.


def test_grid_search_same_across_forms():
    """GridSearchCV scores every candidate identically on list, padded and ragged."""
    results = {}
    for name, X in FORMS.items():
        search = GridSearchCV(
            VideoAggregator(), GRID, scoring="neg_log_loss", cv=CV, error_score="raise"
        )
        search.fit(X, Y)
        results[name] = search

    scores = {name: s.cv_results_["mean_test_score"] for name, s in results.items()}
    assert np.isfinite(scores["list"]).all()
    np.testing.assert_array_equal(scores["padded"], scores["list"])
    np.testing.assert_array_equal(scores["ragged"], scores["list"])
    assert results["padded"].best_params_ == results["list"].best_params_
    assert results["ragged"].best_params_ == results["list"].best_params_


def test_cross_val_score_same_across_forms():
    """cross_val_score with StratifiedKFold is identical for the three forms."""
    model = VideoAggregator(method="trimmed_mean", trim=0.2, clip=0.02)

    scores = {
        name: cross_val_score(model, X, Y, cv=CV, scoring="neg_log_loss")
        for name, X in FORMS.items()
    }

    assert scores["list"].shape == (5,)
    np.testing.assert_array_equal(scores["padded"], scores["list"])
    np.testing.assert_array_equal(scores["ragged"], scores["list"])


def test_cross_val_score_matches_manual_folds():
    """Each fold's score is the log loss of the pooled test videos."""
    model = VideoAggregator(method="median", clip=0.05)
    pooled = np.clip(per_video(np.median), 0.05, 0.95)

    scores = cross_val_score(model, FORMS["ragged"], Y, cv=CV, scoring="neg_log_loss")

    for fold, (_, test) in enumerate(CV.split(VIDEOS, Y)):
        expected = -manual_log_loss(Y[test] == 1, pooled[test])
        assert scores[fold] == pytest.approx(expected, rel=0, abs=1e-12)


def test_cross_val_predict_same_across_forms():
    """Out-of-fold probabilities of a fixed statistic are the pooled values."""
    model = VideoAggregator(method="max")
    expected = per_video(np.max)

    for name, X in FORMS.items():
        proba = cross_val_predict(model, X, Y, cv=CV, method="predict_proba")

        assert proba.shape == (N_VIDEOS, 2), name
        np.testing.assert_allclose(proba[:, 1], expected, rtol=0, atol=1e-15)
        np.testing.assert_allclose(proba[:, 0], 1 - expected, rtol=0, atol=1e-15)


def test_train_test_split_same_across_forms():
    """train_test_split subsets every form, and ids follow a RaggedFrames."""
    split = {
        name: train_test_split(X, Y, test_size=0.25, stratify=Y, random_state=0)
        for name, X in FORMS.items()
    }
    _, ragged_test, _, y_test = split["ragged"]
    _, positions = train_test_split(
        np.arange(N_VIDEOS), test_size=0.25, stratify=Y, random_state=0
    )

    assert isinstance(ragged_test, RaggedFrames)
    assert list(ragged_test.ids) == [IDS[i] for i in positions]
    probabilities = {}
    for name, (X_train, X_test, y_train, y_test_form) in split.items():
        np.testing.assert_array_equal(y_test_form, y_test)
        model = VideoAggregator(method="topk_mean", k=0.25).fit(X_train, y_train)
        probabilities[name] = model.predict_proba(X_test)
    np.testing.assert_array_equal(probabilities["padded"], probabilities["list"])
    np.testing.assert_array_equal(probabilities["ragged"], probabilities["list"])


def test_pipeline_same_across_forms():
    """VideoAggregator as the transformer of a Pipeline, on every form."""
    pipeline = Pipeline(
        [
            ("pool", VideoAggregator(method="quantile", q=0.8)),
            ("lr", LogisticRegression()),
        ]
    )

    proba = {
        name: cross_val_predict(pipeline, X, Y, cv=CV, method="predict_proba")
        for name, X in FORMS.items()
    }

    assert proba["list"].shape == (N_VIDEOS, 2)
    np.testing.assert_array_equal(proba["padded"], proba["list"])
    np.testing.assert_array_equal(proba["ragged"], proba["list"])


def test_pipeline_final_step():
    """A Pipeline ending in VideoAggregator predicts like the estimator alone."""
    pipeline = Pipeline([("pool", VideoAggregator(method="lse", sharpness=3.0))])
    alone = VideoAggregator(method="lse", sharpness=3.0)

    got = pipeline.fit(FORMS["ragged"], Y).predict_proba(FORMS["ragged"])

    np.testing.assert_array_equal(got, alone.fit(VIDEOS, Y).predict_proba(VIDEOS))


def test_clone_and_pickle():
    """clone copies the parameters only, and a pickled model predicts the same."""
    model = VideoAggregator(method="autopool", alpha=3.0, clip=(0.02, 0.9))
    model.fit(FORMS["ragged"], Y)

    copy = clone(model)
    loaded = pickle.loads(pickle.dumps(model))

    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "classes_")
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    for X in FORMS.values():
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_default_grid_runs():
    """GridSearchCV over default_grid() fits every candidate without error."""
    videos, y = make_dataset(seed=1, n_videos=40)
    search = GridSearchCV(
        VideoAggregator(),
        default_grid(),
        scoring="neg_log_loss",
        cv=StratifiedKFold(3),
        error_score="raise",
    )

    search.fit(RaggedFrames.from_list(videos), y)

    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert len(search.cv_results_["params"]) == len(ParameterGrid(default_grid()))


# String labels and pos_label.


STRING_GRID = {
    "method": ["mean", "max", "median", "quantile", "topk_mean"],
    "q": [0.9],
    "clip": [None, 0.005, 0.05, 0.2],
}
STRING_REFERENCES = {
    "mean": np.mean,
    "max": np.max,
    "median": np.median,
    "quantile": lambda frames: np.quantile(frames, 0.9),
    "topk_mean": lambda frames: np.mean(
        np.sort(frames)[::-1][: max(1, int(np.floor(0.2 * len(frames))))]
    ),
}


def test_grid_search_string_labels_picks_best_log_loss():
    """With FAKE/REAL labels, the search picks the setting of least log loss."""
    y = np.where(Y == 1, "FAKE", "REAL")
    search = GridSearchCV(
        VideoAggregator(pos_label="FAKE"),
        STRING_GRID,
        scoring="neg_log_loss",
        cv=CV,
        error_score="raise",
    )
    search.fit(FORMS["ragged"], y)

    losses = {}
    for method, reference in STRING_REFERENCES.items():
        pooled = per_video(reference)
        for clip in STRING_GRID["clip"]:
            low, high = (0.0, 1.0) if clip is None else (clip, 1 - clip)
            p_fake = np.clip(pooled, low, high)
            fold_losses = [
                manual_log_loss(y[test] == "FAKE", p_fake[test])
                for _, test in CV.split(VIDEOS, y)
            ]
            losses[(method, clip)] = np.mean(fold_losses)
    best_loss = min(losses.values())
    # Clips that cut no pooled value tie, and GridSearchCV then picks the
    # first such candidate, so every method of best loss is one setting.
    tied = [setting for setting, loss in losses.items() if loss <= best_loss + 1e-12]
    chosen = (search.best_params_["method"], search.best_params_["clip"])
    other_methods = [loss for (m, _), loss in losses.items() if m != tied[0][0]]

    assert len({method for method, _ in tied}) == 1
    assert min(other_methods) > best_loss + 1e-6
    assert chosen in tied
    assert losses[chosen] == pytest.approx(best_loss, rel=0, abs=1e-12)
    assert -search.best_score_ == pytest.approx(best_loss, rel=0, abs=1e-12)
    for params, score in zip(
        search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
    ):
        expected = losses[(params["method"], params["clip"])]
        assert -score == pytest.approx(expected, rel=0, abs=1e-12), params

    model = search.best_estimator_
    assert model.classes_.tolist() == ["FAKE", "REAL"]
    assert model.pos_label_ == "FAKE"
    method, clip = chosen
    low, high = (0.0, 1.0) if clip is None else (clip, 1 - clip)
    expected_fake = np.clip(per_video(STRING_REFERENCES[method]), low, high)
    proba = model.predict_proba(FORMS["ragged"])
    np.testing.assert_allclose(proba[:, 0], expected_fake, rtol=0, atol=1e-15)
    np.testing.assert_allclose(proba[:, 1], 1 - expected_fake, rtol=0, atol=1e-15)
    assert (
        model.predict(FORMS["ragged"]).tolist()
        == np.where(expected_fake > 0.5, "FAKE", "REAL").tolist()
    )


def test_pos_label_zero_puts_scores_in_column_zero():
    """pos_label=0 makes the frame scores the probability of class 0."""
    model = VideoAggregator(pos_label=0).fit(VIDEOS, Y)

    proba = model.predict_proba(VIDEOS)

    np.testing.assert_allclose(proba[:, 0], per_video(np.mean), rtol=0, atol=1e-15)
    assert model.pos_label_ == 0


@pytest.mark.parametrize(
    "labels, expected",
    [([0, 1], 1), ([-1, 1], 1), ([False, True], True), ([0.0, 1.0], 1.0)],
)
def test_pos_label_default(labels, expected):
    """0/1, -1/1 and boolean labels need no pos_label."""
    y = np.array(labels)[Y]

    model = VideoAggregator().fit(VIDEOS, y)

    assert model.pos_label_ == expected
    np.testing.assert_allclose(
        model.predict_proba(VIDEOS)[:, 1], per_video(np.mean), rtol=0, atol=1e-15
    )


def test_pos_label_required_for_other_labels():
    y = np.where(Y == 1, "FAKE", "REAL")

    with pytest.raises(
        ValueError, match=r"\['FAKE', 'REAL'\] are not 0/1.*Set pos_label"
    ):
        VideoAggregator().fit(VIDEOS, y)


def test_pos_label_not_in_classes():
    y = np.where(Y == 1, "FAKE", "REAL")

    with pytest.raises(ValueError, match=r"pos_label='fake' is not one of the classes"):
        VideoAggregator(pos_label="fake").fit(VIDEOS, y)
    with pytest.raises(ValueError, match=r"pos_label=2 is not one of the classes"):
        VideoAggregator(pos_label=2).fit(VIDEOS, Y)


# Targets.


def test_one_class_raises():
    with pytest.raises(ValueError, match=r"needs exactly 2 classes in y; got 1.*\[1\]"):
        VideoAggregator().fit(VIDEOS[:5], np.ones(5, dtype=int))


def test_three_classes_raise():
    y = np.arange(6) % 3

    with pytest.raises(ValueError, match="Only binary classification is supported"):
        VideoAggregator().fit(VIDEOS[:6], y)


def test_continuous_y_raises():
    with pytest.raises(ValueError, match="Unknown label type"):
        VideoAggregator().fit(VIDEOS[:4], [0.1, 0.2, 0.3, 0.4])


def test_y_wrong_length():
    with pytest.raises(ValueError, match="X has 5 videos but y has 4 labels"):
        VideoAggregator().fit(VIDEOS[:5], [0, 1, 0, 1])


def test_y_none():
    with pytest.raises(ValueError, match="requires y to be passed"):
        VideoAggregator().fit(VIDEOS, None)


def test_y_column_vector_warns():
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        VideoAggregator().fit(VIDEOS, Y.reshape(-1, 1))


# Input scores.


def test_scores_outside_unit_interval_name_the_video():
    videos = RaggedFrames.from_list([[0.1, 0.2], [0.4, 1.5, 0.3], [-0.2]], ids=IDS[:3])

    message = re.escape(
        "video 'video_001.mp4' (position 1) has 1.5 (2 out-of-range scores"
    )
    with pytest.raises(ValueError, match=message + r".*logits=True"):
        VideoAggregator().fit(videos, [0, 1, 0])


def test_scores_outside_unit_interval_in_predict():
    model = VideoAggregator().fit(VIDEOS, Y)

    with pytest.raises(ValueError, match=r"video at position 1 has 2\.0"):
        model.predict_proba([[0.5], [0.1, 2.0]])


def test_logits_accept_any_real_score():
    """With logits=True, scores are mapped through the logistic function first."""
    rng = np.random.default_rng(3)
    logit_videos = [rng.normal(0, 4, size=n) for n in [5, 30, 17, 1]]
    y = [0, 1, 0, 1]
    expected = [np.mean(1 / (1 + np.exp(-frames))) for frames in logit_videos]

    model = VideoAggregator(logits=True).fit(logit_videos, y)

    np.testing.assert_allclose(
        model.predict_proba(logit_videos)[:, 1], expected, rtol=0, atol=1e-15
    )


def test_sparse_input_raises():
    with pytest.raises(TypeError, match="does not accept sparse input"):
        VideoAggregator().fit(scipy.sparse.csr_matrix(np.eye(3)), [0, 1, 0])


def test_float32_same_as_float64():
    """float32 frames give exactly the results of the same values in float64."""
    padded32 = FORMS["padded"].astype(np.float32)
    padded64 = padded32.astype(np.float64)
    list32 = [row[~np.isnan(row)] for row in padded32]
    for method in ["mean", "median", "confident", "power_mean", "lse"]:
        model = VideoAggregator(method=method, clip=0.01).fit(padded64, Y)
        expected = model.predict_proba(padded64)

        got_padded = clone(model).fit(padded32, Y).predict_proba(padded32)
        got_list = clone(model).fit(list32, Y).predict_proba(list32)

        np.testing.assert_array_equal(got_padded, expected, err_msg=method)
        np.testing.assert_array_equal(got_list, expected, err_msg=method)


def test_predict_proba_shape_dtype_and_sum():
    model = VideoAggregator(method="noisy_or", clip=0.03).fit(VIDEOS, Y)

    proba = model.predict_proba(FORMS["padded"])

    assert proba.dtype == np.float64
    assert proba.shape == (N_VIDEOS, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert proba.min() >= 0.03
    assert proba.max() <= 0.97


def test_predict_and_decision_function():
    """predict takes the larger column and decision_function is its log-odds."""
    model = VideoAggregator(method="mean").fit(VIDEOS, Y)
    pooled = per_video(np.mean)

    decision = model.decision_function(VIDEOS)

    np.testing.assert_allclose(decision, np.log(pooled / (1 - pooled)), atol=1e-12)
    np.testing.assert_array_equal(model.predict(VIDEOS), (pooled > 0.5).astype(int))


def test_decision_function_finite_at_zero_and_one():
    model = VideoAggregator(method="max").fit([[0.0], [1.0]], [0, 1])

    assert np.isfinite(model.decision_function([[0.0], [1.0]])).all()


def test_transform_and_feature_names():
    model = VideoAggregator(method="min", clip=0.1).fit(VIDEOS, Y)

    pooled = model.transform(FORMS["ragged"])

    assert pooled.shape == (N_VIDEOS, 1)
    np.testing.assert_allclose(pooled[:, 0], np.clip(per_video(np.min), 0.1, 0.9))
    assert model.get_feature_names_out().tolist() == ["pooled_proba"]


def test_not_fitted_raises():
    with pytest.raises(NotFittedError):
        VideoAggregator().predict_proba(VIDEOS)


# Callable method.


def test_callable_matches_named_statistic():
    """A callable statistic gives the same probabilities as the named one."""
    named = VideoAggregator(method="median", clip=0.01).fit(FORMS["ragged"], Y)
    custom = VideoAggregator(method=np.median, clip=0.01).fit(FORMS["ragged"], Y)

    for X in FORMS.values():
        np.testing.assert_allclose(
            custom.predict_proba(X), named.predict_proba(X), rtol=0, atol=1e-15
        )


def test_callable_gets_non_nan_frames_and_fills_empty():
    seen = []

    def first_frame(frames):
        seen.append(frames.copy())
        return frames[0]

    model = VideoAggregator(method=first_frame, fill_value=0.3)
    proba = model.fit([[np.nan, 0.7, 0.2], [], [np.nan]], [0, 1, 0]).transform(
        [[np.nan, 0.7, 0.2], [], [np.nan]]
    )

    np.testing.assert_array_equal(proba[:, 0], [0.7, 0.3, 0.3])
    np.testing.assert_array_equal(seen[-1], [0.7, 0.2])


def test_callable_bad_return_names_the_video():
    videos = RaggedFrames.from_list([[0.1], [0.9]], ids=["a.mp4", "b.mp4"])
    model = VideoAggregator(method=lambda frames: frames.sum() * 2).fit(videos, [0, 1])

    with pytest.raises(
        ValueError, match=r"returned 1\.8 for video 'b\.mp4' \(position 1\)"
    ):
        model.predict_proba(videos)
    model = VideoAggregator(method=lambda frames: "high").fit(videos, [0, 1])
    with pytest.raises(TypeError, match=r"returned 'high' for video 'a\.mp4'"):
        model.predict_proba(videos)


# Parameter validation.


@pytest.mark.parametrize(
    "params, name",
    [
        ({"method": "average"}, "method"),
        ({"q": 1.5}, "q"),
        ({"quantile_method": "interpolated"}, "quantile_method"),
        ({"trim": 0.5}, "trim"),
        ({"k": 0}, "k"),
        ({"k": 1.5}, "k"),
        ({"gamma": 0.0}, "gamma"),
        ({"threshold": -0.1}, "threshold"),
        ({"confident_high": 1.2}, "confident_high"),
        ({"confident_min_count": -1}, "confident_min_count"),
        ({"confident_divisor": 0.0}, "confident_divisor"),
        ({"clip": 0.5}, "clip"),
        ({"clip": "0.01"}, "clip"),
        ({"fill_value": 1.5}, "fill_value"),
        ({"pos_label": 1.5}, "pos_label"),
        ({"logits": "yes"}, "logits"),
        ({"power": np.inf}, "power"),
    ],
)
def test_invalid_parameter_names_it(params, name):
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter"):
        VideoAggregator(**params).fit(VIDEOS, Y)


@pytest.mark.parametrize(
    "clip", [(0.5, 0.2), (0.1,), ("a", 0.9), (-0.1, 0.9), (0.1, 1.1)]
)
def test_invalid_clip_tuple(clip):
    with pytest.raises(ValueError, match=r"The 'clip' parameter.*\(low, high\)"):
        VideoAggregator(clip=clip).fit(VIDEOS, Y)


def test_confident_low_above_high():
    with pytest.raises(
        ValueError, match=r"confident_low=0\.9 must be below confident_high=0\.8"
    ):
        VideoAggregator(confident_low=0.9).fit(VIDEOS, Y)


def test_clip_tuple_bounds():
    model = VideoAggregator(method="max", clip=(0.2, 0.7)).fit(VIDEOS, Y)

    pooled = model.transform(VIDEOS)[:, 0]

    np.testing.assert_array_equal(pooled, np.clip(per_video(np.max), 0.2, 0.7))


def test_frame_features_rejected():
    """Videos of frame feature vectors must be scored before pooling."""
    videos = [np.ones((3, 4)), np.zeros((2, 4))]

    with pytest.raises(ValueError, match=r"4 features per frame.*FrameScorer"):
        VideoAggregator().fit(videos, [0, 1])


def test_dataframe_rejected():
    frame = pd.DataFrame({"video": ["a", "a", "b"], "score": [0.1, 0.2, 0.3]})

    with pytest.raises(TypeError, match=r"Got a DataFrame.*load_predictions"):
        VideoAggregator().fit(frame, [0, 1, 0])


def test_grid_search_threads_same_as_sequential():
    """A threaded search shares one container's caches and scores the same."""
    grid = {"method": ["mean", "median", "max", "quantile"], "q": [0.2, 0.8]}
    sequential = GridSearchCV(VideoAggregator(), grid, scoring="neg_log_loss", cv=CV)
    sequential.fit(RaggedFrames.from_list(VIDEOS), Y)
    threaded = GridSearchCV(
        VideoAggregator(), grid, scoring="neg_log_loss", cv=CV, n_jobs=2
    )

    with parallel_backend("threading", n_jobs=2):
        threaded.fit(RaggedFrames.from_list(VIDEOS), Y)

    np.testing.assert_array_equal(
        threaded.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
    )
