"""VideoAggregator: a classifier that pools frame scores into video probabilities."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy.special import logit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._learn import LEARNABLE, apply_sigmoid, fit_sigmoid, learn_parameter
from ._sklearn_compat import Interval, RealNotInt, StrOptions, _fit_context
from ._stats import QUANTILE_METHODS, STATISTICS, pool_frames
from ._validation import (
    check_frame_scores,
    check_video_labels,
    describe_video,
    resolve_pos_label,
)

__all__ = ["VideoAggregator", "default_grid"]

# decision_function clips probabilities to [eps, 1 - eps] so that log-odds
# stay finite for videos pooled to exactly 0 or 1.
_DECISION_EPS = 1e-15


class VideoAggregator(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Pool per-frame probabilities into one probability per video.

    Each video is a sequence of frame scores, the probability of
    ``pos_label`` given by a frame-level model. The video's probability is
    a statistic of its frames (``method``), optionally recalibrated
    (``calibration``), then clipped to ``clip``. Fixed statistics learn
    nothing in ``fit`` beyond the classes, so the estimator is a cheap
    candidate for ``GridSearchCV`` with ``scoring="neg_log_loss"``. With
    ``alpha``, ``power`` or ``sharpness`` set to None, or with
    ``calibration="sigmoid"``, ``fit`` learns those from the training
    videos.

    Parameters
    ----------
    method : str or callable, default="mean"
        Statistic applied to each video's non-NaN frame scores:

        - ``"mean"``, ``"median"``, ``"max"``, ``"min"``;
        - ``"quantile"``: level ``q``, numpy's ``quantile_method``;
        - ``"trimmed_mean"``: drop ``int(trim * n)`` scores from each end,
          as ``scipy.stats.trim_mean`` does;
        - ``"topk_mean"``: mean of the ``k`` highest scores;
        - ``"logit_mean"``: logistic of the mean log-odds, with scores
          clipped to ``[1e-6, 1 - 1e-6]``;
        - ``"confident"``: the Deepfake Detection Challenge winners' rule,
          see ``confident_*``;
        - ``"power_mean"`` (``power``), ``"lse"`` (``sharpness``),
          ``"noisy_or"``, ``"vote"`` (``threshold``), ``"linear_softmax"``,
          ``"autopool"`` (``alpha``), ``"sharpened_mean"`` (``gamma``).

        A callable receives one video's 1-D array of non-NaN frame scores,
        in frame order, and returns a float in [0, 1]. It runs once per
        video in Python, so it is much slower than the named statistics.

    q : float, default=0.5
        Quantile level in [0, 1], for ``method="quantile"``.

    quantile_method : str, default="linear"
        Any ``method`` of ``numpy.quantile``, for ``method="quantile"``.

    trim : float, default=0.1
        Share in [0, 0.5) cut from each end, for ``method="trimmed_mean"``.

    k : int or float, default=0.2
        For ``method="topk_mean"``. An integer is a number of frames, all
        frames of shorter videos. A float in (0, 1] is a share of each
        video's frames, ``max(1, floor(k * n))`` of them.

    power : float or None, default=2.0
        Exponent of ``method="power_mean"``: very negative tends to the
        min, 0 is the geometric mean, 1 the mean, large tends to the max.
        None learns it in ``fit`` (see Notes), stored in ``power_``.

    sharpness : float or None, default=5.0
        ``r`` of ``method="lse"``, ``log(mean(exp(r * p))) / r``: 0 is the
        mean, large tends to the max, negative to the min. None learns
        it in ``fit``, stored in ``sharpness_``.

    alpha : float or None, default=5.0
        ``alpha`` of ``method="autopool"``, frames weighted by
        ``exp(alpha * p)``: 0 is the mean, large tends to the max and
        negative to the min. None learns it in ``fit``, stored in
        ``alpha_``.

    gamma : float, default=0.5
        Exponent of ``method="sharpened_mean"``; below 1 moves scores
        toward 0 and 1 before the confidence-weighted mean.

    threshold : float, default=0.5
        For ``method="vote"``, the share of frames scoring above it.

    confident_high : float, default=0.8
        ``method="confident"``: a frame above this is confidently positive.

    confident_low : float, default=0.2
        ``method="confident"``: a frame below this is confidently negative.

    confident_min_count : int, default=11
        ``method="confident"``: the confident positives are averaged only
        when there are more than this many of them ...

    confident_divisor : float, default=2.5
        ... and more than ``n // confident_divisor`` of the ``n`` frames.

    confident_low_share : float, default=0.9
        ``method="confident"``: otherwise the confident negatives are
        averaged when more than this share of frames are below
        ``confident_low``; otherwise all frames are averaged.

    calibration : {None, "sigmoid"}, default=None
        ``"sigmoid"`` fits Platt scaling in ``fit``: each pooled
        probability ``p`` becomes ``expit(a * logit(p) + b)``, with ``a``
        and ``b`` minimising the log loss of the training videos (Platt's
        smoothed 0/1 targets, ``p`` clipped to ``[1e-6, 1 - 1e-6]``). It
        is applied after pooling and before ``clip``; videos without a
        valid frame get ``fill_value`` uncalibrated.

    clip : None, float or tuple of (float, float), default=None
        Bounds applied to the pooled probability. A float ``eps`` in
        (0, 0.5) means ``(eps, 1 - eps)``. Clipping caps the log loss of a
        confident mistake.

    fill_value : float, default=0.5
        Probability given to a video with no valid frame (no frames, or
        only NaN). It is clipped like any other pooled value.

    pos_label : int, bool, str or None, default=None
        The class whose probability the frame scores are. With labels 0/1,
        -1/1 or booleans it defaults to 1 (True); other labels require it.

    logits : bool, default=False
        Whether frame scores are log-odds rather than probabilities. They
        are then mapped through the logistic function before pooling, and
        any real value is accepted.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Sorted class labels; ``predict_proba`` columns follow this order.

    pos_label_ : int, bool or str
        The class the frame scores refer to.

    alpha_, power_, sharpness_ : float
        The learned parameter of ``method="autopool"``, ``"power_mean"``
        or ``"lse"``, set only when that parameter is None.

    calibration_coef_, calibration_intercept_ : float
        Platt scaling ``a`` and ``b``, set only with
        ``calibration="sigmoid"``.

    See Also
    --------
    default_grid : A parameter grid over every statistic and a few clips.
    FramePooler : Many statistics per video, as features for another model.

    Notes
    -----
    NaN frame scores are ignored. Short videos make high quantiles and
    trimmed means coarse: with 10 frames, ``q=0.95`` interpolates between
    the two highest scores, and ``trim=0.05`` trims nothing.

    The confident rule follows the code published by the winning team of
    the Deepfake Detection Challenge (Seferbekov, 2020).

    A learned ``alpha``, ``power`` or ``sharpness`` minimises the binary
    log loss of the training videos' final probabilities, after
    calibration, ``fill_value`` and ``clip``. The search evaluates a grid
    of values from -100 to 100 (0, +-0.5, 1, 2, 5, 10, 20, 50, 100), then
    refines between the best grid point's neighbours with
    ``scipy.optimize.minimize_scalar(method="bounded")``, so the learned
    value lies in [-100, 100]. At 100 the three statistics are close to
    the max for scores in [0, 1]. With ``calibration="sigmoid"`` the
    Platt scaling is refitted for every value tried.

    Examples
    --------
    >>> from skpool import VideoAggregator
    >>> videos = [[0.9, 0.8, 0.95], [0.1, 0.3], [0.7, 0.9, 0.2, 0.8]]
    >>> model = VideoAggregator(method="quantile", q=0.75, clip=0.01)
    >>> model.fit(videos, [1, 0, 1]).predict_proba(videos)[:, 1].round(3)
    array([0.925, 0.25 , 0.825])
    """

    _parameter_constraints: ClassVar[dict] = {
        "method": [StrOptions(set(STATISTICS)), callable],
        "q": [Interval(Real, 0, 1, closed="both")],
        "quantile_method": [StrOptions(set(QUANTILE_METHODS))],
        "trim": [Interval(Real, 0, 0.5, closed="left")],
        "k": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "power": [None, Interval(Real, None, None, closed="neither")],
        "sharpness": [None, Interval(Real, None, None, closed="neither")],
        "alpha": [None, Interval(Real, None, None, closed="neither")],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "confident_high": [Interval(Real, 0, 1, closed="both")],
        "confident_low": [Interval(Real, 0, 1, closed="both")],
        "confident_min_count": [Interval(Integral, 0, None, closed="left")],
        "confident_divisor": [Interval(Real, 0, None, closed="neither")],
        "confident_low_share": [Interval(Real, 0, 1, closed="both")],
        "calibration": [None, StrOptions({"sigmoid"})],
        "clip": [None, Interval(Real, 0, 0.5, closed="neither"), tuple],
        "fill_value": [Interval(Real, 0, 1, closed="both")],
        "pos_label": [None, str, Integral, np.bool_],
        "logits": ["boolean"],
    }

    def __init__(
        self,
        *,
        method="mean",
        q=0.5,
        quantile_method="linear",
        trim=0.1,
        k=0.2,
        power=2.0,
        sharpness=5.0,
        alpha=5.0,
        gamma=0.5,
        threshold=0.5,
        confident_high=0.8,
        confident_low=0.2,
        confident_min_count=11,
        confident_divisor=2.5,
        confident_low_share=0.9,
        calibration=None,
        clip=None,
        fill_value=0.5,
        pos_label=None,
        logits=False,
    ):
        self.method = method
        self.q = q
        self.quantile_method = quantile_method
        self.trim = trim
        self.k = k
        self.power = power
        self.sharpness = sharpness
        self.alpha = alpha
        self.gamma = gamma
        self.threshold = threshold
        self.confident_high = confident_high
        self.confident_low = confident_low
        self.confident_min_count = confident_min_count
        self.confident_divisor = confident_divisor
        self.confident_low_share = confident_low_share
        self.calibration = calibration
        self.clip = clip
        self.fill_value = fill_value
        self.pos_label = pos_label
        self.logits = logits

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Check the frames, record the classes and learn what is to be learned.

        Besides the classes and ``pos_label_``, ``fit`` learns ``alpha_``,
        ``power_`` or ``sharpness_`` when that parameter is None, and the
        Platt scaling when ``calibration="sigmoid"``.

        Parameters
        ----------
        X : list of array-like, pandas Series, 2-D array or RaggedFrames
            Frame scores, one sequence per video; a 2-D array is one row
            per video with NaN padding.

        y : array-like of shape (n_videos,)
            Video labels, two classes.

        Returns
        -------
        self : VideoAggregator
            The fitted estimator.
        """
        self._check_clip()
        self._check_cross_params()
        videos = check_frame_scores(X, logits=self.logits)
        y, self.classes_ = check_video_labels(
            y, len(videos), estimator_name="VideoAggregator"
        )
        self.pos_label_ = resolve_pos_label(
            self.classes_,
            self.pos_label,
            reason=(
                "VideoAggregator cannot tell which class the frame scores are "
                "the probability of"
            ),
        )
        self._pos_column = int(np.flatnonzero(self.classes_ == self.pos_label_)[0])

        self._fit_learned(videos, y == self.pos_label_)
        return self

    def _learned_name(self):
        """Return the name of the parameter ``fit`` learns, or None."""
        learnable = LEARNABLE.get(self.method) if isinstance(self.method, str) else None
        if learnable is not None and getattr(self, learnable.name) is None:
            return learnable.name
        return None

    def _fit_learned(self, videos, y_positive):
        """Learn the statistic's parameter and the Platt scaling, if requested."""
        name = self._learned_name()
        if name is not None:

            def finish(pooled):
                calibration = None
                if self.calibration == "sigmoid":
                    calibration = fit_sigmoid(pooled, y_positive)
                return self._finish(pooled, calibration)

            value = learn_parameter(
                videos._sorted_frames(), self.method, y_positive, finish
            )
            setattr(self, f"{name}_", value)
        if self.calibration == "sigmoid":
            pooled = np.array(self._pool(videos), dtype=np.float64)
            coef, intercept = fit_sigmoid(pooled, y_positive)
            self.calibration_coef_ = coef
            self.calibration_intercept_ = intercept

    def _check_clip(self):
        clip = self.clip
        if isinstance(clip, tuple):
            valid = (
                len(clip) == 2
                and all(isinstance(bound, Real) for bound in clip)
                and 0 <= clip[0] < clip[1] <= 1
            )
            if not valid:
                raise ValueError(
                    "The 'clip' parameter of VideoAggregator as a tuple must be "
                    f"(low, high) with 0 <= low < high <= 1; got {clip!r}."
                )

    def _check_cross_params(self):
        if self.confident_low >= self.confident_high:
            raise ValueError(
                f"confident_low={self.confident_low!r} must be below "
                f"confident_high={self.confident_high!r}. Lower confident_low or "
                "raise confident_high."
            )

    def _clip_bounds(self):
        if self.clip is None:
            return 0.0, 1.0
        if isinstance(self.clip, tuple):
            return float(self.clip[0]), float(self.clip[1])
        return float(self.clip), 1.0 - float(self.clip)

    def _statistic_params(self):
        params = {
            name: getattr(self, name) for name in self.get_params() if name != "method"
        }
        learned = self._learned_name()
        if learned is not None:
            params[learned] = getattr(self, f"{learned}_")
        return params

    def _pool(self, videos):
        """Return the pooled probability of each video, before clipping and filling."""
        if callable(self.method):
            return _pool_with_callable(self.method, videos)
        return pool_frames(videos, self.method, **self._statistic_params())

    def _finish(self, pooled, calibration=None):
        """Calibrate pooled values, fill videos without frames, then clip."""
        if calibration is not None:
            pooled = apply_sigmoid(pooled, *calibration)
        else:
            pooled = np.array(pooled, dtype=np.float64)
        pooled[np.isnan(pooled)] = self.fill_value
        low, high = self._clip_bounds()
        return np.clip(pooled, low, high)

    def _positive_proba(self, X):
        videos = check_frame_scores(X, logits=self.logits)
        calibration = None
        if self.calibration == "sigmoid":
            calibration = (self.calibration_coef_, self.calibration_intercept_)
        return self._finish(self._pool(videos), calibration)

    def predict_proba(self, X):
        """Return class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : list of array-like, pandas Series, 2-D array or RaggedFrames
            Frame scores, one sequence per video.

        Returns
        -------
        ndarray of float64 of shape (n_videos, 2)
            Rows sum to 1.
        """
        check_is_fitted(self)
        positive = self._positive_proba(X)
        proba = np.empty((len(positive), 2), dtype=np.float64)
        proba[:, self._pos_column] = positive
        proba[:, 1 - self._pos_column] = 1.0 - positive
        return proba

    def predict_log_proba(self, X):
        """Return the log of `predict_proba`, ``-inf`` where it is 0.

        Parameters
        ----------
        X : list of array-like, pandas Series, 2-D array or RaggedFrames
            Frame scores, one sequence per video.

        Returns
        -------
        ndarray of float64 of shape (n_videos, 2)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def decision_function(self, X):
        """Return the log-odds of ``classes_[1]``, finite for every video.

        Parameters
        ----------
        X : list of array-like, pandas Series, 2-D array or RaggedFrames
            Frame scores, one sequence per video.

        Returns
        -------
        ndarray of float64 of shape (n_videos,)
        """
        proba = self.predict_proba(X)[:, 1]
        return logit(np.clip(proba, _DECISION_EPS, 1 - _DECISION_EPS))

    def predict(self, X):
        """Return the more probable class of each video (``classes_[0]`` on a tie).

        Parameters
        ----------
        X : list of array-like, pandas Series, 2-D array or RaggedFrames
            Frame scores, one sequence per video.

        Returns
        -------
        ndarray of shape (n_videos,)
            Labels taken from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def transform(self, X):
        """Return the probability of ``pos_label_`` from `predict_proba`, as one column.

        The values are pooled, calibrated when ``calibration="sigmoid"``,
        set to ``fill_value`` for videos without a valid frame, then clipped.

        Parameters
        ----------
        X : list of array-like, pandas Series, 2-D array or RaggedFrames
            Frame scores, one sequence per video.

        Returns
        -------
        ndarray of float64 of shape (n_videos, 1)
        """
        check_is_fitted(self)
        return self._positive_proba(X).reshape(-1, 1)

    def get_feature_names_out(self, input_features=None):
        """Return the name of the `transform` column, ``["pooled_proba"]``.

        Parameters
        ----------
        input_features : None
            Ignored: the input columns are frames, not features.

        Returns
        -------
        ndarray of str of shape (1,)
        """
        check_is_fitted(self)
        return np.asarray(["pooled_proba"], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.poor_score = True
        return tags


def _pool_with_callable(function, videos):
    """Apply a user's per-video function in a Python loop, naming a failing video."""
    pooled = np.full(len(videos), np.nan)
    for position in range(len(videos)):
        frames = videos[position]
        frames = frames[~np.isnan(frames)]
        if frames.size == 0:
            continue
        try:
            value = function(frames)
        except Exception as error:
            # The user's exception propagates unchanged, with a note naming
            # the video it came from.
            error.add_note(
                f"Raised by the method callable on {describe_video(videos, position)}."
            )
            raise
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"The method callable returned {value!r} for "
                f"{describe_video(videos, position)}; it must return a float."
            ) from None
        if not 0 <= value <= 1:
            raise ValueError(
                f"The method callable returned {value!r} for "
                f"{describe_video(videos, position)}; pooled probabilities must be "
                "in [0, 1]."
            )
        pooled[position] = value
    return pooled


