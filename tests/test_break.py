"""Inputs a careless but realistic user sends, each once wrong before a fix.

Every case here returned silently wrong numbers, lost videos or crashed
with an unclear message. The tests check the right value against plain
Python, or an error that names the value at fault.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import skpool
from skpool._cli import main as skpool_main

# CSV rows with one field more than the header -----------------------------
#
# pandas reads such a file with the first column as the index, so every
# column shifts one place left: the frame number became the video id and
# the score column was read from the empty trailing field.


def test_csv_trailing_comma_keeps_columns(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("video,frame,score\na.mp4,0,0.9,\na.mp4,1,0.8,\nb.mp4,0,0.1,\n")
    videos = skpool.load_predictions(path)
    assert videos.ids.tolist() == ["a.mp4", "b.mp4"]
    assert_allclose(videos[0], [0.9, 0.8])
    assert_allclose(videos[1], [0.1])


def test_csv_extra_field_raises(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("video,frame,score\na.mp4,0,0.9,0.7\nb.mp4,0,0.1,0.2\n")
    with pytest.raises(ValueError, match=r"p.csv' has rows with more fields"):
        skpool.load_predictions(path)


def test_labels_csv_trailing_comma(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("video,label\na.mp4,1,\nb.mp4,0,\n")
    labels = skpool.load_labels(path)
    assert labels.to_dict() == {"a.mp4": 1, "b.mp4": 0}


def test_cli_video_list_trailing_comma(tmp_path, capsys):
    predictions = tmp_path / "p.csv"
    predictions.write_text("video,score\na.mp4,0.2\nb.mp4,0.6\n")
    listed = tmp_path / "list.csv"
    listed.write_text("filename,label\nb.mp4,0.5,\na.mp4,0.5,\n")
    out = tmp_path / "o.csv"
    status = skpool_main(
        ["predict", str(predictions), "--out", str(out), "--video-list", str(listed)]
    )
    assert status == 0, capsys.readouterr().err
    assert out.read_text() == "filename,label\nb.mp4,0.6\na.mp4,0.2\n"
