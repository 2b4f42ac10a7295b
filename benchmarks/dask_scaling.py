"""Time skpool on a local Dask cluster with 1 and 2 workers.

Two workloads:

- search: ``GridSearchCV(VideoAggregator(), default_grid(), cv=5)`` with
  ``scoring="neg_log_loss"`` on synthetic videos of 17-300 frames, run in
  this process (``n_jobs=1``) and under ``joblib.parallel_backend("dask")``,
  the latter also after `skpool.dask.precompute_statistics`;
- pool: `skpool.dask.pool_frames` over a long table written to several
  Parquet files so that every video is split across files, compared with
  the same call on the whole table in pandas.

Every cluster is a ``LocalCluster`` of worker processes with one thread
each, listening on 127.0.0.1 only. Run from the repository root::

    python benchmarks/dask_scaling.py --videos 100000 --rows 3000000

The script prints a Markdown table. Wall seconds are for one run after
the cluster has started and include sending the data to the workers. On
a machine shared with other work, the wall time of several workers shows
little about scaling. The table therefore also gives the CPU seconds each
worker process used (this process for the local runs). The largest of
them estimates the wall time with one free core per worker, leaving out
waits for data transfers.
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
from skpool.dask import precompute_statistics

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


def start_cluster(n_workers, malloc_trim=False):
    """Start a local cluster, by default without distributed's malloc setting.

    distributed starts each worker with MALLOC_TRIM_THRESHOLD_=65536, which
    turns off glibc's adaptive mmap threshold, so that every large numpy
    temporary is mapped and faulted in afresh. Unsetting it cut the CPU time
    of a 100,000-video search on a worker to about half on this machine.
    """
    import dask
    from distributed import Client, LocalCluster

    setting = {}
    if not malloc_trim:
        setting = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    with dask.config.set(setting):
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    client = Client(cluster)
    # Import on every worker now, so that the timed runs leave out the
    # one-time import of scikit-learn and skpool.
    client.run(_import_libraries)
    return cluster, client


def _import_libraries():
    import sklearn.model_selection  # noqa: F401

    import skpool  # noqa: F401


def worker_cpu_seconds(client):
    """Return the CPU seconds used so far by each worker process."""
    if client is None:
        return {"local": time.process_time()}
    return client.run(time.process_time)


def time_call(function, client=None):
    """Return wall seconds, the max and sum of worker CPU seconds, and the result."""
    cpu_before = worker_cpu_seconds(client)
    start = time.perf_counter()
    result = function()
    wall = time.perf_counter() - start
    cpu_after = worker_cpu_seconds(client)
    used = [cpu_after[worker] - cpu_before[worker] for worker in cpu_before]
    return wall, max(used), sum(used), result


def bench_search(n_videos, workers):
    videos, labels = make_videos(n_videos)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)

    def search():
        model = GridSearchCV(
            VideoAggregator(), default_grid(), scoring="neg_log_loss", cv=cv
        )
        return model.fit(videos, labels)

    def search_on_cluster():
        with joblib.parallel_backend("dask"):
            return search()

    def search_on_every_worker():
        with joblib.parallel_backend("dask", scatter=[videos, labels]):
            return search()

    def precompute_and_search(client):
        precompute_statistics(videos, default_grid(), client=client)
        return search_on_every_worker()

    rows = []
    wall, cpu_max, cpu_sum, local = time_call(search)
    rows.append(("search", "local, n_jobs=1", wall, cpu_max, cpu_sum))
    # joblib's dask backend counts the cluster's threads, and with one in all
    # it runs the search in this process, as the local run does.
    for n_workers in [n for n in workers if n > 1]:
        runs = [
            (True, ", distributed's defaults", search_on_cluster),
            (False, ", scatter=[X, y]", search_on_every_worker),
            (
                False,
                ", scatter=[X, y], precompute_statistics first",
                lambda: precompute_and_search(client),
            ),
        ]
        for malloc_trim, suffix, run in runs:
            cluster, client = start_cluster(n_workers, malloc_trim=malloc_trim)
            # A fresh copy, so that no earlier run's pooled values are reused.
            videos, labels = make_videos(n_videos)
            try:
                wall, cpu_max, cpu_sum, remote = time_call(run, client)
            finally:
                client.close()
                cluster.close()
            same = np.array_equal(
                remote.cv_results_["mean_test_score"],
                local.cv_results_["mean_test_score"],
            )
            label = f"dask, {n_workers} workers{suffix}"
            if not same:
                label += " (scores differ!)"
            rows.append(("search", label, wall, cpu_max, cpu_sum))
    return rows


def bench_pool(n_rows, n_files, workers):
    import dask.dataframe as dd

    from skpool.dask import pool_frames

    rows = []
    with tempfile.TemporaryDirectory() as directory:
        table = write_long_table(directory, n_rows, n_files)
        wall, cpu_max, cpu_sum, expected = time_call(
            lambda: pool_frames(table, POOL_STATISTICS)
        )
        rows.append(("pool", "pandas in memory", wall, cpu_max, cpu_sum))
        for n_workers in workers:
            cluster, client = start_cluster(n_workers)
            try:
                wall, cpu_max, cpu_sum, result = time_call(
                    lambda: pool_frames(dd.read_parquet(directory), POOL_STATISTICS),
                    client,
                )
            finally:
                client.close()
                cluster.close()
            largest = float(np.max(np.abs(result.to_numpy() - expected.to_numpy())))
            label = f"dask, {n_workers} worker{'s' * (n_workers > 1)}"
            label += f" (max difference {largest:.1e})"
            rows.append(("pool", label, wall, cpu_max, cpu_sum))
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
    print("| workload | run | wall s | max worker CPU s | total worker CPU s |")
    print("| --- | --- | ---: | ---: | ---: |")
    for workload, label, wall, cpu_max, cpu_sum in rows:
        print(f"| {workload} | {label} | {wall:.2f} | {cpu_max:.2f} | {cpu_sum:.2f} |")


if __name__ == "__main__":
    main()
