"""Tests of the bundled Brown Creeper data against a plain reading of the file."""

import csv
import gzip
import hashlib
from importlib import resources

import numpy as np
import pytest

from skpool import RaggedFrames
from skpool.datasets import load_brown_creeper

DATA = resources.files("skpool.datasets") / "data"
CSV_SHA256 = "89cbb7f2430ebbf37da45e1efbc22b9db68fee86bcab4914015ab797fed50323"


@pytest.fixture(scope="module")
def loaded():
    return load_brown_creeper()


@pytest.fixture(scope="module")
def rows():
    """The bundled CSV read row by row with the csv module."""
    text = gzip.decompress((DATA / "birds_brown_creeper.csv.gz").read_bytes())
    return list(csv.reader(text.decode("ascii").splitlines()))


def test_brown_creeper_file_unchanged():
    raw = gzip.decompress((DATA / "birds_brown_creeper.csv.gz").read_bytes())
    assert hashlib.sha256(raw).hexdigest() == CSV_SHA256


def test_brown_creeper_shapes(loaded):
    videos, y = loaded
    assert isinstance(videos, RaggedFrames)
    assert len(videos) == 548
    assert videos.n_features == 38
    assert videos.values.shape == (10_232, 38)
    assert int(videos.lengths.sum()) == 10_232
    assert videos.lengths.min() == 2
    assert videos.lengths.max() == 43
    assert y.shape == (548,)


def test_brown_creeper_labels(loaded):
    _, y = loaded
    assert y.dtype.kind == "i"
    assert set(np.unique(y).tolist()) == {0, 1}
    assert int((y == 1).sum()) == 197
    assert int((y == 0).sum()) == 351


def test_brown_creeper_ids(loaded):
    videos, _ = loaded
    assert videos.ids.tolist() == list(range(1, 549))
    assert all(type(video_id) is int for video_id in videos.ids)


def test_brown_creeper_matches_csv_rows(loaded, rows):
    videos, y = loaded
    assert len(rows) == 10_232
    assert all(len(row) == 40 for row in rows)

    by_recording = {}
    for row in rows:
        by_recording.setdefault(int(row[1]), []).append(row)
    assert list(by_recording) == videos.ids.tolist()

    for position, (recording, recording_rows) in enumerate(by_recording.items()):
        labels = {int(row[0]) for row in recording_rows}
        assert labels == {int(y[position])}, f"recording {recording}"
        expected = np.array([[float(v) for v in row[2:]] for row in recording_rows])
        np.testing.assert_array_equal(videos[position], expected)


def test_brown_creeper_positive_segments(loaded, rows):
    videos, y = loaded
    positive_rows = sum(1 for row in rows if row[0] == "1")
    assert positive_rows == 5006
    assert int(videos.lengths[y == 1].sum()) == positive_rows


def test_brown_creeper_fresh_container(loaded):
    videos, _ = loaded
    again, _ = load_brown_creeper()
    assert again is not videos
    np.testing.assert_array_equal(again.values, videos.values)


def test_brown_creeper_readme_names_licence():
    readme = (DATA / "README.md").read_text()
    assert "mil" in readme
    assert "1.0.5" in readme
    assert "MIT License" in readme
    assert "Alberto Rosas Garcia" in readme
    assert "multipleinstancelearning.com" in readme
