"""Tests of the ``skpool`` command line, checked against plain numpy and sklearn."""

import csv
import importlib.util
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skpool import default_grid
from skpool._cli import main
from skpool._cli_report import Progress
from skpool.datasets import load_brown_creeper

NARROW = ["--cv", "3", "--grid", "mean,max,quantile,sharpened_mean"]


def run(capsys, *argv):
    """Run ``skpool argv`` in-process; return (exit status, stdout, stderr)."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status, err, *fragments):
    assert status != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("skpool: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def narrow_run(tmp_path_factory):
    """Run one narrow compare on the bundled data, with JSON results and a plot.

    Returns (stdout, stderr, JSON path, plot path or None without matplotlib).
    """
    folder = tmp_path_factory.mktemp("compare")
    output = folder / "results.json"
    argv = ["compare", *NARROW, "--output", str(output)]
    plot = None
    if importlib.util.find_spec("matplotlib") is not None:
        plot = folder / "compare.png"
        argv += ["--plot", str(plot)]
    stdout, stderr = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    try:
        status = main(argv)
    finally:
        sys.stdout, sys.stderr = saved
    assert status == 0, stderr.getvalue()
    return stdout.getvalue(), stderr.getvalue(), output, plot


@pytest.fixture
def dfdc_folder(tmp_path):
    """A small DFDC-shaped folder: pickled score dicts and metadata.json."""
    rng = np.random.default_rng(7)
    train, metadata = {}, {}
    for i in range(40):
        label = i % 2
        frames = rng.beta(2 + 3 * label, 4 - 2 * label, size=rng.integers(5, 25))
        train[f"train_{i:02d}.mp4"] = frames
        metadata[f"train_{i:02d}.mp4"] = {"label": "FAKE" if label else "REAL"}
    test = {f"test_{i:02d}.mp4": rng.random(rng.integers(1, 20)) for i in range(12)}
    np.save(tmp_path / "train.npy", train, allow_pickle=True)
    np.save(tmp_path / "test.npy", test, allow_pickle=True)
    np.savez(tmp_path / "train.npz", **train)
    (tmp_path / "metadata.json").write_text(json.dumps(metadata))
    return tmp_path, train, metadata, test


def read_submission(path):
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["filename", "label"]
    return {name: float(value) for name, value in rows[1:]}


# compare on the bundled data ----------------------------------------------


def test_compare_table_lists_every_method(narrow_run):
    out, err, _, _ = narrow_run
    table = out.split("Best setting of each method")[1].split("Best setting:")[0]
    for method in ("mean", "max", "quantile", "sharpened_mean"):
        assert f"  {method}  " in table
    assert "548 videos (197 positive), 10,232 frames" in out
    assert "rank  method" in out
    assert err == ""


def test_compare_summary_lines(narrow_run):
    out, _, output, _ = narrow_run
    document = json.loads(output.read_text())
    best = document["best"]
    assert f"Best setting: VideoAggregator(method={best['method']!r}" in out
    assert f"log loss {best['log_loss_mean']:.4f}" in out
    for method in ("mean", "max"):
        gain = document["gains"][method]
        assert f"Gain over plain {method} (its best clip, " in out
        expected = gain["baseline"]["log_loss_mean"] - best["log_loss_mean"]
        assert gain["gain"] == pytest.approx(expected)
        assert f"{gain['gain']:.4f} log loss" in out
    assert "Reference: predicting the positive share (0.359)" in out


def test_compare_matches_reference(narrow_run):
    """Plain mean and max log losses equal a numpy recomputation of the pipeline."""
    _, _, output, _ = narrow_run
    document = json.loads(output.read_text())
    videos, y = load_brown_creeper()
    splits = list(StratifiedKFold(3, shuffle=True, random_state=0).split(y, y))

    frame_scores = np.empty(len(videos.values))
    frame_video = np.repeat(np.arange(len(videos)), videos.lengths)
    for train, test in splits:
        in_train = np.isin(frame_video, train)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        model.fit(videos.values[in_train], y[frame_video[in_train]])
        frame_scores[~in_train] = model.predict_proba(videos.values[~in_train])[:, 1]

    per_video = [frame_scores[frame_video == i] for i in range(len(videos))]
    pooled = {
        "mean": np.array([scores.mean() for scores in per_video]),
        "max": np.array([scores.max() for scores in per_video]),
    }
    for method, values in pooled.items():
        expected = [
            log_loss(y[test], values[test], labels=[0, 1]) for _, test in splits
        ]
        (row,) = [
            r
            for r in document["results"]
            if r["method"] == method and r["clip"] is None
        ]
        np.testing.assert_allclose(row["fold_log_loss"], expected, rtol=1e-9)
        assert row["log_loss_mean"] == pytest.approx(np.mean(expected), rel=1e-9)


def test_compare_json_output(narrow_run):
    _, _, output, _ = narrow_run
    document = json.loads(output.read_text())
    results = document["results"]
    # 1 + 1 + 5 quantile levels + 3 gamma values, each with 4 clips.
    assert len(results) == 40
    assert [r["rank"] for r in results] == list(range(1, 41))
    means = [r["log_loss_mean"] for r in results]
    assert means == sorted(means)
    assert document["best"] == results[0]
    assert {r["method"] for r in results} == {
        "mean",
        "max",
        "quantile",
        "sharpened_mean",
    }
    assert all(len(r["fold_log_loss"]) == 3 for r in results)
    assert {r["clip"] for r in results} == {None, 0.005, 0.02, 0.05}
    assert document["context"]["n_videos"] == 548
    assert document["context"]["cv"] == 3


def test_compare_csv_output(capsys, dfdc_folder):
    folder, *_ = dfdc_folder
    output = folder / "results.csv"
    status, out, err = run(
        capsys,
        "compare",
        str(folder / "train.npz"),
        "--labels",
        str(folder / "metadata.json"),
        *NARROW,
        "--output",
        str(output),
    )
    assert status == 0, err
    assert f"Results written to {output}" in out
    with open(output, newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 40
    assert list(rows[0]) == [
        "rank",
        "method",
        "gamma",
        "q",
        "clip",
        "log_loss_mean",
        "log_loss_std",
        "log_loss_fold_1",
        "log_loss_fold_2",
        "log_loss_fold_3",
    ]
    assert [int(row["rank"]) for row in rows] == list(range(1, 41))
    quantile_levels = {row["q"] for row in rows if row["method"] == "quantile"}
    assert quantile_levels == {"0.6", "0.7", "0.8", "0.9", "0.95"}
    assert {row["clip"] for row in rows} == {"", "0.005", "0.02", "0.05"}
    for row in rows:
        folds = [float(row[f"log_loss_fold_{fold}"]) for fold in (1, 2, 3)]
        assert float(row["log_loss_mean"]) == pytest.approx(np.mean(folds))
        assert float(row["log_loss_std"]) == pytest.approx(np.std(folds))


def test_compare_writes_plot(narrow_run):
    out, _, _, plot = narrow_run
    if plot is None:
        pytest.skip("--plot needs matplotlib, which is not installed")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Plot written to {plot}" in out


def test_compare_plot_without_matplotlib(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status, out, err = run(capsys, "compare", "--plot", str(tmp_path / "a.png"))
    assert_one_line_error(status, err, "matplotlib", "pip install 'skpool[plot]'")
    assert out == ""


def test_compare_default_grid(capsys):
    status, out, err = run(capsys, "compare")
    assert status == 0, err
    table = out.split("Best setting of each method")[1].split("Best setting:")[0]
    for method in {m for entry in default_grid() for m in entry["method"]}:
        assert f"  {method}  " in table
    assert "x 5 folds" in out
    assert "Gain over plain mean" in out
    assert "Gain over plain max" in out


def test_compare_subprocess_is_quiet_when_piped():
    completed = subprocess.run(
        [sys.executable, "-m", "skpool", "compare", "--cv", "3", "--grid", "mean,max"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert "Best setting: VideoAggregator(method=" in completed.stdout
    assert "Gain over plain max" in completed.stdout


def test_compare_adds_missing_baselines(capsys, dfdc_folder):
    folder, *_ = dfdc_folder
    status, out, err = run(
        capsys,
        "compare",
        str(folder / "train.npz"),
        "--labels",
        str(folder / "metadata.json"),
        "--grid",
        "logit_mean",
    )
    assert status == 0, err
    table = out.split("Best setting of each method")[1].split("Best setting:")[0]
    assert "  logit_mean  " in table
    assert "  mean  " not in table
    assert "Gain over plain mean (its best clip" in out
    assert "Gain over plain max (its best clip" in out


def test_progress_on_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    progress = Progress(terminal, min_interval=0)
    progress.start(2, "search")
    progress.advance()
    progress.advance()
    assert "search: 2/2 fits" in terminal.getvalue()

    piped = io.StringIO()
    quiet = Progress(piped, min_interval=0)
    quiet.start(2, "search")
    quiet.advance()
    assert piped.getvalue() == ""


# compare and predict on files ---------------------------------------------


def test_compare_dfdc_files(capsys, dfdc_folder):
    folder, train, metadata, _ = dfdc_folder
    status, out, err = run(
        capsys,
        "compare",
        str(folder / "train.npy"),
        "--labels",
        str(folder / "metadata.json"),
        "--allow-pickle",
        "--cv",
        "3",
        "--grid",
        "mean,max",
        "--clips",
        "none",
    )
    assert status == 0, err
    assert "40 videos (20 positive)" in out
    y = np.array([int(metadata[name]["label"] == "FAKE") for name in train])
    splits = StratifiedKFold(3, shuffle=True, random_state=0).split(y, y)
    means = np.array([frames.mean() for frames in train.values()])
    expected = np.mean([log_loss(y[test], means[test]) for _, test in splits])
    assert "  mean  " in out
    assert f"{expected:.4f}" in out


def test_compare_label_csv_leaves_out_unlabelled(capsys, dfdc_folder):
    folder, train, metadata, _ = dfdc_folder
    names = list(train)[:30]
    labels = folder / "labels.csv"
    labels.write_text(
        "video,label\n"
        + "".join(
            f"{name},{int(metadata[name]['label'] == 'FAKE')}\n" for name in names
        )
    )
    status, out, err = run(
        capsys,
        "compare",
        str(folder / "train.npz"),
        "--labels",
        str(labels),
        "--cv",
        "3",
        "--grid",
        "mean,max",
    )
    assert status == 0, err
    assert "30 videos (15 positive)" in out
    assert err.startswith("skpool: note: 10 videos have predictions but no label")


def test_predict_fixed_setting(capsys, dfdc_folder, tmp_path):
    folder, _, _, test = dfdc_folder
    submission = tmp_path / "submission.csv"
    status, out, err = run(
        capsys,
        "predict",
        str(folder / "test.npy"),
        "--allow-pickle",
        "--out",
        str(submission),
        "--method",
        "quantile",
        "--q",
        "0.8",
        "--clip",
        "0.02",
    )
    assert status == 0, err
    written = read_submission(submission)
    assert list(written) == list(test)
    for name, frames in test.items():
        expected = np.clip(np.quantile(frames, 0.8), 0.02, 0.98)
        assert written[name] == pytest.approx(expected, abs=1e-12)
    assert "Wrote 12 video predictions" in out


def test_predict_fit_on(capsys, dfdc_folder, tmp_path):
    folder, _, _, test = dfdc_folder
    submission = tmp_path / "submission.csv"
    status, out, err = run(
        capsys,
        "predict",
        str(folder / "test.npy"),
        "--out",
        str(submission),
        "--fit-on",
        str(folder / "train.npy"),
        "--labels",
        str(folder / "metadata.json"),
        "--allow-pickle",
        "--grid",
        "max",
        "--clips",
        "0.1",
        "--cv",
        "3",
    )
    assert status == 0, err
    assert "VideoAggregator(method='max', clip=0.1)" in out
    written = read_submission(submission)
    assert list(written) == list(test)
    for name, frames in test.items():
        assert written[name] == pytest.approx(np.clip(frames.max(), 0.1, 0.9))


def test_predict_video_list_keeps_every_video(capsys, dfdc_folder, tmp_path):
    folder, _, _, test = dfdc_folder
    names = [*test, "unseen.mp4"]
    video_list = tmp_path / "sample_submission.csv"
    video_list.write_text("filename,label\n" + "".join(f"{n},0.5\n" for n in names))
    submission = tmp_path / "submission.csv"
    status, _, err = run(
        capsys,
        "predict",
        str(folder / "test.npy"),
        "--allow-pickle",
        "--out",
        str(submission),
        "--video-list",
        str(video_list),
    )
    assert status == 0, err
    written = read_submission(submission)
    assert list(written) == names
    assert written["unseen.mp4"] == 0.5
    assert "'unseen.mp4'" in err


# bad command lines ----------------------------------------------------------


def test_error_missing_predictions(capsys, tmp_path):
    missing = tmp_path / "nothing.npy"
    status, out, err = run(capsys, "compare", str(missing), "--labels", "x.json")
    assert_one_line_error(status, err, str(missing), "not found")
    assert out == ""


def test_error_missing_labels(capsys, dfdc_folder):
    folder, *_ = dfdc_folder
    status, _, err = run(
        capsys,
        "compare",
        str(folder / "train.npz"),
        "--labels",
        str(folder / "no.json"),
    )
    assert_one_line_error(status, err, "--labels", "no.json", "not found")


def test_error_labels_for_no_video(capsys, dfdc_folder):
    folder, *_ = dfdc_folder
    other = folder / "other.json"
    other.write_text(
        json.dumps({"x.mp4": {"label": "FAKE"}, "y.mp4": {"label": "REAL"}})
    )
    status, _, err = run(
        capsys, "compare", str(folder / "train.npz"), "--labels", str(other)
    )
    assert_one_line_error(
        status, err, "None of the 2 labelled videos have predictions", "train_00.mp4"
    )


def test_error_labels_not_binary(capsys, dfdc_folder):
    folder, train, _, _ = dfdc_folder
    labels = folder / "labels.csv"
    labels.write_text(
        "video,label\n"
        + "".join(f"{name},{position % 7}\n" for position, name in enumerate(train))
    )
    status, _, err = run(
        capsys, "compare", str(folder / "train.npz"), "--labels", str(labels)
    )
    assert_one_line_error(
        status,
        err,
        "labels must be 0/1, true/false or FAKE/REAL",
        "found '0', '1', '2', '3', '4' and 2 more.",
    )


def test_error_unknown_method_in_grid(capsys):
    status, out, err = run(capsys, "compare", "--grid", "mean,maxx")
    assert_one_line_error(status, err, "unknown method 'maxx'", "quantile")
    assert out == ""


def test_error_pickle_needs_flag(capsys, dfdc_folder):
    folder, *_ = dfdc_folder
    status, _, err = run(
        capsys,
        "compare",
        str(folder / "train.npy"),
        "--labels",
        str(folder / "metadata.json"),
    )
    assert_one_line_error(status, err, "allow_pickle", "--allow-pickle")


def test_error_labels_without_predictions(capsys):
    status, _, err = run(capsys, "compare", "--labels", "metadata.json")
    assert_one_line_error(status, err, "--labels needs PREDICTIONS")


def test_error_predictions_without_labels(capsys, dfdc_folder):
    folder, *_ = dfdc_folder
    status, _, err = run(capsys, "compare", str(folder / "train.npz"))
    assert_one_line_error(status, err, "needs --labels")


def test_error_output_suffix(capsys, tmp_path):
    status, _, err = run(capsys, "compare", "--output", str(tmp_path / "r.xlsx"))
    assert_one_line_error(status, err, "'.xlsx'", ".csv or .json")


def test_error_too_few_folds(capsys):
    status, _, err = run(capsys, "compare", "--cv", "1")
    assert status == 2
    assert "needs at least 2 folds" in err
    assert "Traceback" not in err


def test_error_predict_unknown_method(capsys, dfdc_folder, tmp_path):
    folder, *_ = dfdc_folder
    status, _, err = run(
        capsys,
        "predict",
        str(folder / "train.npz"),
        "--out",
        str(tmp_path / "s.csv"),
        "--method",
        "meen",
    )
    assert_one_line_error(status, err, "--method 'meen' is unknown")
    assert not (tmp_path / "s.csv").exists()


def test_error_predict_fit_on_with_fixed(capsys, dfdc_folder, tmp_path):
    folder, *_ = dfdc_folder
    status, _, err = run(
        capsys,
        "predict",
        str(folder / "train.npz"),
        "--out",
        str(tmp_path / "s.csv"),
        "--fit-on",
        str(folder / "train.npz"),
        "--labels",
        str(folder / "metadata.json"),
        "--q",
        "0.9",
    )
    assert_one_line_error(status, err, "--q", "--fit-on")


def test_error_predict_invalid_parameter(capsys, dfdc_folder, tmp_path):
    folder, *_ = dfdc_folder
    status, _, err = run(
        capsys,
        "predict",
        str(folder / "train.npz"),
        "--out",
        str(tmp_path / "s.csv"),
        "--method",
        "quantile",
        "--q",
        "1.5",
    )
    assert_one_line_error(status, err, "'q'", "1.5")


def test_error_subprocess_one_line():
    completed = subprocess.run(
        [sys.executable, "-m", "skpool", "compare", "--grid", "median,nope"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1
    assert completed.stderr.startswith(
        "skpool: error: --grid names unknown method 'nope'"
    )


def test_error_logits_with_features(capsys):
    status, out, err = run(capsys, "compare", "--logits", "--grid", "mean")
    assert_one_line_error(status, err, "--logits", "frame features")
    assert out == ""


def test_compare_logits_file(capsys, dfdc_folder):
    folder, train, metadata, _ = dfdc_folder
    logits = {name: np.log(frames / (1 - frames)) for name, frames in train.items()}
    np.savez(folder / "logits.npz", **logits)
    argv = ["--labels", str(folder / "metadata.json"), "--grid", "mean", "--clips"]
    status, out, err = run(
        capsys, "compare", str(folder / "logits.npz"), "--logits", *argv, "none"
    )
    assert status == 0, err
    y = np.array([int(metadata[name]["label"] == "FAKE") for name in train])
    splits = StratifiedKFold(5, shuffle=True, random_state=0).split(y, y)
    means = np.array([frames.mean() for frames in train.values()])
    expected = np.mean([log_loss(y[test], means[test]) for _, test in splits])
    assert f"{expected:.4f}" in out


def test_compare_table_columns(capsys, dfdc_folder):
    folder, train, _, _ = dfdc_folder
    table = folder / "frames.csv"
    lines = ["filename,frame,p_fake"]
    for name, frames in train.items():
        lines += [f"{name},{i},{float(score)!r}" for i, score in enumerate(frames)]
    table.write_text("\n".join(lines) + "\n")
    status, out, err = run(
        capsys,
        "compare",
        str(table),
        "--labels",
        str(folder / "metadata.json"),
        "--video-column",
        "filename",
        "--score-column",
        "p_fake",
        "--grid",
        "mean,max",
    )
    assert status == 0, err
    assert f"40 videos (20 positive), {sum(map(len, train.values())):,} frames" in out


def test_error_table_column_missing(capsys, dfdc_folder):
    folder, *_ = dfdc_folder
    table = folder / "frames.csv"
    table.write_text("filename,frame,p_fake\nx.mp4,0,0.5\n")
    status, _, err = run(
        capsys, "compare", str(table), "--labels", str(folder / "metadata.json")
    )
    assert_one_line_error(status, err, "'video'")


def test_error_predict_option_of_other_method(capsys, dfdc_folder, tmp_path):
    folder, *_ = dfdc_folder
    status, _, err = run(
        capsys,
        "predict",
        str(folder / "train.npz"),
        "--out",
        str(tmp_path / "s.csv"),
        "--q",
        "0.9",
    )
    assert_one_line_error(status, err, "--q has no effect with --method mean")
    assert "--method quantile" in err
    assert not (tmp_path / "s.csv").exists()


def test_compare_column_error_names_flag(tmp_path, capsys):
    table = tmp_path / "frames.csv"
    table.write_text("filename,frame,score\na.mp4,0,0.9\nb.mp4,0,0.1\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("video,label\na.mp4,1\nb.mp4,0\n")
    assert main(["compare", str(table), "--labels", str(labels)]) != 0
    error = capsys.readouterr().err
    assert "no video column 'video'" in error
    assert "--video-column NAME" in error


def test_compare_labels_column_error_has_no_column_flag(tmp_path, capsys):
    table = tmp_path / "frames.csv"
    table.write_text("video,frame,score\na.mp4,0,0.9\nb.mp4,0,0.1\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("clip,label\na.mp4,1\nb.mp4,0\n")
    assert main(["compare", str(table), "--labels", str(labels)]) != 0
    error = capsys.readouterr().err
    assert "labels.csv" in error
    assert "--video-column" not in error


def test_predict_drop_duplicates_flag(tmp_path, capsys):
    table = tmp_path / "frames.csv"
    table.write_text("video,frame,score\na.mp4,0,0.9\na.mp4,0,0.9\nb.mp4,0,0.2\n")
    out = tmp_path / "submission.csv"
    assert main(["predict", str(table), "--out", str(out)]) != 0
    assert "--drop-duplicates" in capsys.readouterr().err
    assert main(["predict", str(table), "--out", str(out), "--drop-duplicates"]) == 0
    assert out.read_text().splitlines() == [
        "filename,label",
        "a.mp4,0.9",
        "b.mp4,0.2",
    ]


def _write_feature_files(folder, n_videos=40, seed=0):
    """Write frame features of labelled videos as .npz, labels as CSV."""
    rng = np.random.default_rng(seed)
    features, rows = {}, ["video,label"]
    for i in range(n_videos):
        label = i % 2
        n_frames = int(rng.integers(3, 9))
        features[f"v{i:03d}.mp4"] = rng.normal(label, 1.0, size=(n_frames, 3))
        rows.append(f"v{i:03d}.mp4,{label}")
    np.savez(folder / "features.npz", **features)
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return folder / "features.npz", folder / "labels.csv"


def test_compare_feature_file_scores_frames(tmp_path, capsys):
    features, labels = _write_feature_files(tmp_path)
    argv = ["compare", str(features), "--labels", str(labels), "--features"]
    assert main([*argv, "--cv", "3", "--grid", "mean,max"]) == 0
    output = capsys.readouterr().out
    assert "Frame scores: out-of-fold probabilities" in output
    assert "40 videos" in output


def test_compare_feature_file_without_flag(tmp_path, capsys):
    features, labels = _write_feature_files(tmp_path)
    assert main(["compare", str(features), "--labels", str(labels)]) != 0
    error = capsys.readouterr().err
    assert "shape" in error
    assert "--features" in error


def test_predict_feature_files_keep_every_video(tmp_path, capsys):
    train, labels = _write_feature_files(tmp_path)
    test_folder = tmp_path / "test"
    test_folder.mkdir()
    test, _ = _write_feature_files(test_folder, n_videos=10, seed=1)
    out = tmp_path / "submission.csv"
    argv = ["predict", str(test), "--fit-on", str(train), "--labels", str(labels)]
    argv += ["--features", "--cv", "3", "--grid", "mean", "--out", str(out)]
    assert main(argv) == 0
    rows = out.read_text().splitlines()
    assert rows[0] == "filename,label"
    assert len(rows) == 11
    probabilities = [float(row.split(",")[1]) for row in rows[1:]]
    assert all(0 <= value <= 1 for value in probabilities)
