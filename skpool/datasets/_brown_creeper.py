"""Loader for the bundled Brown Creeper bird-song recordings."""

from importlib import resources

import numpy as np

from .._ragged import RaggedFrames

__all__ = ["load_brown_creeper"]

_FILE_NAME = "birds_brown_creeper.csv.gz"
_N_FEATURES = 38


def _read_table():
    """Return the label, recording id and feature columns of the bundled CSV."""
    path = resources.files("skpool.datasets") / "data" / _FILE_NAME
    with resources.as_file(path) as local_path:
        table = np.loadtxt(local_path, delimiter=",", dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 2 + _N_FEATURES:
        raise ValueError(
            f"{_FILE_NAME} must have {2 + _N_FEATURES} columns (label, recording "
            f"id, {_N_FEATURES} features); got shape {table.shape}. Reinstall skpool."
        )
    return table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2:]


def load_brown_creeper():
    """Load the Brown Creeper recordings: segments' audio features and labels.

    There are 548 field recordings of bird song, cut into 10,232
    segments (2 to 43 per recording). Each segment is described by 38 audio
    features. A recording is labelled 1 when a Brown Creeper (*Certhia
    americana*) is heard in it (197 recordings) and 0 otherwise (351).
    The label belongs to the whole recording: the data do not say which
    segments contain the song. It is a standard multiple-instance
    learning benchmark, with the same shape as a video detector's
    problem: many segment-level predictions pooled into one prediction
    per recording.

    The file stores the recording's label on every segment row, and the
    loader checks that the rows of a recording agree.

    Returns
    -------
    videos : RaggedFrames
        One entry per recording, holding its segments as a 2-D array of
        shape (n_segments, 38). ``videos.ids`` are the recording ids of
        the source file, the integers 1 to 548, in file order.

    y : ndarray of int64 of shape (548,)
        1 when the recording contains a Brown Creeper song, 0 otherwise.

    Notes
    -----
    ``skpool/datasets/data/birds_brown_creeper.csv.gz`` is the file
    ``birds_brown_creeper.csv`` of the MIT-licensed ``mil`` package,
    version 1.0.5, by Alberto Rosas Garcia, stored unchanged and gzipped.
    The README next to it gives the licence text, the origin of the data
    and the column layout.

    Examples
    --------
    >>> from skpool.datasets import load_brown_creeper
    >>> videos, y = load_brown_creeper()
    >>> len(videos), videos.n_features, int(videos.lengths.sum())
    (548, 38, 10232)
    >>> int(y.sum())
    197
    """
    segment_labels, recording_ids, features = _read_table()

    # Rows of one recording are contiguous in the file, so a new recording
    # starts wherever the id changes.
    starts = np.flatnonzero(np.r_[True, recording_ids[1:] != recording_ids[:-1]])
    offsets = np.r_[starts, len(recording_ids)]
    ids = recording_ids[starts]
    if len(np.unique(ids)) != len(ids):
        raise ValueError(
            f"The rows of each recording in {_FILE_NAME} must be contiguous; "
            "a recording id appears in two places. Reinstall skpool."
        )

    labels = segment_labels[starts]
    recording_of_row = np.repeat(np.arange(len(ids)), np.diff(offsets))
    disagree = segment_labels != labels[recording_of_row]
    if disagree.any():
        bad = int(ids[recording_of_row[np.argmax(disagree)]])
        raise ValueError(
            f"Recording {bad} in {_FILE_NAME} has segments with different "
            "labels; every segment must carry its recording's label."
        )

    videos = RaggedFrames(features, offsets, ids=ids.tolist())
    return videos, labels
