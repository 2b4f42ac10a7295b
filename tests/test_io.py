"""Tests for reading prediction files and labels, and writing submissions."""

import json
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss

import skpool
from skpool import VideoAggregator

FILL_VALUE = 0.5


def _make_predictions(seed=0, n_videos=12):
    """Return ``{file name: float32 scores}`` with NaN frames and an all-NaN video."""
    rng = np.random.default_rng(seed)
    predictions = {}
    for i in range(n_videos):
        scores = rng.random(rng.integers(1, 30)).astype(np.float32)
        scores[rng.random(len(scores)) < 0.15] = np.nan
        predictions[f"video_{i:03d}.mp4"] = scores
    predictions["all_nan.mp4"] = np.full(4, np.nan, dtype=np.float32)
    return predictions


def _long_table(predictions, seed=1):
    """Return the predictions as a long table with rows in random order."""
    rows = [
        (video_id, frame, float(score))
        for video_id, scores in predictions.items()
        for frame, score in enumerate(scores)
    ]
    table = pd.DataFrame(rows, columns=["video", "frame", "score"])
    order = np.random.default_rng(seed).permutation(len(table))
    return table.iloc[order].reset_index(drop=True)


def _reference_pool(predictions, ids, method):
    """Pool each video with plain numpy, one video at a time."""
    functions = {
        "mean": np.mean,
        "max": np.max,
        "median": np.median,
        "quantile": lambda x: np.quantile(x, 0.75),
    }
    pooled = []
    for video_id in ids:
        scores = np.asarray(predictions[video_id], dtype=np.float64)
        scores = scores[~np.isnan(scores)]
        pooled.append(functions[method](scores) if scores.size else FILL_VALUE)
    return np.array(pooled)


def _pooled(videos, method):
    model = VideoAggregator(method=method, q=0.75, fill_value=FILL_VALUE)
    labels = np.arange(len(videos)) % 2
    return model.fit(videos, labels).predict_proba(videos)[:, 1]


def _write_npy_dict(path, predictions):
    np.save(path, predictions, allow_pickle=True)
    return skpool.load_predictions(path, allow_pickle=True)


def _write_safe_npz(path, predictions):
    skpool.save_predictions(path.with_suffix(".npz"), predictions)
    return skpool.load_predictions(path.with_suffix(".npz"))


def _write_savez(path, predictions):
    np.savez(path.with_suffix(".npz"), **predictions)
    return skpool.load_predictions(path.with_suffix(".npz"))


def _write_csv(path, predictions):
    _long_table(predictions).to_csv(path.with_suffix(".csv"), index=False)
    return skpool.load_predictions(path.with_suffix(".csv"))


def _write_parquet(path, predictions):
    _long_table(predictions).to_parquet(path.with_suffix(".parquet"))
    return skpool.load_predictions(path.with_suffix(".parquet"))


def _padded(predictions):
    width = max(len(scores) for scores in predictions.values())
    padded = np.full((len(predictions), width), np.nan)
    for row, scores in enumerate(predictions.values()):
        padded[row, : len(scores)] = scores
    return padded


def _write_padded_npy(path, predictions):
    np.save(path.with_suffix(".npy"), _padded(predictions))
    return skpool.load_predictions(path.with_suffix(".npy"), ids=list(predictions))


FORMS = {
    "dict": lambda path, predictions: skpool.load_predictions(predictions),
    "npy_pickled_dict": _write_npy_dict,
    "safe_npz": _write_safe_npz,
    "np_savez": _write_savez,
    "shuffled_csv": _write_csv,
    "parquet": _write_parquet,
    "padded_array": lambda path, predictions: skpool.load_predictions(
        _padded(predictions), ids=list(predictions)
    ),
    "padded_npy": _write_padded_npy,
    "dataframe": lambda path, predictions: skpool.load_predictions(
        _long_table(predictions)
    ),
}


@pytest.mark.parametrize("method", ["mean", "max", "median", "quantile"])
@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_pools_like_numpy(tmp_path, form, method):
    predictions = _make_predictions()
    videos = FORMS[form](tmp_path / "predictions.npy", predictions)
    ids = list(predictions)

    assert sorted(videos.ids.tolist()) == sorted(ids)
    aligned = skpool.align_videos(videos, ids)
    expected = _reference_pool(predictions, ids, method)
    np.testing.assert_allclose(_pooled(aligned, method), expected, rtol=0, atol=1e-15)


