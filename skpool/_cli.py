"""The ``skpool`` command: compare poolings by cross-validated log loss, predict.

``skpool compare`` scores a pooling grid with ``GridSearchCV`` and prints a
leaderboard; ``skpool predict`` writes a submission file. Every error a user
can cause ends in one line on stderr and exit status 1 (2 for a command
line that argparse rejects).
"""

import argparse
import io
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from ._cli_report import (
    CommandError,
    Progress,
    check_output_path,
    check_parent,
    check_plot_available,
    clip_sort_key,
    format_report,
    results_from_search,
    write_plot,
    write_results,
)

__all__ = ["main"]

FRAME_MODELS = ("logistic", "hgb", "forest")

# Options of VideoAggregator that `skpool predict` accepts as a fixed setting:
# name, type on the command line, help text.
_FIXED_OPTIONS = {
    "q": (float, "quantile level in [0, 1], for --method quantile"),
    "quantile_method": (str, "numpy.quantile method, for --method quantile"),
    "trim": (float, "share in [0, 0.5) cut from each end, for --method trimmed_mean"),
    "k": (None, "frames (integer) or share of frames (float), for --method topk_mean"),
    "power": (float, "exponent, for --method power_mean"),
    "sharpness": (float, "r of log(mean(exp(r p))) / r, for --method lse"),
    "alpha": (float, "frame weights exp(alpha p), for --method autopool"),
    "gamma": (float, "sharpening exponent, for --method sharpened_mean"),
    "threshold": (float, "frame score threshold, for --method vote"),
    "fill_value": (float, "probability of a video without frames (default: 0.5)"),
}


