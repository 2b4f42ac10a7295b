"""Tests of FrameScorer: frame features to out-of-fold frame probabilities."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from skpool import FrameScorer, RaggedFrames, VideoAggregator


def make_feature_videos(n_videos=24, n_features=3, shift=1.0, seed=0, max_frames=6):
    """Videos of Gaussian frame features whose first feature moves with the label."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n_videos // 2)
    lengths = rng.integers(1, max_frames + 1, size=n_videos)
    values = rng.normal(size=(lengths.sum(), n_features))
    values[:, 0] += shift * np.repeat(y, lengths)
    ids = [f"video_{i}.mp4" for i in range(n_videos)]
    return RaggedFrames.from_lengths(values, lengths, ids=ids), y


def test_transform_matches_frame_model():
    """transform scores every frame with a model trained on all frames."""
    videos, y = make_feature_videos()
    scorer = FrameScorer(LogisticRegression(), cv=3).fit(videos, y)
    reference = LogisticRegression().fit(videos.values, np.repeat(y, videos.lengths))

    scores = scorer.transform(videos)

    np.testing.assert_allclose(
        scores.values, reference.predict_proba(videos.values)[:, 1]
    )
    np.testing.assert_array_equal(scores.offsets, videos.offsets)
    np.testing.assert_array_equal(scores.ids, videos.ids)
    assert scores.n_features is None


def test_fit_transform_matches_manual_folds():
    """Out-of-fold scores equal a loop that trains on the other folds' videos."""
    videos, y = make_feature_videos(n_videos=12)
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    scores = FrameScorer(LogisticRegression(), cv=cv).fit_transform(videos, y)

    frames = videos.to_list()
    for train, test in cv.split(np.zeros(len(y)), y):
        train_frames = np.concatenate([frames[i] for i in train])
        train_labels = np.concatenate([[y[i]] * len(frames[i]) for i in train])
        model = LogisticRegression().fit(train_frames, train_labels)
        for i in test:
            np.testing.assert_allclose(scores[i], model.predict_proba(frames[i])[:, 1])


def test_out_of_fold_scores_are_not_memorised():
    """A memorising frame model is near 0/1 in fold, not out of fold."""
    # Features are pure noise, so only memorisation separates the classes.
    videos, y = make_feature_videos(n_videos=40, shift=0.0, seed=1)
    frame_labels = np.repeat(y, videos.lengths)
    for model in [
        KNeighborsClassifier(n_neighbors=1),
        DecisionTreeClassifier(random_state=0),
    ]:
        scorer = FrameScorer(model, cv=4)
        out_of_fold = scorer.fit_transform(videos, y).values
        in_fold = scorer.transform(videos).values

        in_fold_accuracy = np.mean((in_fold > 0.5) == frame_labels)
        out_of_fold_accuracy = np.mean((out_of_fold > 0.5) == frame_labels)
        assert in_fold_accuracy == 1.0
        assert out_of_fold_accuracy < 0.7


def test_zero_frame_videos_stay_empty():
    """A video without frames comes out empty and pools to fill_value."""
    videos, y = make_feature_videos(n_videos=8)
    frames = videos.to_list()
    frames[2] = np.empty((0, 3))
    with_empty = RaggedFrames.from_list(frames)

    scores = FrameScorer(LogisticRegression(), cv=2).fit_transform(with_empty, y)

    assert scores.lengths[2] == 0
    np.testing.assert_array_equal(scores.lengths, with_empty.lengths)
    pooled = VideoAggregator(fill_value=0.3).fit(scores, y).predict_proba(scores)[:, 1]
    assert pooled[2] == 0.3


def test_list_of_arrays_input():
    """A list of 2-D arrays gives the same scores as the container."""
    videos, y = make_feature_videos(n_videos=10)
    scorer = FrameScorer(LogisticRegression(), cv=2)

    from_container = scorer.fit_transform(videos, y)
    from_list = scorer.fit_transform(videos.to_list(), y)

    np.testing.assert_allclose(from_list.values, from_container.values)


def test_pos_label_selects_column():
    """String labels need pos_label, which picks the probability column."""
    videos, y = make_feature_videos(n_videos=10)
    labels = np.where(y == 1, "fake", "real")
    with pytest.raises(ValueError, match="Set pos_label"):
        FrameScorer(LogisticRegression()).fit(videos, labels)

    fake = FrameScorer(LogisticRegression(), pos_label="fake").fit(videos, labels)
    real = FrameScorer(LogisticRegression(), pos_label="real").fit(videos, labels)

    np.testing.assert_allclose(
        fake.transform(videos).values, 1 - real.transform(videos).values
    )


def test_equal_video_weight_uses_inverse_lengths():
    """video_weight='equal' weights each frame by 1 / frames of its video."""
    videos, y = make_feature_videos(n_videos=10)
    scorer = FrameScorer(LogisticRegression(), video_weight="equal").fit(videos, y)
    weights = np.repeat(1.0 / videos.lengths, videos.lengths)
    reference = LogisticRegression().fit(
        videos.values, np.repeat(y, videos.lengths), sample_weight=weights
    )

    np.testing.assert_allclose(
        scorer.transform(videos).values, reference.predict_proba(videos.values)[:, 1]
    )


def test_scores_instead_of_features_rejected():
    """1-D frame scores are rejected with a hint to pool them directly."""
    videos = [np.array([0.1, 0.2]), np.array([0.9])]
    with pytest.raises(ValueError, match="one score per frame"):
        FrameScorer(LogisticRegression()).fit(videos, [0, 1])


