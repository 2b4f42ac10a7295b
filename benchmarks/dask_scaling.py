"""Time skpool on a local Dask cluster with 1 and 2 workers.

Two workloads:

- search: ``GridSearchCV(VideoAggregator(), default_grid(), cv=5)`` with
  ``scoring="neg_log_loss"`` on synthetic videos of 17-300 frames, run in
  this process (``n_jobs=1``) and under ``joblib.parallel_backend("dask")``;
- pool: `skpool.dask.pool_frames` over a long table written to several
  Parquet files so that every video is split across files, compared with
  the same call on the whole table in pandas.

Every cluster is a ``LocalCluster`` of worker processes with one thread
each, listening on 127.0.0.1 only. Run from the repository root::

    python benchmarks/dask_scaling.py --videos 100000 --rows 3000000

The script prints a Markdown table. Times are wall-clock seconds of one
run after the cluster has started; they include sending the data to the
workers.
"""

import argparse
import logging
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skpool import RaggedFrames, VideoAggregator, default_grid

POOL_STATISTICS = [
    "mean",
    "max",
    ("quantile", {"q": 0.9}),
    "trimmed_mean",
    "logit_mean",
    "confident",
]


def make_videos(n_videos, seed=0):
    """Return synthetic frame scores of 17-300 frames per video and labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n_videos)
    lengths = rng.integers(17, 301, n_videos)
    video_of_frame = np.repeat(np.arange(n_videos), lengths)
    scores = np.clip(rng.normal(0.3 + 0.4 * labels[video_of_frame], 0.25), 0, 1)
    scores[rng.random(len(scores)) < 0.02] = np.nan
    ids = [f"video_{i:06d}.mp4" for i in range(n_videos)]
    return RaggedFrames.from_lengths(scores, lengths, ids=ids), labels


def write_long_table(directory, n_rows, n_files, seed=0):
    """Write about ``n_rows`` frame rows to ``n_files`` Parquet files, videos split."""
    rng = np.random.default_rng(seed)
    n_videos = max(1, n_rows // 150)
    lengths = rng.integers(1, 300, n_videos)
    lengths = np.maximum(1, np.round(lengths * n_rows / lengths.sum())).astype(int)
    video = np.repeat(np.arange(n_videos), lengths)
    frame = np.arange(len(video)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    score = rng.beta(2, 3, len(video))
    score[rng.random(len(score)) < 0.02] = np.nan
    table = pd.DataFrame(
        {
            "video": pd.Series(video).map("video_{:06d}.mp4".format),
            "frame": frame.astype(np.int32),
            "score": score,
        }
    )
    # Random file for each row, so every long video has rows in several files.
    file_of_row = rng.integers(0, n_files, len(table))
    for number in range(n_files):
        part = table[file_of_row == number]
        part.to_parquet(Path(directory) / f"part-{number:02d}.parquet", index=False)
    return table


def start_cluster(n_workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    return cluster, Client(cluster)


def time_call(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def bench_search(n_videos, workers):
    videos, labels = make_videos(n_videos)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)

    def search():
        model = GridSearchCV(
            VideoAggregator(), default_grid(), scoring="neg_log_loss", cv=cv
        )
        return model.fit(videos, labels)

    rows = []
    seconds, local = time_call(search)
    rows.append(("search", "local, n_jobs=1", seconds))
    for n_workers in workers:
        # A fresh copy, so the local run's pooled values are not reused.
        videos, labels = make_videos(n_videos)
        cluster, client = start_cluster(n_workers)
        try:
            with joblib.parallel_backend("dask"):
                seconds, remote = time_call(search)
        finally:
            client.close()
            cluster.close()
        same = np.array_equal(
            remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
        )
        label = f"dask, {n_workers} worker{'s' * (n_workers > 1)}"
        rows.append(("search", label + ("" if same else " (scores differ!)"), seconds))
    return rows


def bench_pool(n_rows, n_files, workers):
    import dask.dataframe as dd

    from skpool.dask import pool_frames

    rows = []
    with tempfile.TemporaryDirectory() as directory:
        table = write_long_table(directory, n_rows, n_files)
        seconds, expected = time_call(lambda: pool_frames(table, POOL_STATISTICS))
        rows.append(("pool", "pandas in memory", seconds))
        for n_workers in workers:
            cluster, client = start_cluster(n_workers)
            try:
                seconds, result = time_call(
                    lambda: pool_frames(dd.read_parquet(directory), POOL_STATISTICS)
                )
            finally:
                client.close()
                cluster.close()
            largest = float(np.max(np.abs(result.to_numpy() - expected.to_numpy())))
            label = f"dask, {n_workers} worker{'s' * (n_workers > 1)}"
            rows.append(("pool", f"{label} (max difference {largest:.1e})", seconds))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=100_000, help="videos searched")
    parser.add_argument("--rows", type=int, default=3_000_000, help="rows pooled")
    parser.add_argument("--files", type=int, default=8, help="Parquet files written")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="cluster sizes to time"
    )
    parser.add_argument(
        "--only", choices=["search", "pool"], help="run one workload, not both"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Port .* is already in use")
    # distributed logs the start and end of every shuffle at WARNING level.
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)

    rows = []
    if args.only in (None, "search"):
        rows += bench_search(args.videos, args.workers)
    if args.only in (None, "pool"):
        rows += bench_pool(args.rows, args.files, args.workers)

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at the end; "
        f"{args.videos} videos searched, {args.rows} rows pooled from "
        f"{args.files} Parquet files"
    )
    print()
    print("| workload | run | seconds |")
    print("| --- | --- | ---: |")
    for workload, label, seconds in rows:
        print(f"| {workload} | {label} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
