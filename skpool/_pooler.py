"""FramePooler: many statistics of each video's frame scores, as features."""

from collections.abc import Mapping
from numbers import Real
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._aggregator import VideoAggregator
from ._sklearn_compat import (
    Interval,
    _fit_context,
    _get_output_config,
    validate_parameter_constraints,
)
from ._stats import FEATURE_STATISTICS, pool_frames
from ._validation import check_frame_scores

__all__ = ["DEFAULT_STATISTICS", "FramePooler"]

DEFAULT_STATISTICS = (
    "mean",
    "std",
    "min",
    "max",
    ("quantile", {"q": 0.25}),
    ("quantile", {"q": 0.5}),
    ("quantile", {"q": 0.75}),
    ("quantile", {"q": 0.9}),
    "n_frames",
)
"""Statistics computed by ``FramePooler(statistics=None)``."""


class FramePooler(TransformerMixin, BaseEstimator):
    """Describe each video's frame probabilities by a row of statistics.

    Where `VideoAggregator` turns each video into one probability,
    `FramePooler` turns it into several features (the mean, spread,
    quantiles and number of frames by default) for another model to
    combine, such as ``make_pipeline(FramePooler(), LogisticRegression())``.
    Every statistic is the same function `VideoAggregator` uses.

    Parameters
    ----------
    statistics : list or None, default=None
        The columns, in order. Each entry is a name or a ``(name,
        params)`` pair with a dict of the statistic's parameters, for
        example ``("quantile", {"q": 0.9})``. Names are the keys of
        ``skpool.STATISTICS`` plus ``"std"`` (population standard
        deviation) and ``"n_frames"`` (number of valid frames).
        Parameters take the ranges and, when left out, the defaults of
        `VideoAggregator`. None means ``"mean"``, ``"std"``, ``"min"``,
        ``"max"``, quantiles 0.25, 0.5, 0.75 and 0.9, and ``"n_frames"``.

    fill_value : float, default=0.5
        Value of every statistic of a video with no valid frame (no
        frames, or only NaN), except ``"n_frames"``, which is 0. So the
        output never contains NaN, and ``"n_frames"`` lets a downstream
        model find the filled rows.

    logits : bool, default=False
        Whether frame scores are log-odds rather than probabilities. They
        are then mapped through the logistic function before pooling, and
        any real value is accepted.

    Attributes
    ----------
    statistics_ : list of (str, dict)
        The statistics with all their parameters, in column order.

    feature_names_out_ : ndarray of str
        Column names, such as ``"mean"`` or ``"quantile_q0.9"``: the
        statistic's name followed by each parameter given in
        ``statistics``, as name and value.

    See Also
    --------
    VideoAggregator : One pooled probability per video.
    FrameScorer : Frame probabilities from frame features.

    Examples
    --------
    >>> from skpool import FramePooler
    >>> videos = [[0.9, 0.8, 0.95], [0.1, 0.3], []]
    >>> pooler = FramePooler(statistics=["mean", ("quantile", {"q": 0.9}), "n_frames"])
    >>> pooler.fit_transform(videos).round(3)
    array([[0.883, 0.94 , 3.   ],
           [0.2  , 0.28 , 2.   ],
           [0.5  , 0.5  , 0.   ]])
    >>> pooler.get_feature_names_out()
    array(['mean', 'quantile_q0.9', 'n_frames'], dtype=object)
    """

    _parameter_constraints: ClassVar[dict] = {
        "statistics": [None, list],
        "fill_value": [Interval(Real, None, None, closed="neither")],
        "logits": ["boolean"],
    }

    def __init__(self, *, statistics=None, fill_value=0.5, logits=False):
        self.statistics = statistics
        self.fill_value = fill_value
        self.logits = logits

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the statistics and the frames.

        Parameters
        ----------
        X : list of array-like, pandas Series, 2-D array or RaggedFrames
            Frame scores, one sequence per video; a 2-D array is one row
            per video with NaN padding.

        y : None
            Ignored.

        Returns
        -------
        self : FramePooler
            The fitted transformer.
        """
        entries = DEFAULT_STATISTICS if self.statistics is None else self.statistics
        parsed = [_parse_statistic(entry) for entry in entries]
        if not parsed:
            raise ValueError(
                "statistics is an empty list; name at least one statistic."
            )
        names = [name for name, _ in parsed]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"statistics gives the columns {repeated!r} more than once; remove "
                "the repeats."
            )
        check_frame_scores(X, logits=self.logits, estimator_name="FramePooler")
        self.statistics_ = [(method, params) for _, (method, params) in parsed]
        self.feature_names_out_ = np.asarray(names, dtype=object)
        return self

    def transform(self, X):
        """Return one row of statistics per video.

        Parameters
        ----------
        X : list of array-like, pandas Series, 2-D array or RaggedFrames
            Frame scores, one sequence per video.

        Returns
        -------
        ndarray of float64 of shape (n_videos, n_statistics)
            Columns in the order of ``feature_names_out_``. Videos without
            a valid frame get ``fill_value``, and 0 for ``"n_frames"``.
            After ``set_output(transform="pandas")``, a DataFrame whose
            index is the video ids when ``X`` has them.
        """
        check_is_fitted(self)
        videos = check_frame_scores(X, logits=self.logits, estimator_name="FramePooler")
        features = np.empty((len(videos), len(self.statistics_)), dtype=np.float64)
        for column, (method, params) in enumerate(self.statistics_):
            features[:, column] = pool_frames(videos, method, **params)
        features[np.isnan(features)] = self.fill_value
        if _get_output_config("transform", self)["dense"] == "pandas":
            return self._to_pandas(features, videos.ids)
        return features

    def _to_pandas(self, features, ids):
        """Return ``features`` as a DataFrame indexed by the video ids, if any."""
        index = None if ids is None else pd.Index(ids, name="video")
        return pd.DataFrame(features, index=index, columns=self.feature_names_out_)

    def get_feature_names_out(self, input_features=None):
        """Return the column names of `transform`, such as ``"quantile_q0.9"``.

        Parameters
        ----------
        input_features : None
            Ignored: the input columns are frames, not features.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.requires_fit = True
        return tags


