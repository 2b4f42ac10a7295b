"""scikit-learn's estimator checks on VideoAggregator."""

import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_estimators_dtypes,
    check_fit2d_1feature,
    parametrize_with_checks,
)

from skpool import VideoAggregator

# The checks feed arbitrary real numbers as X, which are valid frame scores
# only as log-odds, hence logits=True.
ESTIMATORS = [
    VideoAggregator(logits=True),
    VideoAggregator(logits=True, method="quantile", q=0.9, clip=0.01),
    VideoAggregator(logits=True, calibration="sigmoid", fill_value=0.3),
    VideoAggregator(logits=True, method="autopool", alpha=None, calibration="sigmoid"),
]

_N_FEATURES_REASON = (
    "The columns of a padded array are frames, not features, and videos may "
    "have any number of them, so n_features_in_ does not apply and a different "
    "number of columns in predict is valid."
)
_POS_LABEL_REASON = (
    "Frame scores are the probability of one class. For labels other than 0/1, "
    "-1/1 or booleans (this check uses {labels}) pos_label must name that class, "
    "as in sklearn.metrics. {covered}"
)


def estimator_id(estimator):
    """Return the estimator's repr on one line, for test ids."""
    return " ".join(repr(estimator).split())


def expected_failed_checks(estimator):
    """Return the checks that do not apply to VideoAggregator, with the reason."""
    return {
        "check_n_features_in": _N_FEATURES_REASON,
        "check_n_features_in_after_fitting": _N_FEATURES_REASON,
        "check_classifiers_train": _N_FEATURES_REASON,
        "check_transformer_general": _N_FEATURES_REASON,
        "check_estimators_dtypes": _POS_LABEL_REASON.format(
            labels="1/2",
            covered="test_estimators_dtypes_with_pos_label runs it with pos_label=2.",
        ),
        "check_fit2d_1feature": _POS_LABEL_REASON.format(
            labels="1/2",
            covered="test_fit2d_1feature_with_pos_label runs it with pos_label=2.",
        ),
        "check_classifiers_classes": _POS_LABEL_REASON.format(
            labels="'one'/'two' and -1/1 with one estimator",
            covered="String labels are tested in test_aggregator.py.",
        ),
        "check_classifier_data_not_an_array": (
            "The check passes a pandas DataFrame, which VideoAggregator rejects "
            "on purpose: a table can be one row per frame or one row per video, "
            "and the error says how to convert each."
        ),
        "check_estimators_empty_data_messages": (
            "A padded array with 0 columns holds videos with no frames, which "
            "are valid and pool to fill_value, so there is no error to raise."
        ),
    }


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    """VideoAggregator passes scikit-learn's estimator checks."""
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_estimators_dtypes_with_pos_label(estimator):
    """Integer and float32 inputs work once pos_label names the class."""
    check_estimators_dtypes("VideoAggregator", clone(estimator).set_params(pos_label=2))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_fit2d_1feature_with_pos_label(estimator):
    """One frame per video works once pos_label names the class."""
    check_fit2d_1feature("VideoAggregator", clone(estimator).set_params(pos_label=2))