def test_every_form_keeps_frames_exactly(tmp_path):
    predictions = _make_predictions(seed=3)
    ids = list(predictions)
    for form, load in FORMS.items():
        videos = skpool.align_videos(load(tmp_path / f"{form}.npy", predictions), ids)
        for video_id, frames in zip(ids, videos, strict=True):
            expected = predictions[video_id].astype(np.float64)
            if form.startswith("padded"):
                # Padding cannot tell trailing NaN frames from padding.
                expected = expected[: len(frames)]
            np.testing.assert_array_equal(
                frames, expected, err_msg=f"{form} {video_id}"
            )


def test_long_table_matches_python_loop(tmp_path):
    rng = np.random.default_rng(7)
    n_rows = 3000
    table = pd.DataFrame(
        {
            "video": rng.choice([f"v{i}.mp4" for i in range(150)], n_rows),
            "frame": rng.integers(0, 40, n_rows),
            "face": rng.integers(0, 3, n_rows),
            "score": rng.random(n_rows),
        }
    ).drop_duplicates(["video", "frame", "face"])
    table.loc[table.sample(frac=0.1, random_state=0).index, "score"] = np.nan
    path = tmp_path / "faces.csv"
    table.to_csv(path, index=False)

    videos = skpool.load_predictions(path)

    first_seen = list(dict.fromkeys(table["video"]))
    assert videos.ids.tolist() == first_seen
    for video_id, frames in zip(videos.ids, videos, strict=True):
        rows = table[table["video"] == video_id]
        expected = []
        for frame in sorted(set(rows["frame"])):
            faces = rows.loc[rows["frame"] == frame, "score"].to_numpy()
            faces = faces[~np.isnan(faces)]
            expected.append(faces.max() if faces.size else np.nan)
        np.testing.assert_array_equal(frames, expected, err_msg=video_id)


def test_video_order_is_first_appearance():
    table = pd.DataFrame({"video": ["z", "a", "z", "m"], "score": [0.1, 0.2, 0.3, 0.4]})
    videos = skpool.load_predictions(table)
    assert videos.ids.tolist() == ["z", "a", "m"]
    np.testing.assert_array_equal(videos[0], [0.1, 0.3])


def test_frames_follow_frame_column():
    table = pd.DataFrame(
        {"video": ["a"] * 4, "frame": [30, 10, 20, 0], "score": [3, 1, 2, 0]}
    )
    videos = skpool.load_predictions(table)
    np.testing.assert_array_equal(videos[0], [0.0, 1.0, 2.0, 3.0])


def test_without_frame_column_rows_keep_order():
    table = pd.DataFrame({"id": ["a", "b", "a"], "p": [0.9, 0.5, 0.1]})
    videos = skpool.load_predictions(table, video="id", score="p")
    np.testing.assert_array_equal(videos[0], [0.9, 0.1])
    np.testing.assert_array_equal(videos[1], [0.5])


def test_two_faces_per_frame_max_then_pool(tmp_path):
    table = pd.DataFrame(
        {
            "video": ["a.mp4"] * 6 + ["b.mp4"] * 2,
            "frame": [0, 0, 1, 1, 2, 2, 0, 0],
            "face": [0, 1, 0, 1, 0, 1, 0, 1],
            "score": [0.1, 0.8, 0.6, 0.2, 0.3, np.nan, 0.4, 0.5],
        }
    )
    path = tmp_path / "faces.csv"
    table.sample(frac=1, random_state=2).to_csv(path, index=False)

    videos = skpool.load_predictions(path)
    proba = _pooled(videos, "mean")

    np.testing.assert_array_equal(videos[0], [0.8, 0.6, 0.3])
    assert proba[0] == pytest.approx((0.8 + 0.6 + 0.3) / 3)
    assert proba[1] == pytest.approx(0.5)


def test_face_reduce_mean_and_min():
    table = pd.DataFrame(
        {
            "video": ["a"] * 4,
            "frame": [0, 0, 1, 1],
            "face": [0, 1, 0, 1],
            "score": [0.2, 0.6, np.nan, np.nan],
        }
    )
    mean = skpool.load_predictions(table, face_reduce="mean")[0]
    minimum = skpool.load_predictions(table, face_reduce="min")[0]
    np.testing.assert_array_equal(mean, [0.4, np.nan])
    np.testing.assert_array_equal(minimum, [0.2, np.nan])


def test_face_reduce_invalid():
    table = pd.DataFrame({"video": ["a"], "score": [0.2]})
    with pytest.raises(ValueError, match=r"face_reduce must be one of"):
        skpool.load_predictions(table, face_reduce="median")


