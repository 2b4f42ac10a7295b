"""Leaderboard, result files, plot and progress display of ``skpool compare``."""

import csv
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CommandError",
    "Progress",
    "Report",
    "Result",
    "check_output_path",
    "check_parent",
    "check_plot_available",
    "clip_sort_key",
    "format_report",
    "results_from_search",
    "write_plot",
    "write_results",
]

# Number of leading methods drawn in the plot of log loss against clip.
_PLOT_LEADING_METHODS = 5


class CommandError(Exception):
    """Invalid input on the command line, reported as one line on stderr."""


# Results ----------------------------------------------------------------


@dataclass
class Result:
    """Cross-validated log loss of one pooling setting."""

    method: str
    params: dict
    clip: object
    folds: np.ndarray
    order: int
    rank: int = 0

    @property
    def mean(self):
        return float(np.mean(self.folds))

    @property
    def std(self):
        # Population standard deviation over folds, as GridSearchCV reports.
        return float(np.std(self.folds))

    def describe_params(self):
        """Return the statistic's parameters as ``name=value`` text, ``-`` if none."""
        if not self.params:
            return "-"
        return " ".join(
            f"{name}={_format_value(value)}" for name, value in self.params.items()
        )

    def describe(self):
        """Return the setting as a ``VideoAggregator(...)`` call."""
        arguments = [f"method={self.method!r}"]
        arguments += [f"{name}={value!r}" for name, value in self.params.items()]
        arguments.append(f"clip={self.clip!r}")
        return "VideoAggregator(" + ", ".join(arguments) + ")"


def _format_value(value):
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def format_clip(clip):
    """Return ``clip`` as table text: ``none``, ``0.02`` or ``(0.01, 0.98)``."""
    if clip is None:
        return "none"
    if isinstance(clip, tuple):
        return "(" + ", ".join(f"{bound:g}" for bound in clip) + ")"
    return f"{clip:g}"


def results_from_search(search):
    """Return one `Result` per candidate of a fitted ``GridSearchCV``, best first.

    Ties in mean log loss keep the grid order, so the first result is the
    candidate ``GridSearchCV`` reports as ``best_index_``.
    """
    cv_results = search.cv_results_
    n_splits = search.n_splits_
    fold_losses = -np.column_stack(
        [cv_results[f"split{fold}_test_score"] for fold in range(n_splits)]
    )
    results = []
    for order, params in enumerate(cv_results["params"]):
        statistic_params = {
            name: value
            for name, value in params.items()
            if name not in ("method", "clip")
        }
        results.append(
            Result(
                method=params.get("method", "mean"),
                params=statistic_params,
                clip=params.get("clip"),
                folds=fold_losses[order],
                order=order,
            )
        )
    results.sort(key=lambda result: (result.mean, result.order))
    for rank, result in enumerate(results, start=1):
        result.rank = rank
    return results


def best_per_method(results):
    """Return the best result of each method, best method first."""
    best = {}
    for result in results:
        best.setdefault(result.method, result)
    return list(best.values())


# Report -----------------------------------------------------------------


@dataclass
class Report:
    """The printed leaderboard and the numbers behind its summary lines."""

    text: str
    best: Result
    baselines: dict


def _gain(best, baseline):
    """Return the log loss reduction of ``best`` over ``baseline``, fold by fold."""
    per_fold = baseline.folds - best.folds
    return {
        "baseline": baseline,
        "gain": float(np.mean(per_fold)),
        "gain_std": float(np.std(per_fold)),
        "relative": float(np.mean(per_fold) / baseline.mean)
        if baseline.mean
        else math.nan,
    }


