"""Input checks shared by the estimators."""

import numpy as np
import scipy.sparse
from scipy.special import expit
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ._ragged import RaggedFrames, as_ragged

__all__ = ["check_frame_scores", "describe_video"]


def describe_video(videos, position):
    """Name a video for an error message, by id when there is one."""
    ids = videos.ids
    if ids is not None:
        return f"video {ids[position]!r} (position {position})"
    return f"video at position {position}"


def check_frame_scores(X, *, logits=False, estimator_name="VideoAggregator"):
    """Convert ``X`` to a `RaggedFrames` of frame probabilities and check them.

    Parameters
    ----------
    X : any input form accepted by `as_ragged`
        Frame scores of several videos.

    logits : bool, default=False
        Whether the scores are log-odds; they are mapped to probabilities
        with the logistic function, cached on the full container.

    estimator_name : str, default="VideoAggregator"
        Used in error messages.

    Returns
    -------
    RaggedFrames
        Frame probabilities in [0, 1], NaN for missing frames.
    """
    if scipy.sparse.issparse(X):
        raise TypeError(
            f"{estimator_name} does not accept sparse input: a missing frame is "
            "NaN, not zero. Convert with X.toarray() and set the padding to NaN."
        )
    videos = as_ragged(X)
    if videos.n_features is not None:
        raise ValueError(
            f"{estimator_name} pools frame scores, but these videos hold "
            f"{videos.n_features} features per frame. Score the frames first, "
            "for example with skpool.FrameScorer."
        )
    if logits:
        return _as_probabilities(videos)
    low, high = videos._value_range()
    if low < 0 or high > 1:
        _raise_out_of_range(videos)
    return videos


def _as_probabilities(videos):
    root = videos._root()
    if getattr(root, "_from_logits", None) is None:
        probabilities = RaggedFrames(expit(root._values), root._offsets, ids=root._ids)
        root._from_logits = probabilities
    converted = root._from_logits
    if videos._base is None:
        return converted
    return converted[videos._index]


def _raise_out_of_range(videos):
    """Raise a ValueError naming the first video with a score outside [0, 1]."""
    values = videos.values
    bad = np.flatnonzero((values < 0) | (values > 1))
    if bad.size == 0:
        # The full container has out-of-range scores, but not this subset.
        return
    position = int(np.searchsorted(videos.offsets, bad[0], side="right") - 1)
    raise ValueError(
        "Frame scores must be probabilities in [0, 1]; "
        f"{describe_video(videos, position)} "
        f"has {float(values[bad[0]])!r} ({bad.size} out-of-range scores in all). "
        "If the scores are log-odds, set logits=True."
    )


def check_video_labels(y, n_videos, *, estimator_name):
    """Check the labels of ``n_videos`` videos for a binary estimator.

    Parameters
    ----------
    y : array-like of shape (n_videos,) or None
        Video labels.

    n_videos : int
        Number of videos in ``X``.

    estimator_name : str
        Used in error messages.

    Returns
    -------
    y : ndarray of shape (n_videos,)
        The labels as a 1-D array.

    classes : ndarray of shape (2,)
        The sorted classes.
    """
    if y is None:
        raise ValueError(
            f"{estimator_name} requires y to be passed, but the target y is None. "
            "Pass the video labels, which define the classes."
        )
    y = column_or_1d(y, warn=True)
    if len(y) != n_videos:
        raise ValueError(
            f"X has {n_videos} videos but y has {len(y)} labels; pass one label "
            "per video."
        )
    if y.dtype.kind not in "biu":
        # Integer and boolean labels are always valid class labels; the
        # full check scans y several times, which adds up over a search.
        check_classification_targets(y)
    classes = np.unique(y)
    if len(classes) > 2:
        raise ValueError(
            "Only binary classification is supported. The type of the target "
            f"is {type_of_target(y)}: y has {len(classes)} classes "
            f"{classes.tolist()!r}, but {estimator_name} needs exactly 2."
        )
    if len(classes) < 2:
        raise ValueError(
            f"{estimator_name} needs exactly 2 classes in y; got "
            f"{len(classes)} class(es) {classes.tolist()!r}. A training set "
            "with 1 class often comes from a small or unstratified split; use "
            "StratifiedKFold."
        )
    return y, classes


def resolve_pos_label(classes, pos_label, *, reason):
    """Return the class that frame scores are the probability of.

    ``pos_label`` is used when given. Otherwise, as in sklearn.metrics,
    labels 0/1, -1/1 and booleans default to the larger label, and any
    other labels raise a ValueError that ends with ``reason``, such as
    "VideoAggregator cannot tell which class to score".
    """
    names = classes.tolist()
    if pos_label is not None:
        if pos_label not in names:
            raise ValueError(
                f"pos_label={pos_label!r} is not one of the classes in y {names!r}."
            )
        return classes[names.index(pos_label)]
    labels = set(names)
    if classes.dtype == bool or labels <= {0, 1} or labels <= {-1, 1}:
        return classes[-1]
    raise ValueError(
        f"The classes {names!r} are not 0/1, -1/1 or booleans, so {reason}. Set "
        f"pos_label, for example pos_label={example_pos_label(classes)!r}."
    )


def example_pos_label(classes):
    """Return the class to suggest as pos_label: "FAKE" in any case, else the last.

    Frame scores of a deepfake detector are P(fake), so suggesting "REAL",
    the last of ["FAKE", "REAL"], would invert every prediction.
    """
    names = classes.tolist()
    for name in names:
        if isinstance(name, str) and name.strip().upper() == "FAKE":
            return name
    return names[-1]