def test_face_column_without_frame_column_raises():
    table = pd.DataFrame({"video": ["a"], "face": [0], "score": [0.2]})
    with pytest.raises(ValueError, match=r"face column 'face' but no frame column"):
        skpool.load_predictions(table)


def test_nan_frames_and_all_nan_video_kept():
    table = pd.DataFrame(
        {
            "video": ["a", "a", "b", "b"],
            "frame": [0, 1, 0, 1],
            "score": [0.8, np.nan] * 2,
        }
    )
    table.loc[2, "score"] = np.nan
    videos = skpool.load_predictions(table)
    assert videos.ids.tolist() == ["a", "b"]
    np.testing.assert_array_equal(videos.lengths, [2, 2])
    np.testing.assert_array_equal(_pooled(videos, "mean"), [0.8, FILL_VALUE])


def test_duplicate_keys_raise(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(
        "video,frame,score\na.mp4,0,0.1\na.mp4,1,0.2\na.mp4,0,0.1\nb.mp4,0,0.3\n"
    )
    with pytest.raises(ValueError, match=r"1 \(video, frame\) keys.*\('a.mp4', 0\)"):
        skpool.load_predictions(path)


def test_duplicate_face_keys_raise():
    table = pd.DataFrame(
        {
            "video": ["a", "a", "b", "b"],
            "frame": [0, 0, 0, 0],
            "face": [1, 1, 0, 0],
            "score": [0.1, 0.2, 0.3, 0.3],
        }
    )
    with pytest.raises(
        ValueError, match=r"2 \(video, frame, face\) keys.*\('a', 0, 1\)"
    ):
        skpool.load_predictions(table)


def test_drop_duplicates_drops_exact_repeats():
    table = pd.DataFrame(
        {
            "video": ["a", "a", "a", "b", "b"],
            "frame": [0, 1, 0, 0, 0],
            "score": [0.1, 0.2, 0.1, np.nan, np.nan],
        }
    )
    videos = skpool.load_predictions(table, drop_duplicates=True)
    np.testing.assert_array_equal(videos[0], [0.1, 0.2])
    np.testing.assert_array_equal(videos[1], [np.nan])


def test_drop_duplicates_conflicting_still_raise():
    table = pd.DataFrame(
        {"video": ["a", "a", "a"], "frame": [0, 0, 0], "score": [0.1, 0.1, 0.7]}
    )
    with pytest.raises(ValueError, match=r"1 \(video, frame\) keys.*\('a', 0\)"):
        skpool.load_predictions(table, drop_duplicates=True)


def test_missing_video_id_raises(tmp_path):
    path = tmp_path / "missing.csv"
    path.write_text("video,frame,score\na.mp4,0,0.1\n,1,0.2\n,2,0.3\n")
    with pytest.raises(
        ValueError, match=r"2 rows with no value in column 'video'.*1, 2"
    ):
        skpool.load_predictions(path)


def test_non_numeric_scores_raise(tmp_path):
    path = tmp_path / "strings.csv"
    path.write_text("video,frame,score\na.mp4,0,0.1\na.mp4,1,high\nb.mp4,0,low\n")
    with pytest.raises(
        ValueError, match=r"2 values in score column 'score'.*'high' for video 'a.mp4'"
    ):
        skpool.load_predictions(path)


def test_boolean_scores_raise():
    table = pd.DataFrame({"video": ["a"], "score": [True]})
    with pytest.raises(ValueError, match=r"contains booleans"):
        skpool.load_predictions(table)


def test_missing_score_column_raises():
    table = pd.DataFrame({"video": ["a"], "prob": [0.3]})
    with pytest.raises(
        ValueError, match=r"no score column 'score'.*\['video', 'prob'\]"
    ):
        skpool.load_predictions(table)


def test_named_frame_column_must_exist():
    table = pd.DataFrame({"video": ["a"], "score": [0.3]})
    with pytest.raises(ValueError, match=r"no frame column 'frame_index'"):
        skpool.load_predictions(table, frame="frame_index")


def test_dict_string_scores_raise():
    with pytest.raises(ValueError, match=r"Video 'b.mp4' in the dict has a string"):
        skpool.load_predictions({"a.mp4": [0.1], "b.mp4": "0.5"})
    with pytest.raises(
        ValueError, match=r"Video 'b.mp4' in the dict has scores of dtype"
    ):
        skpool.load_predictions({"a.mp4": [0.1], "b.mp4": np.array(["x", "y"])})


def test_dict_two_dimensional_scores_raise():
    with pytest.raises(
        ValueError, match=r"Video 'b.mp4' in the dict has scores of shape \(2, 2\)"
    ):
        skpool.load_predictions({"a.mp4": [0.1], "b.mp4": np.ones((2, 2))})


def test_npz_two_dimensional_array_raises(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, **{"a.mp4": np.ones(3), "b.mp4": np.ones((3, 2))})
    with pytest.raises(
        ValueError, match=r"Video 'b.mp4' in '.*bad.npz' has scores of shape \(3, 2\)"
    ):
        skpool.load_predictions(path)


def test_npy_not_dict_raises(tmp_path):
    path = tmp_path / "flat.npy"
    np.save(path, np.ones(5))
    with pytest.raises(
        ValueError, match=r"flat.npy' contains a 1-D array of shape \(5,\), not a dict"
    ):
        skpool.load_predictions(path)
    pickled = tmp_path / "set.npy"
    np.save(pickled, {"a.mp4", "b.mp4"}, allow_pickle=True)
    with pytest.raises(ValueError, match=r"contains a pickled set, not a dict"):
        skpool.load_predictions(pickled, allow_pickle=True)


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_pickle_needs_allow_pickle(tmp_path, suffix):
    path = tmp_path / f"pickled{suffix}"
    predictions = {"a.mp4": np.array([0.2], dtype=np.float32)}
    if suffix == ".npy":
        np.save(path, predictions)
    else:
        np.savez(path, predictions=predictions)
    with pytest.raises(ValueError, match=r"Unpickling runs code.*allow_pickle=True"):
        skpool.load_predictions(path)
    videos = skpool.load_predictions(path, allow_pickle=True)
    assert videos.ids.tolist() == ["a.mp4"]


def test_missing_file_raises(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match=r"nowhere.csv"):
        skpool.load_predictions(path)
    with pytest.raises(FileNotFoundError, match=r"metadata.json"):
        skpool.load_dfdc_labels(tmp_path / "metadata.json")


def test_unknown_format_raises(tmp_path):
    path = tmp_path / "predictions.pkl"
    path.write_bytes(b"\x80")
    with pytest.raises(
        ValueError, match=r"unknown extension '.pkl'.*\.npy, \.npz, \.csv"
    ):
        skpool.load_predictions(path)


def test_truncated_npy_raises(tmp_path):
    path = tmp_path / "cut.npy"
    np.save(path, _make_predictions(), allow_pickle=True)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"Could not read '.*cut.npy'.*truncated"):
        skpool.load_predictions(path, allow_pickle=True)
    padded = tmp_path / "cut_padded.npy"
    np.save(padded, np.ones((50, 20)))
    padded.write_bytes(padded.read_bytes()[:500])
    with pytest.raises(
        ValueError, match=r"Could not read '.*cut_padded.npy'.*truncated"
    ):
        skpool.load_predictions(padded, ids=range(50))