def _parse_statistic(entry):
    """Return ``(column name, (method, full params))`` for one ``statistics`` entry."""
    if isinstance(entry, str):
        method, given_params = entry, {}
    elif (
        isinstance(entry, tuple)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], Mapping)
    ):
        method, given_params = entry[0], dict(entry[1])
    else:
        raise ValueError(
            f"Each entry of statistics must be a name or a (name, params) pair such "
            f"as ('quantile', {{'q': 0.9}}); got {entry!r}."
        )

    if method not in FEATURE_STATISTICS:
        raise ValueError(
            f"Unknown statistic {method!r} in statistics; expected one of "
            f"{sorted(FEATURE_STATISTICS)!r}."
        )
    accepted = FEATURE_STATISTICS[method].params
    unknown = sorted(set(given_params) - set(accepted))
    if unknown:
        raise ValueError(
            f"Statistic {method!r} has no parameter(s) {unknown!r}; it accepts "
            f"{list(accepted)!r}."
        )
    learned = sorted(name for name, value in given_params.items() if value is None)
    if learned:
        raise ValueError(
            f"Statistic {method!r} got None for {learned!r}. FramePooler does not "
            "learn parameters; give a number, or use VideoAggregator to learn it."
        )

    constraints = VideoAggregator._parameter_constraints
    validate_parameter_constraints(
        {name: constraints[name] for name in given_params},
        given_params,
        caller_name=f"FramePooler statistic {method!r}",
    )

    defaults = VideoAggregator().get_params()
    params = {name: given_params.get(name, defaults[name]) for name in accepted}
    try:
        VideoAggregator(**params)._check_cross_params()
    except ValueError as error:
        raise ValueError(f"FramePooler statistic {method!r}: {error}") from None
    column = "_".join(
        [method, *(f"{name}{value}" for name, value in given_params.items())]
    )
    return column, (method, params)