def test_feature_count_mismatch_rejected():
    """transform rejects a different number of features per frame."""
    videos, y = make_feature_videos(n_videos=8)
    scorer = FrameScorer(LogisticRegression(), cv=2).fit(videos, y)
    other, _ = make_feature_videos(n_videos=8, n_features=2)
    with pytest.raises(ValueError, match=r"2 features per frame.*fitted with 3"):
        scorer.transform(other)


def test_fold_without_both_classes_rejected():
    """A training fold whose frames hold one class gets a clear error."""
    videos, y = make_feature_videos(n_videos=6)
    cv = [
        (np.array([0, 2]), np.array([1, 3, 4, 5])),
        (np.array([1, 3, 4, 5]), np.array([0, 2])),
    ]
    with pytest.raises(ValueError, match="training fold 0 contain 1 class"):
        FrameScorer(LogisticRegression(), cv=cv).fit_transform(videos, y)


def test_labels_invalid():
    """FrameScorer checks video labels with the message VideoAggregator gives."""
    videos, _ = make_feature_videos(n_videos=6)
    scorer = FrameScorer(LogisticRegression(), cv=2)
    with pytest.raises(ValueError, match="FrameScorer requires y to be passed"):
        scorer.fit(videos, None)
    with pytest.raises(ValueError, match=r"3 classes \[0, 1, 2\].*needs exactly 2"):
        scorer.fit(videos, [0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match=r"got 1 class\(es\) \[1\].*StratifiedKFold"):
        scorer.fit(videos, np.ones(6, dtype=int))


def test_cv_not_a_partition_rejected():
    """A cv that leaves a video out of every test fold is rejected."""
    videos, y = make_feature_videos(n_videos=6)
    cv = [(np.array([0, 1, 2, 3]), np.array([4, 5]))]
    with pytest.raises(ValueError, match="exactly one test fold"):
        FrameScorer(LogisticRegression(), cv=cv).fit_transform(videos, y)


def test_estimator_without_predict_proba_rejected():
    """The frame model must have predict_proba."""
    from sklearn.svm import LinearSVC

    videos, y = make_feature_videos(n_videos=6)
    with pytest.raises(ValueError, match="'estimator' parameter of FrameScorer"):
        FrameScorer(LinearSVC()).fit(videos, y)


def test_pipeline_grid_search_over_both_steps():
    """GridSearchCV tunes the frame model and the pooling together."""
    videos, y = make_feature_videos(n_videos=30, seed=3)
    pipeline = Pipeline(
        [
            ("frames", FrameScorer(LogisticRegression(), cv=3)),
            ("pool", VideoAggregator()),
        ]
    )
    grid = {"frames__estimator__C": [0.1, 1.0], "pool__method": ["mean", "max"]}
    search = GridSearchCV(
        pipeline, grid, cv=StratifiedKFold(3), scoring="neg_log_loss"
    ).fit(videos, y)

    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    proba = search.predict_proba(videos)
    assert proba.shape == (30, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_equal_video_weight_needs_sample_weight():
    """video_weight='equal' with a model without sample_weight is rejected."""
    videos, y = make_feature_videos(n_videos=6)
    scorer = FrameScorer(KNeighborsClassifier(), video_weight="equal")
    with pytest.raises(ValueError, match=r"KNeighborsClassifier\.fit does not accept"):
        scorer.fit(videos, y)


def test_minus_one_one_labels_default_to_one():
    """Labels -1/1 score the probability of 1, like 0/1 labels."""
    videos, y = make_feature_videos(n_videos=10)
    signed = FrameScorer(LogisticRegression(), cv=2).fit(videos, 2 * y - 1)
    binary = FrameScorer(LogisticRegression(), cv=2).fit(videos, y)

    assert signed.pos_label_ == 1
    np.testing.assert_allclose(
        signed.transform(videos).values, binary.transform(videos).values
    )


def test_groups_keep_related_videos_together():
    """With a group splitter, no group has videos on both sides of a fold."""
    base, _ = make_feature_videos(n_videos=8, shift=0.0, seed=2)
    # Each of 8 groups has 3 identical videos at positions g, g + 8, g + 16,
    # so only a model that trained on the same group recognises the frames.
    groups = np.tile(np.arange(8), 3)
    y = groups % 2
    copied = RaggedFrames.from_list([base[group] for group in groups])
    frame_labels = np.repeat(y, copied.lengths)
    scorer = FrameScorer(KNeighborsClassifier(n_neighbors=1))

    # KFold(3) without shuffling puts one copy of every group in each fold.
    leaky = scorer.set_params(cv=KFold(3)).fit_transform(copied, y).values
    grouped = (
        scorer.set_params(cv=StratifiedGroupKFold(n_splits=4))
        .fit_transform(copied, y, groups=groups)
        .values
    )

    assert np.mean((leaky > 0.5) == frame_labels) == 1.0
    assert np.mean((grouped > 0.5) == frame_labels) < 0.8


def test_pipeline_passes_groups():
    """Pipeline.fit routes frames__groups to FrameScorer.fit_transform."""
    videos, y = make_feature_videos(n_videos=12)
    groups = np.repeat(np.arange(6), 2)
    pipeline = Pipeline(
        [
            ("frames", FrameScorer(LogisticRegression(), cv=StratifiedGroupKFold(2))),
            ("pool", VideoAggregator()),
        ]
    )

    pipeline.fit(videos, y, frames__groups=groups)

    assert pipeline.predict_proba(videos).shape == (12, 2)