def test_empty_npy_raises(tmp_path):
    path = tmp_path / "empty.npy"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.npy' as a NumPy .npy file"):
        skpool.load_predictions(path)


def test_truncated_npz_raises(tmp_path):
    path = tmp_path / "cut.npz"
    skpool.save_predictions(path, _make_predictions())
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(
        ValueError, match=r"Could not read '.*cut.npz' as a .npz archive"
    ):
        skpool.load_predictions(path)


def test_empty_npz_raises(tmp_path):
    path = tmp_path / "none.npz"
    np.savez(path)
    with pytest.raises(ValueError, match=r"none.npz' contains no videos"):
        skpool.load_predictions(path)


def test_truncated_parquet_raises(tmp_path):
    path = tmp_path / "cut.parquet"
    _long_table(_make_predictions()).to_parquet(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(
        ValueError, match=r"Could not read '.*cut.parquet' as a Parquet file"
    ):
        skpool.load_predictions(path)


def test_empty_csv_raises(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match=r"empty.csv' is empty"):
        skpool.load_predictions(path)
    header_only = tmp_path / "header.csv"
    header_only.write_text("video,frame,score\n")
    with pytest.raises(ValueError, match=r"header.csv. has no rows of predictions"):
        skpool.load_predictions(header_only)


def test_truncated_csv_last_line_raises(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("video,frame,score\na.mp4,0,0.1\na.mp4,1")
    with pytest.raises(ValueError, match=r"last line of '.*cut.csv' is incomplete"):
        skpool.load_predictions(path)


def test_parquet_without_pyarrow_raises(tmp_path, monkeypatch):
    path = tmp_path / "p.parquet"
    _long_table(_make_predictions()).to_parquet(path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportError, match=r"pip install skpool\[parquet\]"):
        skpool.load_predictions(path)


def test_padded_array_needs_ids():
    with pytest.raises(ValueError, match=r"carries no video ids; pass ids="):
        skpool.load_predictions(np.ones((2, 3)))


def test_padded_array_duplicate_ids_raise():
    with pytest.raises(ValueError, match=r"names 1 videos more than once: 'a'"):
        skpool.load_predictions(np.ones((3, 2)), ids=["a", "b", "a"])


def test_one_dimensional_array_raises():
    with pytest.raises(ValueError, match=r"1-D array of shape \(3,\)"):
        skpool.load_predictions(np.ones(3), ids=["a", "b", "c"])


def test_video_ids_keeps_missing_videos():
    videos = skpool.load_predictions(
        {"a": [0.1], "b": [0.2, 0.3]}, video_ids=["b", "a"]
    )
    assert videos.ids.tolist() == ["b", "a"]
    with pytest.warns(
        UserWarning, match=r"1 of 3 requested videos have no predictions: 'z'"
    ):
        videos = skpool.load_predictions(
            {"a": [0.1], "b": [0.2]}, video_ids=["a", "z", "b"]
        )
    np.testing.assert_array_equal(videos.lengths, [1, 0, 1])
    np.testing.assert_array_equal(_pooled(videos, "max"), [0.1, FILL_VALUE, 0.2])


def test_align_videos_missing_error():
    videos = skpool.load_predictions({"a": [0.1]})
    with pytest.raises(
        ValueError, match=r"1 of 2 requested videos have no predictions: 'q'"
    ):
        skpool.align_videos(videos, ["a", "q"], missing="error")
    with pytest.raises(
        ValueError, match=r"video_ids names 1 videos more than once: 'a'"
    ):
        skpool.align_videos(videos, ["a", "a"])


def test_save_predictions_npz_loads_without_pickle(tmp_path):
    predictions = {
        "file": np.array([0.1, 0.2]),
        "x/y.mp4": np.array([], dtype=np.float32),
    }
    path = skpool.save_predictions(tmp_path / "safe.npz", predictions)
    with np.load(path, allow_pickle=False) as archive:
        assert list(archive.keys()) == ["file", "x/y.mp4"]
        np.testing.assert_array_equal(archive["file"], [0.1, 0.2])
        assert archive["x/y.mp4"].shape == (0,)


def test_save_predictions_csv_keeps_empty_video(tmp_path):
    path = skpool.save_predictions(tmp_path / "p.csv", {"a": [0.4, 0.6], "empty": []})
    videos = skpool.load_predictions(path)
    assert videos.ids.tolist() == ["a", "empty"]
    np.testing.assert_array_equal(_pooled(videos, "mean"), [0.5, FILL_VALUE])


def test_save_predictions_unknown_format(tmp_path):
    with pytest.raises(ValueError, match=r"unknown extension '.txt'.*\.npz, \.csv"):
        skpool.save_predictions(tmp_path / "p.txt", {"a": [0.1]})


def _write_metadata(path, entries):
    path.write_text(json.dumps(entries))
    return path


def test_dfdc_submission_log_loss(tmp_path):
    metadata = _write_metadata(
        tmp_path / "metadata.json",
        {
            "aaa.mp4": {"label": "FAKE", "split": "train", "original": "bbb.mp4"},
            "bbb.mp4": {"label": "REAL", "split": "train", "original": None},
            "ccc.mp4": {"label": "FAKE", "split": "train", "original": "bbb.mp4"},
        },
    )
    predictions = tmp_path / "predictions.npz"
    # bbb.mp4 has zero frames; ccc.mp4 is missing from the predictions.
    skpool.save_predictions(
        predictions, {"aaa.mp4": [0.9, 0.7, 0.8], "bbb.mp4": np.array([])}
    )

    with pytest.warns(
        UserWarning, match=r"1 of 3 labelled videos have no predictions: 'ccc.mp4'"
    ):
        videos, y = skpool.load_dataset(predictions, metadata)
    model = VideoAggregator(method="mean", fill_value=0.5).fit(videos, y)
    proba = model.predict_proba(videos)[:, 1]
    submission_path = tmp_path / "submission.csv"
    skpool.write_submission(submission_path, videos.ids, proba)

    submission = pd.read_csv(submission_path)
    assert submission.columns.tolist() == ["filename", "label"]
    assert submission["filename"].tolist() == ["aaa.mp4", "bbb.mp4", "ccc.mp4"]
    np.testing.assert_allclose(submission["label"], [0.8, 0.5, 0.5])
    by_hand = -(np.log(0.8) + np.log(1 - 0.5) + np.log(0.5)) / 3
    assert log_loss([1, 0, 1], submission["label"]) == pytest.approx(by_hand)
    np.testing.assert_array_equal(y, [1, 0, 1])


def test_load_dataset_report_and_unlabelled(tmp_path):
    predictions = {"a": [0.9], "b": [0.1], "extra": [0.5]}
    labels = {"a": 1, "b": 0, "gone": 1}
    with pytest.warns(UserWarning) as records:
        videos, y, report = skpool.load_dataset(predictions, labels, return_report=True)
    messages = [str(record.message) for record in records]
    assert any(
        "1 videos have predictions but no label and are left out: 'extra'" in m
        for m in messages
    )
    assert any(
        "1 of 3 labelled videos have no predictions: 'gone'" in m for m in messages
    )
    assert videos.ids.tolist() == ["a", "b", "gone"]
    np.testing.assert_array_equal(y, [1, 0, 1])
    assert report.missing_predictions == ["gone"]
    assert report.unlabelled == ["extra"]


def test_load_dataset_video_ids_without_label_raise():
    predictions = {"a": [0.9], "extra": [0.5]}
    with pytest.raises(ValueError, match=r"1 of 2 videos have no label: 'extra'"):
        skpool.load_dataset(predictions, {"a": 1}, video_ids=["a", "extra"])


def test_load_dataset_with_label_csv(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("video,label\nb.mp4,0\na.mp4,1\n")
    table = pd.DataFrame({"video": ["a.mp4", "b.mp4"], "score": [0.7, 0.2]})
    videos, y = skpool.load_dataset(table, labels)
    assert videos.ids.tolist() == ["b.mp4", "a.mp4"]
    np.testing.assert_array_equal(y, [0, 1])


def test_load_dfdc_labels_aligned(tmp_path):
    metadata = _write_metadata(
        tmp_path / "metadata.json",
        {
            "x.mp4": {"label": "REAL"},
            "y.mp4": {"label": "FAKE"},
            "z.mp4": {"label": "fake"},
        },
    )
    labels = skpool.load_dfdc_labels(metadata, ["z.mp4", "x.mp4", "y.mp4"])
    np.testing.assert_array_equal(labels, [1, 0, 1])
    assert labels.dtype == np.int64
    series = skpool.load_dfdc_labels(metadata)
    assert series.index.tolist() == ["x.mp4", "y.mp4", "z.mp4"]
    with pytest.raises(ValueError, match=r"1 of 2 videos have no label: 'w.mp4'"):
        skpool.load_dfdc_labels(metadata, ["x.mp4", "w.mp4"])
    partial = skpool.load_dfdc_labels(metadata, ["x.mp4", "w.mp4"], missing="nan")
    np.testing.assert_array_equal(partial, [0.0, np.nan])


def test_load_dfdc_labels_several_files(tmp_path):
    first = _write_metadata(tmp_path / "m0.json", {"a.mp4": {"label": "FAKE"}})
    second = _write_metadata(tmp_path / "m1.json", {"b.mp4": {"label": "REAL"}})
    np.testing.assert_array_equal(
        skpool.load_dfdc_labels([first, second], ["b.mp4", "a.mp4"]), [0, 1]
    )
    conflicting = _write_metadata(tmp_path / "m2.json", {"a.mp4": {"label": "REAL"}})
    with pytest.raises(ValueError, match=r"1 videos have conflicting labels: 'a.mp4'"):
        skpool.load_dfdc_labels([first, conflicting])


def test_dfdc_label_field_missing(tmp_path):
    metadata = _write_metadata(
        tmp_path / "metadata.json",
        {"a.mp4": {"label": "FAKE"}, "b.mp4": {"split": "train"}},
    )
    with pytest.raises(
        ValueError, match=r"Video 'b.mp4' in '.*metadata.json' has no 'label'"
    ):
        skpool.load_dfdc_labels(metadata)


def test_dfdc_label_value_invalid():
    with pytest.raises(
        ValueError, match=r"Video 'a.mp4' in the metadata dict has label 'maybe'"
    ):
        skpool.load_dfdc_labels({"a.mp4": {"label": "maybe"}})


def test_dfdc_metadata_truncated(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text('{"a.mp4": {"label": "FAKE"}, "b.mp4": {"lab')
    with pytest.raises(ValueError, match=r"Could not parse '.*metadata.json' as JSON"):
        skpool.load_dfdc_labels(path)


def test_dfdc_metadata_not_an_object(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"contains a list; expected a JSON object"):
        skpool.load_dfdc_labels(path)


def test_load_labels_csv(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("filename,label\nb.mp4,0\na.mp4,1\n")
    labels = skpool.load_labels(path, ["a.mp4", "b.mp4"], video="filename")
    np.testing.assert_array_equal(labels, [1, 0])
    with pytest.raises(
        ValueError, match=r"no video column 'video'.*\['filename', 'label'\]"
    ):
        skpool.load_labels(path, ["a.mp4"])


def test_load_labels_conflicting_rows():
    table = pd.DataFrame({"video": ["a", "a", "b"], "label": [1, 0, 0]})
    with pytest.raises(ValueError, match=r"1 videos have conflicting labels: 'a'"):
        skpool.load_labels(table)


def test_write_submission_rejects_bad_values(tmp_path):
    path = tmp_path / "submission.csv"
    ids = ["a.mp4", "b.mp4", "c.mp4"]
    with pytest.raises(
        ValueError, match=r"1 probabilities are not finite: 'b.mp4': nan"
    ):
        skpool.write_submission(path, ids, [0.1, np.nan, 0.3])
    with pytest.raises(
        ValueError, match=r"1 probabilities are outside \[0, 1\]: 'c.mp4': 1.5"
    ):
        skpool.write_submission(path, ids, [0.1, 0.2, 1.5])
    with pytest.raises(
        ValueError, match=r"video_ids names 1 videos more than once: 'a.mp4'"
    ):
        skpool.write_submission(path, ["a.mp4", "a.mp4", "c.mp4"], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"Got 3 video ids and 2 probabilities"):
        skpool.write_submission(path, ids, [0.1, 0.2])
    with pytest.raises(ValueError, match=r"pass proba\[:, 1\]"):
        skpool.write_submission(path, ids, np.full((3, 2), 0.5))
    assert not path.exists()


def test_write_submission_keeps_order(tmp_path):
    path = tmp_path / "submission.csv"
    skpool.write_submission(path, ["z.mp4", "a.mp4"], np.array([0.25, 0.75]))
    assert path.read_text() == "filename,label\nz.mp4,0.25\na.mp4,0.75\n"


def test_load_dataset_without_warnings_when_complete():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        videos, y = skpool.load_dataset({"a": [0.9], "b": [0.1]}, {"b": 0, "a": 1})
    assert videos.ids.tolist() == ["b", "a"]
    np.testing.assert_array_equal(y, [0, 1])


def test_combine_codes_many_combinations_sorts_like_tuples():
    from skpool._io import _combine_codes

    rng = np.random.default_rng(5)
    codes = [rng.integers(0, 4, 200), rng.integers(0, 3, 200), rng.integers(0, 2, 200)]
    # Sizes whose product overflows int64 take the tuple-numbering branch.
    key = _combine_codes(codes, [2**40, 2**30, 2])
    tuples = list(zip(*(c.tolist() for c in codes), strict=True))
    distinct = sorted(set(tuples))
    expected = [distinct.index(t) for t in tuples]
    np.testing.assert_array_equal(key, expected)


def test_npz_member_truncated_names_video(tmp_path):
    import io
    import zipfile

    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.arange(100, dtype=np.float64))
    path = tmp_path / "member.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("good.mp4.npy", buffer.getvalue())
        archive.writestr("cut.mp4.npy", buffer.getvalue()[:300])
    with pytest.raises(ValueError, match=r"Could not read video 'cut.mp4' from"):
        skpool.load_predictions(path)


def test_ids_rejected_for_sources_with_ids(tmp_path):
    table = pd.DataFrame({"video": ["a"], "score": [0.2]})
    with pytest.raises(ValueError, match=r"names its videos itself.*video_ids="):
        skpool.load_predictions(table, ids=["a"])
    with pytest.raises(ValueError, match=r"names its videos itself.*video_ids="):
        skpool.load_predictions({"a": [0.2]}, ids=["a"])
    path = tmp_path / "dict.npy"
    np.save(path, {"a": np.array([0.2])}, allow_pickle=True)
    with pytest.raises(ValueError, match=r"contains a dict that names its videos"):
        skpool.load_predictions(path, allow_pickle=True, ids=["a"])


def test_align_videos_from_no_videos():
    empty = skpool.RaggedFrames.from_list([], ids=[])
    aligned = skpool.align_videos(empty, ["x", "y"], missing="ignore")
    assert aligned.ids.tolist() == ["x", "y"]
    np.testing.assert_array_equal(aligned.lengths, [0, 0])


def test_polars_and_pyarrow_tables():
    polars = pytest.importorskip("polars")
    pyarrow = pytest.importorskip("pyarrow")
    columns = {"video": ["a", "b", "a"], "frame": [1, 0, 0], "score": [0.1, 0.2, 0.3]}
    for table in (polars.DataFrame(columns), pyarrow.table(columns)):
        videos = skpool.load_predictions(table)
        assert videos.ids.tolist() == ["a", "b"]
        np.testing.assert_array_equal(videos[0], [0.3, 0.1])


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 6), min_size=1, max_size=8),
    seed=st.integers(0, 2**32 - 1),
)
def test_shuffled_table_matches_dict(lengths, seed):
    assume(sum(lengths) > 0)
    rng = np.random.default_rng(seed)
    predictions = {}
    for i, length in enumerate(lengths):
        scores = rng.random(length)
        scores[rng.random(length) < 0.3] = np.nan
        predictions[f"v{i}"] = scores
    table = _long_table(predictions, seed=seed)
    ids = list(predictions)
    expected = skpool.load_predictions(predictions)
    # Videos without frames have no rows, so only video_ids brings them back.
    loaded = skpool.load_predictions(table, video_ids=ids, missing="ignore")
    np.testing.assert_array_equal(loaded.lengths, expected.lengths)
    np.testing.assert_array_equal(loaded.values, expected.values)


def test_csv_video_ids_stay_strings(tmp_path):
    path = tmp_path / "numeric_ids.csv"
    path.write_text("video,score\n007,0.1\n12,0.2\n")
    videos = skpool.load_predictions(path)
    assert videos.ids.tolist() == ["007", "12"]


def test_load_labels_json_points_to_dfdc(tmp_path):
    path = _write_metadata(tmp_path / "metadata.json", {"a.mp4": {"label": "FAKE"}})
    with pytest.raises(ValueError, match=r"with load_dfdc_labels"):
        skpool.load_labels(path)


def test_empty_label_sources_raise(tmp_path):
    metadata = _write_metadata(tmp_path / "metadata.json", {})
    with pytest.raises(ValueError, match=r"metadata.json' contains no videos"):
        skpool.load_dfdc_labels(metadata)
    labels = tmp_path / "labels.csv"
    labels.write_text("video,label\n")
    with pytest.raises(ValueError, match=r"labels.csv' has no rows of labels"):
        skpool.load_labels(labels)


def test_load_predictions_features_from_npz(tmp_path):
    rng = np.random.default_rng(3)
    frames = {
        "a.mp4": rng.random((4, 2)),
        "b.mp4": np.empty((0, 2)),
        "c.mp4": rng.random((1, 2)),
    }
    path = tmp_path / "features.npz"
    np.savez(path, **frames)
    videos = skpool.load_predictions(path, features=True)
    assert videos.n_features == 2
    assert videos.ids.tolist() == ["a.mp4", "b.mp4", "c.mp4"]
    assert videos.lengths.tolist() == [4, 0, 1]
    np.testing.assert_array_equal(videos[0], frames["a.mp4"])
    np.testing.assert_array_equal(videos[2], frames["c.mp4"])


def test_load_predictions_features_invalid():
    with pytest.raises(ValueError, match="same number of frame features"):
        skpool.load_predictions(
            {"a": np.zeros((2, 3)), "b": np.zeros((2, 4))}, features=True
        )
    with pytest.raises(ValueError, match="'a' in the dict has frames of shape"):
        skpool.load_predictions({"a": np.zeros(3)}, features=True)
    table = pd.DataFrame({"video": ["a"], "score": [0.5]})
    with pytest.raises(ValueError, match="a long table or a padded array"):
        skpool.load_predictions(table, features=True)
    with pytest.raises(ValueError, match="set features=True"):
        skpool.load_predictions({"a": np.zeros((2, 3))})
