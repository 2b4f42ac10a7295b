"""
Compare poolings on real multiple-instance data
===============================================

Each of the 548 bundled bird-song recordings is cut into 2 to 43 segments,
and only the recording is labelled: 1 when a Brown Creeper is heard in it.
This is the shape of a deepfake video classifier's problem, where a frame
model scores every frame and one probability per video is scored by log loss.

The walk-through below scores the segments with a frame model. Then it
compares ways of pooling the segment probabilities into one probability
per recording, in the order an analyst would try them: the mean, the max,
a tuned search over every statistic, and a second-level model on pooled
statistics.

Run it with ``python examples/plot_compare_poolings.py [figure.png]``; it
takes a few seconds. With matplotlib installed it saves a bar chart of the
four log losses.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skpool import FramePooler, FrameScorer, VideoAggregator, default_grid
from skpool.datasets import load_brown_creeper

# %%
# Load the recordings and score every segment
# -------------------------------------------
# ``videos`` contains 38 audio features per segment. `FrameScorer` trains a
# logistic regression on segments labelled with their recording's label and
# returns out-of-fold probabilities: each recording's segments are scored
# by a model that never saw that recording.

videos, y = load_brown_creeper()
print(videos)
print(f"{y.sum()} of {len(y)} recordings contain a Brown Creeper")

frame_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
folds = StratifiedKFold(5, shuffle=True, random_state=0)
scores = FrameScorer(frame_model, cv=folds).fit_transform(videos, y)


def cv_log_loss(estimator):
    """Return the mean log loss of ``estimator`` over the five folds."""
    return -cross_val_score(
        estimator, scores, y, cv=folds, scoring="neg_log_loss"
    ).mean()


# %%
# The mean of the segment probabilities
# -------------------------------------
# In a positive recording the song is one sound among others, so many of
# its segments score low even though the label is 1. The mean dilutes the
# song.

results = {"mean": cv_log_loss(VideoAggregator(method="mean"))}
print(f"mean:            log loss {results['mean']:.4f}")

# %%
# The max
# -------
# The max keeps the loudest evidence, but one confident false alarm among
# 40 segments makes a negative recording look positive, and log loss
# punishes confident mistakes. Clipping caps the damage without curing it.

max_losses = {}
for clip in (None, 0.05):
    max_losses[clip] = cv_log_loss(VideoAggregator(method="max", clip=clip))
    print(f"max, clip {clip}:  log loss {max_losses[clip]:.4f}")
results["max, best clip"] = min(max_losses.values())

# %%
# Tune the pooling
# ----------------
# `default_grid` crosses every statistic with its usual parameters and a few
# clips. The statistics learn nothing, so the search over more than a
# hundred settings takes seconds. The folds match the ones above.

search = GridSearchCV(
    VideoAggregator(), default_grid(), cv=folds, scoring="neg_log_loss"
)
search.fit(scores, y)
results["tuned pooling"] = -search.best_score_
print(f"best of {len(search.cv_results_['params'])} settings: {search.best_params_}")
print(f"tuned pooling:   log loss {results['tuned pooling']:.4f}")

# %%
# Stack pooled statistics
# -----------------------
# `FramePooler` describes each recording by several statistics (mean,
# spread, quantiles, number of segments), and a logistic regression learns
# how to weigh them. Unlike the pooling above, this model has coefficients
# to fit, and the cross-validation measures them on unseen recordings.

stacked = make_pipeline(FramePooler(), StandardScaler(), LogisticRegression())
results["stacked statistics"] = cv_log_loss(stacked)
print(f"stacked:         log loss {results['stacked statistics']:.4f}")

# %%
# Much of that gain comes from the number of segments, which no pooling
# statistic uses. Recordings with a Brown Creeper have more segments,
# likely because its song adds sound events for the segmentation to cut. The count
# alone, through the same logistic regression, already beats the mean.

counts_only = make_pipeline(
    FramePooler(statistics=["n_frames"]), StandardScaler(), LogisticRegression()
)
print(f"segment count alone: log loss {cv_log_loss(counts_only):.4f}")
for label in (0, 1):
    median = np.median(videos.lengths[y == label])
    print(f"  median segments per recording with label {label}: {median:g}")

# %%
# Check the whole chain on unseen recordings
# ------------------------------------------
# The segment scores above come from one out-of-fold pass over all
# recordings, so the frame model behind a training fold's scores saw the
# test fold's recordings. Putting `FrameScorer` inside the pipeline trains
# the frame model again within every fold, so no test recording reaches
# any model. It is slower, so it uses 3 folds.

chain = make_pipeline(
    FrameScorer(frame_model, cv=3),
    FramePooler(),
    StandardScaler(),
    LogisticRegression(),
)
outer = StratifiedKFold(3, shuffle=True, random_state=1)
loss = -cross_val_score(chain, videos, y, cv=outer, scoring="neg_log_loss").mean()
print(f"frame model and stacked statistics, refitted per fold: log loss {loss:.4f}")

# %%
# Plot the four log losses
# ------------------------

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed; skipping the figure.")
    sys.exit(0)

if len(sys.argv) > 1:
    figure_path = Path(sys.argv[1])
else:
    figure_path = Path(tempfile.gettempdir()) / "skpool_compare_poolings.png"
names = list(results)
losses = np.array([results[name] for name in names])
figure, axes = plt.subplots(figsize=(6.5, 3))
axes.barh(names[::-1], losses[::-1], color=["C0", "C0", "C1", "C2"][::-1])
for position, value in enumerate(losses[::-1]):
    axes.text(value, position, f" {value:.3f}", va="center", fontsize=9)
axes.set_xlabel("log loss, 5-fold cross-validation (lower is better)")
axes.set_xlim(0, losses.max() * 1.2)
axes.set_title("Brown Creeper recordings: pooling segment probabilities")
figure.tight_layout()
figure.savefig(figure_path, dpi=110)
print(f"Figure saved to {figure_path}")