def main(argv=None):
    """Run the ``skpool`` command line and return its exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success, 1 for invalid input (missing file, unusable labels,
        unknown method), 2 for a command line argparse rejects, 130 when
        interrupted with Ctrl-C.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:
        return _exit_code(exit_request)
    try:
        return args.run(args)
    except CommandError as error:
        return _fail(str(error))
    except BrokenPipeError:
        # The reader of stdout (such as ``head``) exited; point stdout at
        # devnull so that Python's final flush does not fail again.
        _silence_stdout()
        return 1
    except (ValueError, OSError, ImportError) as error:
        # Loaders and parameter validation raise these with a message that
        # names the file or value; the traceback would only hide it. Other
        # exceptions are bugs and keep their traceback.
        return _fail(_one_line(error))
    except KeyboardInterrupt:
        print("skpool: interrupted", file=sys.stderr)
        return 130


def _silence_stdout():
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _exit_code(exit_request):
    code = exit_request.code
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _fail(message):
    print(f"skpool: error: {message}", file=sys.stderr)
    return 1


def _one_line(error):
    text = " ".join(str(error).split())
    if isinstance(error, OSError) and error.filename and error.strerror:
        text = f"{error.filename}: {error.strerror}"
    return text or type(error).__name__


# Command line ------------------------------------------------------------


def build_parser():
    """Return the argparse parser of ``skpool`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="skpool",
        description=(
            "Pool per-frame predictions into per-video predictions and choose the "
            "pooling by cross-validated log loss."
        ),
    )
    parser.add_argument("--version", action="version", version=f"skpool {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    compare = commands.add_parser(
        "compare",
        help="rank poolings by cross-validated log loss",
        description=(
            "Rank pooling settings by cross-validated log loss. Without PREDICTIONS "
            "it runs on the bundled Brown Creeper recordings, whose segments are "
            "first scored out of fold by a frame model."
        ),
    )
    compare.add_argument(
        "predictions",
        nargs="?",
        metavar="PREDICTIONS",
        help=(
            "frame predictions, one score per frame, in any file form "
            "skpool.load_predictions reads (frame features with --features); "
            "the bundled data, whose frame features are scored by "
            "--frame-model, when omitted"
        ),
    )
    compare.add_argument(
        "--labels",
        metavar="LABELS",
        help="video labels: a DFDC metadata.json or a CSV of video id and label",
    )
    _add_input_options(compare)
    _add_search_options(compare)
    compare.add_argument(
        "--output",
        metavar="FILE",
        help="write every setting's fold scores to FILE (.csv or .json)",
    )
    compare.add_argument(
        "--plot",
        metavar="FILE",
        help="draw log loss per method and against clip to FILE (.png, .pdf, .svg)",
    )
    compare.set_defaults(run=run_compare)

    predict = commands.add_parser(
        "predict",
        help="pool frame predictions into a submission file",
        description=(
            "Write one probability per video to a DFDC submission CSV, with a fixed "
            "pooling (--method and its options) or with the setting that wins a "
            "cross-validated search on labelled training videos (--fit-on)."
        ),
    )
    predict.add_argument(
        "predictions",
        metavar="PREDICTIONS",
        help="frame predictions of the videos to score",
    )
    predict.add_argument(
        "--out", required=True, metavar="FILE", help="submission CSV to write"
    )
    predict.add_argument(
        "--fit-on",
        metavar="TRAIN_PREDICTIONS",
        help="choose the pooling by a search on these labelled videos first",
    )
    predict.add_argument(
        "--labels", metavar="LABELS", help="labels of the --fit-on videos"
    )
    predict.add_argument(
        "--video-list",
        metavar="CSV",
        help=(
            "CSV whose first column names every video to score, such as the DFDC "
            "sample_submission.csv; videos without predictions get fill_value"
        ),
    )
    fixed = predict.add_argument_group(
        "fixed setting", "VideoAggregator parameters, used without --fit-on"
    )
    fixed.add_argument("--method", help="pooling statistic (default: mean)")
    fixed.add_argument(
        "--clip",
        type=_parse_clip,
        help="clip pooled probabilities to [CLIP, 1 - CLIP]; 'none' for no clip",
    )
    for name, (kind, help_text) in _FIXED_OPTIONS.items():
        fixed.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type=kind or _parse_k,
            metavar=name.upper(),
            help=help_text,
        )
    _add_input_options(predict)
    _add_search_options(predict)
    predict.set_defaults(run=run_predict)
    return parser


def _add_input_options(parser):
    reading = parser.add_argument_group("reading prediction files")
    reading.add_argument(
        "--allow-pickle",
        action="store_true",
        help=(
            "read pickled .npy dicts such as {video: scores}; unpickling runs code "
            "from the file, so use it only for files you trust"
        ),
    )
    reading.add_argument(
        "--video-column",
        metavar="NAME",
        help="video id column of a CSV or Parquet table",
    )
    reading.add_argument(
        "--score-column",
        metavar="NAME",
        help="frame score column of a CSV or Parquet table",
    )
    reading.add_argument(
        "--features",
        action="store_true",
        help=(
            "the files hold frame features, one 2-D array (frames x features) per "
            "video in a dict, .npz or pickled .npy; a frame model (--frame-model) "
            "scores the frames out of fold before pooling"
        ),
    )
    reading.add_argument(
        "--drop-duplicates",
        action="store_true",
        help=(
            "drop table rows that repeat a (video, frame, face) key with the same "
            "score; keys repeated with different scores still stop the run"
        ),
    )


def _add_search_options(parser):
    search = parser.add_argument_group(
        "search", "how settings are compared (for predict, only with --fit-on)"
    )
    search.add_argument(
        "--grid",
        default="default",
        help=(
            "'default' for skpool.default_grid(), or methods separated by commas "
            "(for example mean,max,quantile), each with its default_grid values"
        ),
    )
    search.add_argument(
        "--clips",
        type=_parse_clips,
        default=None,
        metavar="LIST",
        help="clip values tried with every method, for example none,0.005,0.02",
    )
    search.add_argument(
        "--cv", type=_parse_folds, default=5, help="number of folds (default: 5)"
    )
    search.add_argument(
        "--seed", type=int, default=0, help="seed of the fold shuffling (default: 0)"
    )
    search.add_argument(
        "--frame-model",
        choices=FRAME_MODELS,
        default="logistic",
        help=(
            "model that scores frame features, when the videos hold features "
            "rather than scores: standardized logistic regression, histogram "
            "gradient boosting or a random forest (default: logistic)"
        ),
    )
    search.add_argument(
        "--logits",
        action="store_true",
        help="the frame predictions are log-odds, not probabilities",
    )


def _parse_folds(text):
    try:
        folds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if folds < 2:
        raise argparse.ArgumentTypeError(f"needs at least 2 folds, got {folds}")
    return folds


def _parse_clip(text):
    if text.strip().lower() in ("none", "0"):
        return None
    try:
        clip = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number in (0, 0.5) or 'none', got {text!r}"
        ) from None
    if not 0 < clip < 0.5:
        raise argparse.ArgumentTypeError(f"must be in (0, 0.5) or 'none', got {text!r}")
    return clip


def _parse_clips(text):
    values = [part.strip() for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError("expected clip values separated by commas")
    return [_parse_clip(value) for value in values]


def _parse_k(text):
    """Read ``k`` of topk_mean: an integer count or a float share."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer or a share in (0, 1], got {text!r}"
        ) from None


# Grids and models -------------------------------------------------------


def parse_grid(text, clips=None):
    """Return the parameter grid named by ``--grid``.

    Parameters
    ----------
    text : str
        ``"default"`` or method names separated by commas.

    clips : list, default=None
        Clip values; those of `default_grid` when None.

    Returns
    -------
    list of dict
        A grid for ``GridSearchCV(VideoAggregator(), grid)``.
    """
    from ._aggregator import default_grid
    from ._stats import STATISTICS

    base = default_grid() if clips is None else default_grid(clips=clips)
    if text.strip().lower() == "default":
        return base
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise CommandError("--grid is empty; pass 'default' or method names.")
    unknown = [name for name in names if name not in STATISTICS]
    if unknown:
        raise CommandError(
            f"--grid names unknown method {unknown[0]!r}; choose from "
            f"{', '.join(sorted(STATISTICS))}, or pass 'default'."
        )
    clip_values = base[0]["clip"]
    grid = []
    for name in dict.fromkeys(names):
        entries = [entry for entry in base if name in entry["method"]]
        if not entries:
            entries = [{"method": [name], "clip": clip_values}]
        for entry in entries:
            grid.append({**entry, "method": [name]})
    return grid


def make_frame_model(name, seed):
    """Return the frame-level classifier named by ``--frame-model``."""
    if name == "logistic":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=seed)
    if name == "forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=200, min_samples_leaf=5, random_state=seed
        )
    raise CommandError(f"unknown frame model {name!r}; choose from {FRAME_MODELS}.")


def _frame_model_description(name):
    return {
        "logistic": "StandardScaler + LogisticRegression",
        "hgb": "HistGradientBoostingClassifier",
        "forest": "RandomForestClassifier(200 trees)",
    }[name]


def _folds(n_splits, seed, y):
    from sklearn.model_selection import StratifiedKFold

    counts = np.unique(y, return_counts=True)[1]
    if len(counts) == 2 and counts.min() < n_splits:
        raise CommandError(
            f"--cv {n_splits} needs at least {n_splits} videos of each class; the "
            f"smaller class has {counts.min()}. Use fewer folds."
        )
    return StratifiedKFold(n_splits, shuffle=True, random_state=seed)


# Loading ----------------------------------------------------------------


class Dataset:
    """Videos, their labels and a description for the report."""

    def __init__(self, videos, y, description, frame_model=None):
        self.videos = videos
        self.y = y
        self.description = description
        self.frame_model = frame_model


def load_bundled():
    """Return the bundled Brown Creeper recordings as a `Dataset`."""
    from .datasets import load_brown_creeper

    videos, y = load_brown_creeper()
    return Dataset(videos, y, "bundled Brown Creeper recordings (skpool.datasets)")


def _reading_options(args):
    """Return the load_predictions options set on the command line."""
    options = {
        "allow_pickle": args.allow_pickle,
        "drop_duplicates": args.drop_duplicates,
        "features": args.features,
    }
    if args.video_column is not None:
        options["video"] = args.video_column
    if args.score_column is not None:
        options["score"] = args.score_column
    return options


def _check_exists(path, option=None):
    if not Path(path).exists():
        where = f"{option} " if option else ""
        raise CommandError(f"{where}{path}: file not found.")


def _report_warnings(caught):
    """Print the UserWarnings of a loader as notes on stderr."""
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            print(f"skpool: note: {warning.message}", file=sys.stderr)
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )


def load_videos(path, args):
    """Read frame predictions from ``path`` with `skpool.load_predictions`."""
    from ._io import load_predictions

    _check_exists(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            videos = load_predictions(path, **_reading_options(args))
        except ValueError as error:
            raise CommandError(_with_command_line_hints(error, args)) from None
    _report_warnings(caught)
    return videos


# Loader options named in load_predictions' messages, and their flags.
_FLAG_OF_OPTION = {
    "allow_pickle=True": "--allow-pickle",
    "drop_duplicates=True": "--drop-duplicates",
    "features=True": "--features",
    "Set video=": "--video-column NAME",
    "Set score=": "--score-column NAME",
}


def _with_command_line_hints(error, args, labels_path=None):
    """Add the command-line spelling of the loader options a message names.

    The column flags set the predictions table's columns, so they are not
    offered for a message about the labels file.
    """
    message = _one_line(error)
    flags = [flag for option, flag in _FLAG_OF_OPTION.items() if option in message]
    if "--allow-pickle" in flags and args.allow_pickle:
        flags.remove("--allow-pickle")
    if labels_path is not None and Path(labels_path).name in message:
        flags = [flag for flag in flags if not flag.endswith("-column NAME")]
    if flags:
        message += " On the command line, pass " + " or ".join(flags) + "."
    return message


def load_labelled(predictions, labels_path, args):
    """Read predictions and labels matched by video id, as a `Dataset`.

    Videos with predictions but no label are left out, and labelled videos
    without predictions are kept without frames; both get a note on stderr.
    """
    from ._io import load_dataset

    if labels_path is None:
        raise CommandError(
            f"{predictions} needs --labels LABELS (a DFDC metadata.json or a CSV "
            "with video and label columns)."
        )
    _check_exists(predictions)
    _check_exists(labels_path, "--labels")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            labels = _labels_source(labels_path)
            videos, y = load_dataset(predictions, labels, **_reading_options(args))
        except ValueError as error:
            hinted = _with_command_line_hints(error, args, labels_path=labels_path)
            raise CommandError(hinted) from None
    _report_warnings(caught)
    return Dataset(videos, _binary_labels(y, labels_path), str(predictions))


def _labels_source(labels_path):
    """Return the --labels file, or its labels read by a "filename" column.

    The Deepfake Detection Challenge's labels.csv names videos in a
    "filename" column, while load_labels reads a "video" column by default.
    """
    from ._io import _LABEL_FORMATS, _check_file, _file_columns, load_labels

    suffix = _check_file(labels_path, _LABEL_FORMATS, "labels")
    if suffix == ".json":
        return labels_path
    columns = list(_file_columns(labels_path, suffix))
    if "video" not in columns and "filename" in columns:
        return load_labels(labels_path, video="filename")
    return labels_path


def _binary_labels(y, labels_path):
    """Return labels as 0/1 integers, reading FAKE/REAL and booleans too."""
    from ._io import _few

    y = np.asarray(y)
    if y.dtype.kind in "OUS":
        text = np.char.upper(y.astype(str))
        if set(np.unique(text).tolist()) <= {"FAKE", "REAL"}:
            return (text == "FAKE").astype(np.int64)
    if y.dtype.kind == "b":
        return y.astype(np.int64)
    if y.dtype.kind in "iuf" and set(np.unique(y).tolist()) <= {0, 1}:
        return y.astype(np.int64)
    found = np.unique(y.astype(str)).tolist()
    raise CommandError(
        f"{labels_path}: labels must be 0/1, true/false or FAKE/REAL; found "
        f"{_few(found)}."
    )


def score_frames(dataset, args, progress):
    """Replace frame features by out-of-fold frame probabilities; return the scorer.

    Returns None, and leaves the videos as they are, when they already hold
    one score per frame.
    """
    if dataset.videos.n_features is None:
        return None
    if args.logits:
        raise CommandError(
            "--logits describes frame scores, but these videos hold frame features, "
            "which the frame model turns into probabilities; drop --logits."
        )
    from ._scorer import FrameScorer

    frame_model, n_splits, seed = args.frame_model, args.cv, args.seed

    progress.status(
        f"scoring {int(dataset.videos.lengths.sum()):,} frames out of fold with "
        f"{_frame_model_description(frame_model)}"
    )
    scorer = FrameScorer(
        make_frame_model(frame_model, seed), cv=_folds(n_splits, seed, dataset.y)
    )
    dataset.videos = scorer.fit_transform(dataset.videos, dataset.y)
    dataset.frame_model = _frame_model_description(frame_model)
    progress.clear()
    return scorer


# Search -----------------------------------------------------------------


def search_poolings(dataset, grid, n_splits, seed, logits, progress):
    """Run GridSearchCV over ``grid`` and return it with its fold splits."""
    from sklearn.model_selection import GridSearchCV, ParameterGrid

    from ._aggregator import VideoAggregator

    splits = list(
        _folds(n_splits, seed, dataset.y).split(np.zeros(len(dataset.y)), dataset.y)
    )
    n_candidates = len(ParameterGrid(grid))
    progress.start(n_candidates * n_splits, "pooling search")
    search = GridSearchCV(
        VideoAggregator(logits=logits),
        grid,
        cv=splits,
        scoring=progress.scorer("neg_log_loss"),
        refit=False,
        error_score="raise",
    )
    search.fit(dataset.videos, dataset.y)
    progress.clear()
    return search, splits


def _baseline_results(dataset, results, grid, splits, logits, progress):
    """Return results for plain mean and max, searching them if ``grid`` lacks them."""
    from sklearn.model_selection import GridSearchCV

    from ._aggregator import VideoAggregator

    missing = [m for m in ("mean", "max") if not any(r.method == m for r in results)]
    if not missing:
        return results
    clips = {entry_clip for entry in grid for entry_clip in entry["clip"]}
    clips = sorted(clips, key=clip_sort_key)
    progress.start(len(missing) * len(clips) * len(splits), "baselines")
    search = GridSearchCV(
        VideoAggregator(logits=logits),
        {"method": missing, "clip": clips},
        cv=splits,
        scoring=progress.scorer("neg_log_loss"),
        refit=False,
        error_score="raise",
    )
    search.fit(dataset.videos, dataset.y)
    progress.clear()
    return results_from_search(search)


# Commands ---------------------------------------------------------------


def run_compare(args):
    """Run ``skpool compare``."""
    grid = parse_grid(args.grid, args.clips)
    if args.output is not None:
        check_output_path(args.output)
    if args.plot is not None:
        check_plot_available(args.plot)
    progress = Progress(sys.stderr)

    if args.predictions is None:
        if args.labels is not None:
            raise CommandError(
                "--labels needs PREDICTIONS; the bundled data carry their own labels."
            )
        dataset = load_bundled()
    else:
        dataset = load_labelled(args.predictions, args.labels, args)
    _check_two_classes(dataset.y, args.labels)
    score_frames(dataset, args, progress)

    search, splits = search_poolings(
        dataset, grid, args.cv, args.seed, args.logits, progress
    )
    results = results_from_search(search)
    baselines = _baseline_results(dataset, results, grid, splits, args.logits, progress)
    prior_share, prior_loss = _constant_prediction(dataset.y, splits)
    context = {
        "data": dataset.description,
        "n_videos": len(dataset.videos),
        "n_positive": int(np.sum(dataset.y == 1)),
        "n_frames": int(dataset.videos.lengths.sum()),
        "frame_model": dataset.frame_model,
        "cv": args.cv,
        "seed": args.seed,
        "grid": args.grid,
        "positive_share": prior_share,
        "constant_log_loss": prior_loss,
    }
    report = format_report(results, baselines, context)
    print(report.text)
    if args.output is not None:
        write_results(args.output, results, report, context)
        print(f"Results written to {args.output}")
    if args.plot is not None:
        write_plot(args.plot, results, context)
        print(f"Plot written to {args.plot}")
    return 0


def _constant_prediction(y, splits):
    """Return the positive share and the log loss of predicting it, over ``splits``.

    Each test fold gets the positive share of its training folds, so the
    number is comparable with the cross-validated log loss of the poolings.
    """
    from sklearn.metrics import log_loss

    losses = []
    for train, test in splits:
        share = float(np.mean(y[train] == 1))
        losses.append(log_loss(y[test], np.full(len(test), share), labels=[0, 1]))
    return float(np.mean(y == 1)), float(np.mean(losses))


def _check_two_classes(y, labels_path):
    classes = np.unique(y).tolist()
    if len(classes) != 2:
        raise CommandError(
            f"{labels_path}: every matched video has label {classes[0]!r}; the "
            "search needs videos of both classes, 0 (real) and 1 (fake)."
        )


def run_predict(args):
    """Run ``skpool predict``."""
    from . import _io

    fixed = {name: getattr(args, name) for name in _FIXED_OPTIONS}
    fixed = {name: value for name, value in fixed.items() if value is not None}
    if args.method is not None:
        fixed["method"] = args.method
    if args.clip is not None:
        fixed["clip"] = args.clip
    if args.fit_on is not None and fixed:
        raise CommandError(
            "--fit-on chooses the pooling by search; drop "
            f"--{next(iter(fixed)).replace('_', '-')} or drop --fit-on."
        )
    if args.labels is not None and args.fit_on is None:
        raise CommandError("--labels belongs to --fit-on TRAIN_PREDICTIONS; add it.")
    _check_out_path(args.out)

    videos = load_videos(args.predictions, args)
    if args.video_list is not None:
        videos = _align_to_list(videos, args.video_list)
    progress = Progress(sys.stderr)
    if args.fit_on is None:
        model, scorer = _fixed_model(fixed, args.logits, videos), None
    else:
        model, scorer = _fitted_model(args, progress)
    if (videos.n_features is not None) != (scorer is not None):
        training_kind = "frame features" if scorer is not None else "frame scores"
        raise CommandError(
            f"the --fit-on videos hold {training_kind} but {args.predictions} "
            "does not. Both must hold scores, or both features (with --features)."
        )
    if scorer is not None:
        videos = scorer.transform(videos)
    probabilities = model.predict_proba(videos)[:, 1]
    _io.write_submission(args.out, videos.ids, probabilities)
    print(
        f"Wrote {len(probabilities)} video predictions to {args.out} with "
        f"{_describe_model(model)}."
    )
    return 0


def _check_out_path(path):
    """Reject an --out path that cannot be written, before the search runs."""
    out = Path(path)
    if out.is_dir():
        raise CommandError(
            f"--out {path} is a directory; pass a file name such as submission.csv."
        )
    check_parent(path, "--out")


def _read_video_list(path, header):
    """Read the CSV of --video-list with every field as a string."""
    import pandas as pd

    # File names are strings: read as numbers, "007" would become 7 and
    # match no video. Only an empty field is a missing name. Only the first
    # column is read, so index_col=False may drop extra fields at the end of
    # a line (a trailing comma), which pandas would otherwise take for an
    # index column, shifting the names out of the first column.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        return pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            index_col=False,
            header=header,
        )


def _align_to_list(videos, path):
    """Reorder ``videos`` to the ids in the first column of the CSV ``path``."""
    from ._io import align_videos

    _check_exists(path, "--video-list")
    table = _read_video_list(path, "infer")
    # A plain list of file names has no header line, so its first name
    # would be taken for the column name and its video left out.
    first = str(table.columns[0]) if table.shape[1] else None
    if first is not None and first in {str(name) for name in videos.ids.tolist()}:
        print(
            f"skpool: note: the first line of {path}, {first!r}, names a video, "
            "so the file is read as having no header line.",
            file=sys.stderr,
        )
        table = _read_video_list(path, None)
    if table.shape[1] == 0 or len(table) == 0:
        raise CommandError(f"--video-list {path}: the CSV has no rows of video names.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aligned = align_videos(videos, table.iloc[:, 0].tolist(), missing="warn")
    _report_warnings(caught)
    left_out = len(videos) - int(np.isin(videos.ids, aligned.ids).sum())
    if left_out:
        print(
            f"skpool: note: {left_out} videos of the predictions are not in "
            f"{path} and are left out of the submission.",
            file=sys.stderr,
        )
    return aligned


def _fixed_model(params, logits, videos):
    from ._aggregator import VideoAggregator

    if videos.n_features is not None:
        raise CommandError(
            "the predictions hold frame features, not scores; pass --fit-on "
            "TRAIN_PREDICTIONS --labels LABELS to train a frame model first."
        )
    from ._stats import STATISTICS

    method = params.get("method", "mean")
    if method not in STATISTICS:
        raise CommandError(
            f"--method {method!r} is unknown; choose from "
            f"{', '.join(sorted(STATISTICS))}."
        )
    # An option the statistic does not read is most likely a forgotten
    # --method, so it is rejected rather than ignored.
    for name in params:
        if name in _FIXED_OPTIONS and name != "fill_value":
            if name not in STATISTICS[method].params:
                flag = "--" + name.replace("_", "-")
                users = [m for m, stat in STATISTICS.items() if name in stat.params]
                raise CommandError(
                    f"{flag} has no effect with --method {method}; it is read by "
                    f"--method {' or '.join(sorted(users))}."
                )
    model = VideoAggregator(logits=logits, **params)
    # Fixed statistics learn nothing from data: fit only checks the
    # parameters and records the classes 0 and 1, so two placeholder
    # videos suffice.
    model.fit([[0.5], [0.5]], [0, 1])
    return model


def _fitted_model(args, progress):
    from ._aggregator import VideoAggregator

    if args.labels is None:
        raise CommandError("--fit-on needs --labels LABELS for its videos.")
    grid = parse_grid(args.grid, args.clips)
    dataset = load_labelled(args.fit_on, args.labels, args)
    _check_two_classes(dataset.y, args.labels)
    scorer = score_frames(dataset, args, progress)
    search, _ = search_poolings(
        dataset, grid, args.cv, args.seed, args.logits, progress
    )
    best = results_from_search(search)[0]
    print(
        f"Best of {len(search.cv_results_['params'])} settings on "
        f"{len(dataset.videos)} training videos: {best.describe()}, log loss "
        f"{best.mean:.4f} (std {best.std:.4f} across {args.cv} folds)."
    )
    model = VideoAggregator(logits=args.logits, method=best.method, clip=best.clip)
    model.set_params(**best.params)
    return model.fit(dataset.videos, dataset.y), scorer


def _describe_model(model):
    """Return ``VideoAggregator(method=..., ...)`` with the parameters set."""
    params = model.get_params()
    defaults = type(model)().get_params()
    changed = [f"method={params.pop('method')!r}"]
    changed += [f"{k}={v!r}" for k, v in params.items() if v != defaults[k]]
    return "VideoAggregator(" + ", ".join(changed) + ")"