def format_report(results, baseline_results, context):
    """Return the leaderboard text and summary of a comparison.

    Parameters
    ----------
    results : list of Result
        Every setting of the grid, best first.

    baseline_results : list of Result
        Results that contain plain ``mean`` and ``max`` settings, on the
        same folds; ``results`` itself when the grid has them.

    context : dict
        Data description, number of folds, seed and frame model.

    Returns
    -------
    Report
    """
    lines = []
    n_folds = context["cv"]
    lines.append(
        f"Data: {context['data']}: {context['n_videos']:,} videos "
        f"({context['n_positive']:,} positive), {context['n_frames']:,} frames"
    )
    if context.get("frame_model"):
        lines.append(
            f"Frame scores: out-of-fold probabilities of {context['frame_model']} "
            f"({n_folds} folds)"
        )
    lines.append(
        f"Search: {len(results)} settings x {n_folds} folds (StratifiedKFold, "
        f"shuffled, seed {context['seed']}), scored by log loss"
    )
    lines.append("")

    leaders = best_per_method(results)
    header = ("rank", "method", "parameters", "clip", "log loss", "std")
    rows = [
        (
            str(position),
            result.method,
            result.describe_params(),
            format_clip(result.clip),
            f"{result.mean:.4f}",
            f"{result.std:.4f}",
        )
        for position, result in enumerate(leaders, start=1)
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right_aligned = {0, 4, 5}

    def format_row(row):
        cells = [
            cell.rjust(width) if i in right_aligned else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    lines.append(
        f"Best setting of each method (log loss: mean over {n_folds} folds; "
        "std: across folds; lower is better)"
    )
    lines.append(format_row(header))
    lines.extend(format_row(row) for row in rows)
    lines.append("")

    best = results[0]
    lines.append(
        f"Best setting: {best.describe()}: log loss {best.mean:.4f} "
        f"(std {best.std:.4f})"
    )
    baselines = {}
    for method in ("mean", "max"):
        candidates = [result for result in baseline_results if result.method == method]
        if not candidates:
            continue
        baseline = min(candidates, key=lambda result: (result.mean, result.order))
        gain = _gain(best, baseline)
        baselines[method] = gain
        lines.append(
            f"Gain over plain {method} (its best clip, {format_clip(baseline.clip)}): "
            f"{gain['gain']:.4f} log loss ({baseline.mean:.4f} -> {best.mean:.4f}, "
            f"{100 * gain['relative']:.1f}% lower; std of the per-fold gain "
            f"{gain['gain_std']:.4f})"
        )
    if context.get("constant_log_loss") is not None:
        lines.append(
            "Reference: predicting the positive share "
            f"({context['positive_share']:.3f}) for every video gives log loss "
            f"{context['constant_log_loss']:.4f}"
        )
    return Report(text="\n".join(lines), best=best, baselines=baselines)


# Files ------------------------------------------------------------------


def check_output_path(path):
    """Reject an ``--output`` path not ending in .csv or .json, before the search."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".json"):
        raise CommandError(
            f"--output {path}: unsupported file type {suffix or '(none)'!r}; "
            "use a .csv or .json file name."
        )
    check_parent(path, "--output")


def check_parent(path, option):
    """Reject a path for ``option`` whose directory does not exist."""
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise CommandError(f"{option} {path}: directory {parent} does not exist.")


def _result_record(result):
    return {
        "rank": result.rank,
        "method": result.method,
        "params": result.params,
        "clip": list(result.clip) if isinstance(result.clip, tuple) else result.clip,
        "log_loss_mean": result.mean,
        "log_loss_std": result.std,
        "fold_log_loss": [float(value) for value in result.folds],
    }


def write_results(path, results, report, context):
    """Write every setting's fold log losses to a .csv or .json file."""
    if Path(path).suffix.lower() == ".json":
        document = {
            "context": context,
            "best": _result_record(report.best),
            "gains": {
                method: {
                    "baseline": _result_record(gain["baseline"]),
                    "gain": gain["gain"],
                    "gain_std": gain["gain_std"],
                    "relative_gain": gain["relative"],
                }
                for method, gain in report.baselines.items()
            },
            "results": [_result_record(result) for result in results],
        }
        Path(path).write_text(json.dumps(document, indent=2) + "\n")
        return

    param_names = sorted({name for result in results for name in result.params})
    n_folds = len(results[0].folds)
    header = ["rank", "method", *param_names, "clip", "log_loss_mean", "log_loss_std"]
    header += [f"log_loss_fold_{fold}" for fold in range(1, n_folds + 1)]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for result in results:
            row = [result.rank, result.method]
            row += [result.params.get(name, "") for name in param_names]
            row.append("" if result.clip is None else format_clip(result.clip))
            row += [repr(result.mean), repr(result.std)]
            row += [repr(float(value)) for value in result.folds]
            writer.writerow(row)


# Plot -------------------------------------------------------------------


def check_plot_available(path):
    """Fail before the search when ``--plot`` cannot be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CommandError(
            "--plot needs matplotlib, which is not installed; install it with "
            "pip install 'skpool[plot]' or drop --plot."
        ) from None
    suffix = Path(path).suffix.lower()
    if suffix not in (".png", ".pdf", ".svg"):
        raise CommandError(
            f"--plot {path}: unsupported file type {suffix or '(none)'!r}; use "
            ".png, .pdf or .svg."
        )
    check_parent(path, "--plot")


def write_plot(path, results, context):
    """Draw log loss per method with its fold spread, and log loss against clip."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    leaders = best_per_method(results)
    height = max(4.0, 0.32 * len(leaders) + 1.6)
    figure, (per_method, per_clip) = plt.subplots(
        1,
        2,
        figsize=(13, height),
        gridspec_kw={"width_ratios": [1.25, 1]},
        layout="constrained",
    )

    positions = np.arange(len(leaders))[::-1]
    for position, result in zip(positions, leaders, strict=True):
        per_method.scatter(
            result.folds,
            np.full(len(result.folds), position),
            s=14,
            color="0.65",
            zorder=2,
        )
        per_method.errorbar(
            result.mean,
            position,
            xerr=result.std,
            fmt="o",
            color="C0",
            capsize=3,
            zorder=3,
        )
    labels = [
        f"{result.method}  {result.describe_params().replace('-', '')}"
        f"  clip {format_clip(result.clip)}".replace("   ", "  ")
        for result in leaders
    ]
    if context.get("constant_log_loss") is not None:
        per_method.axvline(
            context["constant_log_loss"],
            color="C3",
            linestyle="--",
            linewidth=1,
            label=f"constant prediction ({context['constant_log_loss']:.3f})",
        )
        per_method.legend(fontsize=8, loc="upper right")
    per_method.set_yticks(positions, labels, fontsize=8)
    per_method.set_xlabel("log loss (dot: mean, bar: std, grey: each fold)")
    per_method.set_title("Best setting of each method")
    per_method.grid(axis="x", alpha=0.3)

    clips = sorted({result.clip for result in results}, key=clip_sort_key)
    x = np.arange(len(clips))
    for index, leader in enumerate(leaders[:_PLOT_LEADING_METHODS]):
        same = {
            result.clip: result
            for result in results
            if result.method == leader.method and result.params == leader.params
        }
        values = [same[clip].mean if clip in same else np.nan for clip in clips]
        label = leader.method
        if leader.params:
            label += f" ({leader.describe_params()})"
        per_clip.plot(x, values, marker="o", color=f"C{index}", label=label)
    per_clip.set_xticks(x, [format_clip(clip) for clip in clips])
    per_clip.set_xlabel("clip")
    per_clip.set_ylabel(f"log loss (mean over {context['cv']} folds)")
    n_drawn = min(len(leaders), _PLOT_LEADING_METHODS)
    per_clip.set_title(f"Log loss against clip, {n_drawn} leading methods")
    per_clip.grid(alpha=0.3)
    per_clip.legend(
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13),
        ncol=2,
        frameon=False,
    )

    figure.suptitle(
        f"{context['data']}: {context['n_videos']:,} videos, "
        f"{context['cv']}-fold log loss",
        fontsize=10,
    )
    figure.savefig(path, dpi=110)
    plt.close(figure)


def clip_sort_key(clip):
    """Return a clip's lower bound as its sort key, -1.0 for no clip."""
    if clip is None:
        return -1.0
    if isinstance(clip, tuple):
        return float(clip[0])
    return float(clip)


# Progress ---------------------------------------------------------------


class Progress:
    """Progress lines on a terminal's stderr; silent when stderr is not a terminal."""

    def __init__(self, stream, min_interval=0.1):
        self._stream = stream
        self._enabled = bool(getattr(stream, "isatty", lambda: False)())
        self._min_interval = min_interval
        self._total = 0
        self._done = 0
        self._label = ""
        self._last = 0.0
        self._started = 0.0

    def status(self, message):
        """Show a one-line status such as the current step."""
        if self._enabled:
            self._write(message + " ...")

    def start(self, total, label):
        """Start counting ``total`` scored folds."""
        self._total = total
        self._done = 0
        self._label = label
        self._started = time.monotonic()
        self._last = 0.0
        if self._enabled:
            self._write(f"{label}: 0/{total} fits")

    def advance(self):
        """Count one scored fold and redraw at most every ``min_interval`` s."""
        self._done += 1
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._last >= self._min_interval or self._done == self._total:
            self._last = now
            elapsed = now - self._started
            self._write(
                f"{self._label}: {self._done}/{self._total} fits, {elapsed:.1f} s"
            )

    def clear(self):
        """Erase the progress line."""
        if self._enabled:
            self._write("")

    def scorer(self, name):
        """Return scikit-learn's scorer ``name`` counting each call here."""
        from sklearn.metrics import get_scorer

        return _CountingScorer(get_scorer(name), self)

    def _write(self, text):
        self._stream.write("\r\033[K" + text)
        self._stream.flush()


class _CountingScorer:
    """A scorer that reports each call to a `Progress`."""

    def __init__(self, scorer, progress):
        self._scorer = scorer
        self._progress = progress

    def __call__(self, estimator, X, y, **kwargs):
        score = self._scorer(estimator, X, y, **kwargs)
        self._progress.advance()
        return score
