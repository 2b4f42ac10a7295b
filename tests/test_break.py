"""Inputs a careless but realistic user sends, at every public entry point.

Each case must give the right value, checked against plain Python, or an
error that names the value at fault: no silently wrong number, lost video
or unclear crash.
"""

import re

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import skpool
from skpool import VideoAggregator
from skpool._cli import main as skpool_main

# CSV rows with one field more than the header -----------------------------
#
# pandas reads such a file with the first column as the index, so every
# column would shift one place left: the frame number would become the
# video id, and the score would be read from the empty trailing field.


def test_csv_trailing_comma_keeps_columns(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("video,frame,score\na.mp4,0,0.9,\na.mp4,1,0.8,\nb.mp4,0,0.1,\n")
    videos = skpool.load_predictions(path)
    assert videos.ids.tolist() == ["a.mp4", "b.mp4"]
    assert_allclose(videos[0], [0.9, 0.8])
    assert_allclose(videos[1], [0.1])


@pytest.mark.parametrize(
    "text",
    [
        "video,frame,score\na.mp4,0,0.9,0.7\nb.mp4,0,0.1,0.2\n",
        # A header without the frame column's name.
        "video,score\na.mp4,0,0.9\na.mp4,1,0.7\nb.mp4,0,0.1\n",
    ],
    ids=["extra-value", "header-short"],
)
def test_csv_extra_field_raises(tmp_path, text):
    path = tmp_path / "p.csv"
    path.write_text(text)
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


# Requested ids that match none, or only loosely, of the predictions ------


def _two_videos():
    return skpool.load_predictions({"a.mp4": [0.2, 0.4], "b.mp4": [0.9]})


@pytest.mark.parametrize("missing", ["warn", "error"])
def test_align_videos_no_match_raises(missing):
    pattern = r"None of the 2 requested.*'x.mp4', 'y.mp4'.*'a.mp4', 'b.mp4'"
    with pytest.raises(ValueError, match=pattern):
        skpool.align_videos(_two_videos(), ["x.mp4", "y.mp4"], missing=missing)


def test_align_videos_partial_match_warns():
    with pytest.warns(UserWarning, match=r"1 of 2 requested videos.*'x.mp4'"):
        aligned = skpool.align_videos(_two_videos(), ["x.mp4", "b.mp4"])
    assert aligned.lengths.tolist() == [0, 1]


@pytest.mark.parametrize(
    ("requested", "found"),
    [("A.MP4", "a.mp4"), ("a.mp4 ", "a.mp4"), ("a", "a.mp4")],
    ids=["case", "space", "extension"],
)
def test_align_videos_near_match_raises(requested, found):
    pattern = (
        rf"requested video id {re.escape(repr(requested))} matches the "
        rf"predictions' id {re.escape(repr(found))} only after ignoring"
    )
    with pytest.raises(ValueError, match=pattern):
        skpool.align_videos(_two_videos(), [requested, "b.mp4"])


def test_align_videos_distinct_versions_not_near_match():
    videos = skpool.load_predictions({"v1.0": [0.2], "b": [0.9]})
    with pytest.warns(UserWarning, match=r"'v1.5'"):
        aligned = skpool.align_videos(videos, ["v1.5", "b"])
    assert aligned.lengths.tolist() == [0, 1]


def test_cli_video_list_no_match(tmp_path, capsys):
    predictions = tmp_path / "p.csv"
    predictions.write_text("video,score\na.mp4,0.2\nb.mp4,0.6\n")
    listed = tmp_path / "list.csv"
    listed.write_text("filename\nx.mp4\ny.mp4\n")
    out = tmp_path / "o.csv"
    status = skpool_main(
        ["predict", str(predictions), "--out", str(out), "--video-list", str(listed)]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert re.search(r"None of the 2 requested.*'x.mp4'.*'a.mp4'", err), err
    assert not out.exists()


def test_load_dataset_no_match_raises():
    # load_dataset warns about the unmatched videos before it raises.
    with (
        pytest.warns(UserWarning) as caught,
        pytest.raises(ValueError, match=r"None of the 2 labelled.*'x'.*'a'"),
    ):
        skpool.load_dataset({"a": [0.1], "b": [0.2]}, {"x": 0, "y": 1})
    messages = " ".join(str(warning.message) for warning in caught)
    assert "no predictions: 'x', 'y'" in messages


def test_load_dataset_near_match_raises():
    with (
        pytest.warns(UserWarning) as caught,
        pytest.raises(ValueError, match=r"'A.MP4' matches the predictions' id 'a'"),
    ):
        skpool.load_dataset({"a": [0.1], "b": [0.2]}, {"A.MP4": 0, "b": 1})
    messages = " ".join(str(warning.message) for warning in caught)
    assert "no predictions: 'A.MP4'" in messages


@pytest.mark.parametrize(
    "labels",
    [{"a": 0, "b": np.nan}, {"a": 0, "b": None}],
    ids=["nan", "none"],
)
def test_load_dataset_missing_label_raises(labels):
    with pytest.raises(ValueError, match=r"no label.*'b'"):
        skpool.load_dataset({"a": [0.1], "b": [0.2]}, labels)


def test_load_dataset_empty_labels_raises():
    with pytest.raises(ValueError, match=r"The labels dict contains no videos"):
        skpool.load_dataset({"a": [0.1]}, {})


# The command line's output path -------------------------------------------


@pytest.mark.parametrize("out", ["missing_dir/o.csv", "."], ids=["no-dir", "is-dir"])
def test_cli_predict_bad_out_before_search(tmp_path, capsys, out):
    predictions = tmp_path / "p.csv"
    predictions.write_text("video,score\na,0.2\nb,0.6\nc,0.3\nd,0.7\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("video,label\na,0\nb,1\nc,0\nd,1\n")
    argv = ["predict", str(predictions), "--out", str(tmp_path / out)]
    argv += ["--fit-on", str(predictions), "--labels", str(labels), "--cv", "2"]
    status = skpool_main(argv)
    captured = capsys.readouterr()
    assert status == 1
    assert re.search(r"--out .*(does not exist|is a directory)", captured.err)
    # The search was not run: it would print its best setting on stdout.
    assert "Best of" not in captured.out


# A user's method callable ---------------------------------------------------


def test_callable_error_names_video():
    def fails_on_long(frames):
        if frames.size > 1:
            raise ZeroDivisionError("boom")
        return float(frames[0])

    videos = skpool.RaggedFrames.from_list([[0.1], [0.2, 0.3]], ids=["a", "bad.mp4"])
    model = VideoAggregator(method=fails_on_long).fit([[0.1], [0.9]], [0, 1])
    with pytest.raises(ZeroDivisionError, match="boom") as raised:
        model.predict_proba(videos)
    assert any("'bad.mp4'" in note for note in raised.value.__notes__)


# Writing predictions that read back -----------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_save_predictions_empty_id_csv_raises(tmp_path, suffix):
    path = tmp_path / f"p{suffix}"
    with pytest.raises(ValueError, match=r"empty video id.*\.npz or Parquet"):
        skpool.save_predictions(path, {"": [0.1], "b": [0.2]})
    assert not path.exists()


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_save_predictions_empty_id_round_trip(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"p{suffix}"
    skpool.save_predictions(path, {"": [0.1], "b": [0.2]})
    videos = skpool.load_predictions(path)
    assert videos.ids.tolist() == ["", "b"]
    assert_allclose(videos.values, [0.1, 0.2])


# CSV files with another separator ---------------------------------------------


@pytest.mark.parametrize("separator", [";", "\t"], ids=["semicolon", "tab"])
def test_csv_other_separator_hint(tmp_path, separator):
    path = tmp_path / "p.csv"
    path.write_text(separator.join(["video", "frame", "score"]) + "\na;0;0.5\n")
    pattern = rf"separated by {re.escape(repr(separator))}.*comma-separated"
    with pytest.raises(ValueError, match=pattern):
        skpool.load_predictions(path)
    labels = tmp_path / "labels.csv"
    labels.write_text(separator.join(["video", "label"]) + "\na;1\n")
    with pytest.raises(ValueError, match=pattern):
        skpool.load_labels(labels)


# A --video-list without a header line -----------------------------------------


def test_cli_video_list_without_header(tmp_path, capsys):
    predictions = tmp_path / "p.csv"
    predictions.write_text("video,score\na.mp4,0.2\nb.mp4,0.6\nc.mp4,0.9\n")
    listed = tmp_path / "list.csv"
    listed.write_text("b.mp4\na.mp4\n")
    out = tmp_path / "o.csv"
    status = skpool_main(
        ["predict", str(predictions), "--out", str(out), "--video-list", str(listed)]
    )
    err = capsys.readouterr().err
    assert status == 0, err
    assert out.read_text() == "filename,label\nb.mp4,0.6\na.mp4,0.2\n"
    assert "'b.mp4', names a video" in err


# metadata.json as other tools write it ----------------------------------------


def test_dfdc_metadata_with_bom(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_bytes(
        b'\xef\xbb\xbf{"a.mp4": {"label": "FAKE"}, "b.mp4": {"label": "REAL"}}'
    )
    labels = skpool.load_dfdc_labels(path, ["b.mp4", "a.mp4"])
    assert labels.tolist() == [0, 1]


def test_dfdc_metadata_repeated_key_conflict(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text('{"a.mp4": {"label": "FAKE"}, "a.mp4": {"label": "REAL"}}')
    with pytest.raises(ValueError, match=r"'a.mp4' more than once with different"):
        skpool.load_dfdc_labels(path)


def test_dfdc_metadata_repeated_key_same_entry(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text('{"a.mp4": {"label": "FAKE"}, "a.mp4": {"label": "FAKE"}}')
    assert skpool.load_dfdc_labels(path).to_dict() == {"a.mp4": 1}


def test_dfdc_metadata_flat_labels_message(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text('{"a.mp4": "FAKE"}')
    with pytest.raises(ValueError, match=r"'a.mp4' in .* is 'FAKE', not an object"):
        skpool.load_dfdc_labels(path)


# Labels in the Deepfake Detection Challenge's filename,label layout -------------


def test_cli_compare_filename_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    predictions = tmp_path / "p.csv"
    labels = tmp_path / "labels.csv"
    rows = [f"v{i}.mp4,{rng.uniform():.3f}" for i in range(8)]
    predictions.write_text("video,score\n" + "\n".join(rows) + "\n")
    # The layout of the Deepfake Detection Challenge's labels.csv.
    labels.write_text(
        "filename,label\n" + "".join(f"v{i}.mp4,{i % 2}\n" for i in range(8))
    )
    status = skpool_main(
        ["compare", str(predictions), "--labels", str(labels), "--cv", "2"]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "8 videos (4 positive)" in captured.out


# String labels without pos_label ------------------------------------------------


def test_fake_real_labels_suggest_fake():
    X = [[0.1], [0.9], [0.2], [0.8]]
    y = ["REAL", "FAKE", "REAL", "FAKE"]
    with pytest.raises(ValueError, match=r"for example pos_label='FAKE'"):
        VideoAggregator().fit(X, y)


def test_frame_scorer_fake_real_labels_suggest_fake():
    from sklearn.linear_model import LogisticRegression

    videos = skpool.RaggedFrames.from_list([np.zeros((2, 3)), np.ones((1, 3))])
    with pytest.raises(ValueError, match=r"for example pos_label='fake'"):
        skpool.FrameScorer(LogisticRegression()).fit(videos, ["fake", "real"])


# A pandas Series of frame arrays, as the estimators take it -------------------


def test_load_predictions_series():
    series = pd.Series([[0.1, 0.2], [0.9]], index=["a.mp4", "b.mp4"])
    videos = skpool.load_predictions(series, video_ids=["b.mp4", "a.mp4"])
    assert videos.ids.tolist() == ["b.mp4", "a.mp4"]
    assert_allclose(videos.values, [0.9, 0.1, 0.2])


def test_load_predictions_series_duplicate_index():
    series = pd.Series([[0.1], [0.9]], index=["a.mp4", "a.mp4"])
    with pytest.raises(ValueError, match=r"names 1 videos more than once: 'a.mp4'"):
        skpool.load_predictions(series)


def test_align_videos_bytes_ids_name_type():
    videos = skpool.RaggedFrames.from_list([[0.1], [0.2]], ids=[b"a.mp4", b"b.mp4"])
    with pytest.raises(
        ValueError, match=r"'a.mp4' \(str\) matches .* b'a.mp4' \(bytes\)"
    ):
        skpool.align_videos(videos, ["a.mp4", "b.mp4"])


@pytest.mark.parametrize("metadata", [[], ()], ids=["list", "tuple"])
def test_dfdc_labels_no_files_raises(metadata):
    with pytest.raises(ValueError, match=r"no metadata.*one or more"):
        skpool.load_dfdc_labels(metadata)
    with pytest.raises(ValueError, match=r"no metadata.*one or more"):
        skpool.load_dataset({"a": [0.1]}, metadata)
