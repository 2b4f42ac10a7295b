"""
From prediction files to a submission, Deepfake Detection Challenge style
========================================================================

A Deepfake Detection Challenge (DFDC) pipeline leaves per-frame P(fake)
scores on disk, usually a pickled ``{file name: scores}`` dict saved with
``np.save``, next to the training folder's ``metadata.json`` labels. This
example builds such a folder in a temporary directory from simulated
scores, then runs the whole workflow on it:

1. read the training predictions and labels, matched by file name;
2. choose the pooling by cross-validated log loss;
3. pool the test predictions and write ``submission.csv``, one row per
   test video, including a video for which no frame was scored;
4. do the same from the shell with ``skpool compare`` and
   ``skpool predict``.

Run it with ``python examples/dfdc_file_workflow.py``; it takes a few
seconds and leaves nothing behind.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, StratifiedKFold

import skpool

rng = np.random.default_rng(0)


def simulate_video(fake):
    """Return simulated frame scores of one video.

    A real video's frames score low. In a fake video only some frames show
    the manipulated face clearly, so a share of its frames scores high and
    the rest look real.
    """
    n_frames = rng.integers(17, 60)
    scores = rng.beta(2, 6, size=n_frames)
    if fake:
        manipulated = rng.random(n_frames) < rng.uniform(0.1, 0.8)
        scores[manipulated] = rng.beta(6, 2, size=manipulated.sum())
    return scores


# %%
# Build a small DFDC-shaped folder
# --------------------------------

folder = Path(tempfile.mkdtemp(prefix="skpool_dfdc_"))
train_dir = folder / "dfdc_train_part_0"
train_dir.mkdir()

metadata, train_scores = {}, {}
for i in range(120):
    name = f"train_{i:04d}.mp4"
    fake = rng.random() < 0.6
    metadata[name] = {"label": "FAKE" if fake else "REAL", "split": "train"}
    train_scores[name] = simulate_video(fake)
(train_dir / "metadata.json").write_text(json.dumps(metadata))
np.save(folder / "train_predictions.npy", train_scores, allow_pickle=True)

test_names = [f"test_{i:04d}.mp4" for i in range(40)]
test_scores = {name: simulate_video(rng.random() < 0.5) for name in test_names}
# The face detector found no face in the last test video, so it has no scores.
del test_scores[test_names[-1]]
np.save(folder / "test_predictions.npy", test_scores, allow_pickle=True)
pd.DataFrame({"filename": test_names, "label": 0.5}).to_csv(
    folder / "sample_submission.csv", index=False
)
print(f"Built {folder}: {sorted(path.name for path in folder.iterdir())}")

# %%
# Load the training predictions and their labels
# ----------------------------------------------
# The ``.npy`` file is a pickle, and unpickling runs code from the file,
# so `load_predictions` reads it only with ``allow_pickle=True``. Pass it
# only for files you made yourself; `save_predictions` converts them to a
# safe ``.npz``.

videos, y = skpool.load_dataset(
    folder / "train_predictions.npy",
    train_dir / "metadata.json",
    allow_pickle=True,
)
print(videos)
print(f"{y.sum()} FAKE and {len(y) - y.sum()} REAL training videos")

# %%
# Choose the pooling by cross-validated log loss
# ----------------------------------------------

folds = StratifiedKFold(5, shuffle=True, random_state=0)
search = GridSearchCV(
    skpool.VideoAggregator(), skpool.default_grid(), cv=folds, scoring="neg_log_loss"
)
search.fit(videos, y)
table = pd.DataFrame(search.cv_results_)
by_method = table.groupby("param_method")["mean_test_score"].max()
print("Best log loss of each method:")
print((-by_method).sort_values().round(4).to_string())
print(f"Chosen: {search.best_params_}, log loss {-search.best_score_:.4f}")

# %%
# Pool the test videos and write the submission
# ---------------------------------------------
# `align_videos` orders the test predictions like the sample submission
# and keeps the video without scores as a video without frames, which the
# estimator gives its ``fill_value`` (0.5): the submission loses no video.

test_videos = skpool.load_predictions(
    folder / "test_predictions.npy",
    allow_pickle=True,
    video_ids=pd.read_csv(folder / "sample_submission.csv")["filename"],
    missing="ignore",
)
proba = search.best_estimator_.predict_proba(test_videos)[:, 1]
submission = skpool.write_submission(folder / "submission.csv", test_videos.ids, proba)
print(f"submission.csv: {len(submission)} rows for {len(test_names)} test videos")
print(submission.tail(3).to_string(index=False))
assert list(submission["filename"]) == test_names

# %%
# The same from the shell
# -----------------------
# ``skpool compare`` prints the leaderboard and ``skpool predict`` writes
# the submission; both take the same files.

commands = [
    [
        "compare",
        str(folder / "train_predictions.npy"),
        "--labels",
        str(train_dir / "metadata.json"),
        "--allow-pickle",
        "--grid",
        "mean,max,quantile,confident,logit_mean",
    ],
    [
        "predict",
        str(folder / "test_predictions.npy"),
        "--allow-pickle",
        "--fit-on",
        str(folder / "train_predictions.npy"),
        "--labels",
        str(train_dir / "metadata.json"),
        "--video-list",
        str(folder / "sample_submission.csv"),
        "--out",
        str(folder / "submission_cli.csv"),
    ],
]
for arguments in commands:
    print("\n$ skpool " + " ".join(arguments))
    completed = subprocess.run(
        [sys.executable, "-m", "skpool", *arguments], capture_output=True, text=True
    )
    print(completed.stdout + completed.stderr, end="")
    completed.check_returncode()

from_shell = pd.read_csv(folder / "submission_cli.csv")
assert list(from_shell["filename"]) == test_names

# %%
# Remove the temporary folder.

shutil.rmtree(folder)