def default_grid(clips=(None, 0.005, 0.02, 0.05)):
    """Return a parameter grid covering every statistic, crossed with clips.

    Parameters
    ----------
    clips : sequence, default=(None, 0.005, 0.02, 0.05)
        Values of ``clip`` tried with every setting.

    Returns
    -------
    list of dict
        For ``GridSearchCV(VideoAggregator(), default_grid(), ...)``.

    Examples
    --------
    >>> from sklearn.model_selection import ParameterGrid
    >>> from skpool import default_grid
    >>> len(ParameterGrid(default_grid()))
    148
    """
    clips = list(clips)
    plain = [
        "mean",
        "median",
        "max",
        "min",
        "logit_mean",
        "noisy_or",
        "linear_softmax",
        "confident",
    ]
    return [
        {"method": plain, "clip": clips},
        {"method": ["quantile"], "q": [0.6, 0.7, 0.8, 0.9, 0.95], "clip": clips},
        {"method": ["trimmed_mean"], "trim": [0.05, 0.1, 0.2, 0.3, 0.4], "clip": clips},
        {"method": ["topk_mean"], "k": [0.1, 0.25, 0.5, 0.75], "clip": clips},
        {"method": ["power_mean"], "power": [0.0, 0.5, 2.0, 4.0], "clip": clips},
        {"method": ["lse"], "sharpness": [1.0, 5.0, 20.0], "clip": clips},
        {"method": ["autopool"], "alpha": [1.0, 5.0, 20.0], "clip": clips},
        {"method": ["sharpened_mean"], "gamma": [0.25, 0.5, 0.75], "clip": clips},
        {"method": ["vote"], "threshold": [0.5, 0.8], "clip": clips},
    ]
