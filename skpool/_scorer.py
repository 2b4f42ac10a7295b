"""FrameScorer: turn per-frame features into out-of-fold per-frame probabilities."""

from numbers import Integral
from typing import ClassVar

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.model_selection import check_cv
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ._ragged import RaggedFrames, as_ragged
from ._segments import gather_index
from ._sklearn_compat import HasMethods, StrOptions, _fit_context
from ._validation import check_video_labels, resolve_pos_label

__all__ = ["FrameScorer"]


class FrameScorer(TransformerMixin, BaseEstimator):
    """Score every frame with a classifier trained on frames labelled by video.

    Videos are given as frame features: a `RaggedFrames` whose ``values``
    are 2-D (frames x features), or a list of 2-D arrays. Every frame is
    labelled with its video's label and ``estimator`` learns to predict it
    from the frame's features. The output is a `RaggedFrames` of frame
    probabilities of ``pos_label``, with the same offsets and ids, ready
    for `VideoAggregator` or `FramePooler`.

    `fit_transform` returns out-of-fold probabilities: the videos are
    split into ``cv`` folds, and each video's frames are scored by a model
    trained on the other folds only. A frame model that memorises its
    training frames would otherwise pass scores near 0 and 1 to the next
    step, unlike the scores it produces for new videos. `fit` also trains one model
    on all frames, used by `transform`. In a `~sklearn.pipeline.Pipeline`
    this gives the intended behaviour: the pipeline's ``fit`` calls
    `fit_transform` and its ``predict`` calls `transform`.

    Parameters
    ----------
    estimator : classifier
        Frame-level classifier with ``fit`` and ``predict_proba``. It is
        cloned for every fold and for the final model.

    cv : int, cross-validation generator or iterable, default=5
        Splits of the videos for the out-of-fold scores of
        `fit_transform`. An integer is the number of folds of
        `~sklearn.model_selection.StratifiedKFold` over videos. A splitter
        or iterable of ``(train, test)`` video positions must put every
        video in exactly one test fold. Frames of one video are always in
        the same fold, because the split is over videos.

    pos_label : int, bool, str or None, default=None
        The class whose probability is returned. With labels 0/1, -1/1 or
        booleans it defaults to 1 (True); other labels require it.

    video_weight : {"frames", "equal"}, default="frames"
        How frames are weighted when training ``estimator``. ``"frames"``
        gives each frame weight 1, so long videos count more.
        ``"equal"`` gives each frame weight ``1 / n_frames`` of its video,
        so every video counts the same; ``estimator.fit`` must then
        accept ``sample_weight``.

    n_jobs : int or None, default=None
        Number of folds fitted in parallel by joblib. None means 1.

    Attributes
    ----------
    estimator_ : classifier
        The frame model trained on the frames of all training videos,
        used by `transform`.

    classes_ : ndarray of shape (2,)
        Sorted video labels.

    pos_label_ : int, bool or str
        The class whose probability `transform` returns.

    n_frame_features_ : int
        Number of features per frame seen in `fit`.

    See Also
    --------
    VideoAggregator : Pool frame probabilities into video probabilities.
    FramePooler : Statistics of frame probabilities as video features.

    Notes
    -----
    Videos with no frames are allowed: they train nothing and come out
    as empty videos, which `VideoAggregator` gives its ``fill_value``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skpool import FrameScorer, RaggedFrames
    >>> rng = np.random.default_rng(0)
    >>> y = np.array([0, 1] * 5)
    >>> videos = RaggedFrames.from_list(
    ...     [rng.normal(label, 1.0, size=(4, 2)) for label in y]
    ... )
    >>> scores = FrameScorer(LogisticRegression(), cv=2).fit_transform(videos, y)
    >>> scores
    RaggedFrames(n_videos=10, n_frames=40, frames per video 4-4, scores)
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "cv": ["cv_object"],
        "pos_label": [None, str, Integral, np.bool_],
        "video_weight": [StrOptions({"frames", "equal"})],
        "n_jobs": [None, Integral],
    }

    def __init__(
        self, estimator, *, cv=5, pos_label=None, video_weight="frames", n_jobs=None
    ):
        self.estimator = estimator
        self.cv = cv
        self.pos_label = pos_label
        self.video_weight = video_weight
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Train the frame model on the frames of all videos.

        Parameters
        ----------
        X : RaggedFrames or list of 2-D array-like
            Frame features of each video, frames x features.

        y : array-like of shape (n_videos,)
            Video labels, two classes.

        Returns
        -------
        self : FrameScorer
            The fitted transformer.
        """
        videos, y = self._check_fit_input(X, y)
        self._check_video_weight()
        self._fit_final(videos, y)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y=None, groups=None):
        """Fit, then return out-of-fold frame probabilities for ``X``.

        Parameters
        ----------
        X : RaggedFrames or list of 2-D array-like
            Frame features of each video, frames x features.

        y : array-like of shape (n_videos,)
            Video labels, two classes.

        groups : array-like of shape (n_videos,), default=None
            Group of each video, passed to ``cv.split``, for splitters
            such as `~sklearn.model_selection.StratifiedGroupKFold` that
            keep related videos (same actor or source) in one fold.

        Returns
        -------
        RaggedFrames
            Frame probabilities of ``pos_label_``, each video scored by a
            model that did not train on it; same offsets and ids as ``X``.
        """
        videos, y = self._check_fit_input(X, y)
        self._check_video_weight()
        out_of_fold = self._out_of_fold(videos, y, groups)
        self._fit_final(videos, y)
        return RaggedFrames(out_of_fold, videos.offsets, ids=videos.ids)

    def transform(self, X):
        """Return frame probabilities from the model trained on all frames.

        Parameters
        ----------
        X : RaggedFrames or list of 2-D array-like
            Frame features of each video, frames x features.

        Returns
        -------
        RaggedFrames
            Frame probabilities of ``pos_label_``; same offsets and ids as
            ``X``.
        """
        check_is_fitted(self)
        videos = self._check_features(X)
        if videos.n_features != self.n_frame_features_:
            raise ValueError(
                f"X has {videos.n_features} features per frame, but FrameScorer was "
                f"fitted with {self.n_frame_features_}. Pass frames with the "
                "features, in the same order, that fit saw."
            )
        probabilities = self._positive_proba(self.estimator_, videos.values)
        return RaggedFrames(probabilities, videos.offsets, ids=videos.ids)

    def _check_features(self, X):
        videos = as_ragged(X)
        if videos.n_features is None:
            raise ValueError(
                "FrameScorer needs frame features (a 2-D array of frames x features "
                "per video), but these videos hold one score per frame. Pool scores "
                "with VideoAggregator or FramePooler directly; for a single feature "
                "per frame, reshape each video to (n_frames, 1)."
            )
        return videos

    def _check_fit_input(self, X, y):
        videos = self._check_features(X)
        y, classes = check_video_labels(y, len(videos), estimator_name="FrameScorer")
        self.classes_ = classes
        self.pos_label_ = resolve_pos_label(
            classes,
            self.pos_label,
            reason="FrameScorer cannot tell which class to score",
        )
        self.n_frame_features_ = videos.n_features
        return videos, y

    def _check_video_weight(self):
        if self.video_weight == "equal" and not has_fit_parameter(
            self.estimator, "sample_weight"
        ):
            raise ValueError(
                f"video_weight='equal' weights frames through sample_weight, but "
                f"{type(self.estimator).__name__}.fit does not accept sample_weight. "
                "Use video_weight='frames' or an estimator that accepts it."
            )

    def _frame_weights(self, lengths):
        if self.video_weight == "frames":
            return None
        return np.repeat(1.0 / np.maximum(lengths, 1), lengths)

    def _fit_frames(self, videos, y, description):
        """Fit a clone of ``estimator`` on frames labelled with their video's label."""
        lengths = videos.lengths
        frame_labels = np.repeat(y, lengths)
        present = np.unique(frame_labels)
        if len(present) != 2:
            raise ValueError(
                f"The frames of {description} contain {len(present)} class(es) "
                f"{present.tolist()!r}; the frame model needs both. Videos without "
                "frames train nothing, so check that each class has videos with "
                "frames in every training fold (fewer folds or StratifiedKFold help)."
            )
        estimator = clone(self.estimator)
        weights = self._frame_weights(lengths)
        if weights is None:
            estimator.fit(videos.values, frame_labels)
        else:
            estimator.fit(videos.values, frame_labels, sample_weight=weights)
        return estimator

    def _positive_proba(self, estimator, frames):
        if len(frames) == 0:
            return np.zeros(0, dtype=np.float64)
        column = np.flatnonzero(np.asarray(estimator.classes_) == self.pos_label_)
        return estimator.predict_proba(frames)[:, column[0]].astype(np.float64)

    def _fit_final(self, videos, y):
        self.estimator_ = self._fit_frames(videos, y, "the training videos")

    def _out_of_fold(self, videos, y, groups):
        cv = check_cv(self.cv, y, classifier=True)
        placeholder = np.zeros((len(videos), 1))
        splits = list(cv.split(placeholder, y, groups))
        test_positions = np.concatenate([test for _, test in splits])
        if np.sort(test_positions).tolist() != list(range(len(videos))):
            raise ValueError(
                f"cv={self.cv!r} does not put every video in exactly one test fold, "
                "so some videos would get no out-of-fold frame scores, or two. Use "
                "a KFold-like splitter."
            )

        def fit_and_score(fold, train, test):
            model = self._fit_frames(videos[train], y[train], f"training fold {fold}")
            return self._positive_proba(model, videos[test].values)

        fold_scores = Parallel(n_jobs=self.n_jobs)(
            delayed(fit_and_score)(fold, train, test)
            for fold, (train, test) in enumerate(splits)
        )

        # Place each fold's frame scores at the frames of its test videos.
        out_of_fold = np.empty(len(videos.values), dtype=np.float64)
        starts = videos.offsets[:-1]
        lengths = videos.lengths
        for (_, test), scores in zip(splits, fold_scores, strict=True):
            out_of_fold[gather_index(starts[test], lengths[test])] = scores
        return out_of_fold

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
