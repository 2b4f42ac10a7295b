"""Pool frame-score tables larger than memory with Dask.

`pool_frames` takes a Dask DataFrame of frame scores in long format (one
row per frame, or per face) and returns one row per video with one column
per statistic. It moves every video's rows to one partition with a
shuffle keyed on the video column, then pools each partition at once with
the same statistics, parameter checks and defaults as `VideoAggregator`.

Searches need nothing from this module. ``GridSearchCV`` and
``cross_val_score`` over skpool estimators run on a Dask cluster under
``joblib.parallel_backend("dask")``. joblib then sends a `RaggedFrames`
to one worker once and not with every task, because the container
reports its size in bytes to ``dask.sizeof``. The scheduler may then run
most fits on that worker rather than copy the frames. Passing
``scatter=[videos, y]`` to ``parallel_backend`` gives every worker a copy
before the search starts. The container's pickle carries the
frames, their per-video sorted order and the pooled values computed so
far, so no worker sorts the frames again. Each worker keeps its own cache
of pooled values. Every worker that runs a candidate of a statistic
therefore pools the whole container with it, and a search over the fixed
statistics of `default_grid` repeats most of its pooling on every worker.
`precompute_statistics` pools each statistic of a grid once, spread over
the workers, before the search.

distributed starts worker processes with ``MALLOC_TRIM_THRESHOLD_=65536``,
which turns off glibc's adaptive mmap threshold, so every large numpy
temporary is mapped and zeroed afresh. A search on 100,000 videos used
about 1.7 times the CPU time with that setting on a 2-core Linux machine.
Setting ``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_`` to
None in the Dask config before the cluster starts leaves it unset.

Dask is imported only when a Dask DataFrame is pooled. Install it with
``pip install skpool[dask]``.
"""

import functools
import warnings
from collections.abc import Mapping
from numbers import Real

import numpy as np
import pandas as pd

from ._aggregator import VideoAggregator
from ._io import _DEFAULT_FACE, _DEFAULT_FRAME, _FACE_REDUCTIONS, _from_table
from ._io import _optional_column as _use_optional_column
from ._ragged import _POOLED_CACHE_SIZE, RaggedFrames
from ._stats import STATISTICS
from ._stats import pool_frames as _pool_statistic
from ._validation import check_frame_scores

__all__ = ["pool_frames", "precompute_statistics"]


def _import_dask_dataframe():
    try:
        import dask.dataframe as dd
    except ImportError as error:
        raise ImportError(
            "skpool.dask.pool_frames needs dask[dataframe] to pool a Dask "
            f"DataFrame ({error}). Install it with `pip install skpool[dask]`."
        ) from error
    return dd


def pool_frames(
    table,
    statistics,
    *,
    video="video",
    frame="frame",
    face="face",
    score="score",
    face_reduce="max",
    drop_duplicates=False,
    fill_value=0.5,
    logits=False,
    npartitions=None,
    compute=True,
):
    """Pool a long table of frame scores into one row per video.

    Every video's rows are first moved to one partition by a shuffle
    keyed on ``video``, so a video may be split across the input
    partitions or files. Each partition is then read into a
    `RaggedFrames` with one vectorized sort, the faces of each frame are
    reduced as `skpool.load_predictions` reduces them, and every
    statistic is computed for all videos of the partition at once.

    Parameters
    ----------
    table : dask.dataframe.DataFrame or pandas.DataFrame
        Long table with one row per frame, or per face with a face
        column. A pandas DataFrame is pooled in memory without Dask.

    statistics : str, tuple, sequence or dict
        Statistics to compute, each a key of `skpool.STATISTICS` or a
        ``(name, params)`` tuple such as ``("quantile", {"q": 0.9})``.
        Parameters left out take `VideoAggregator`'s defaults, and values
        are checked against its constraints. A dict maps output column
        names to statistics; otherwise a column is named after its
        statistic, such as ``"mean"`` or ``"quantile(q=0.9)"``.

    video : str, default="video"
        Column of the video id, or the name of the table's index.

    frame : str or None, default="frame"
        Column of the frame number. Used when the table has it or when it
        is not the default name; ``None`` reads each row as one frame.

    face : str or None, default="face"
        Column of the face number, for several faces per frame. Used when
        the table has it or when it is not the default name; it needs a
        frame column.

    score : str, default="score"
        Column of the frame or face score.

    face_reduce : {"max", "mean", "min"}, default="max"
        How the faces of one frame become one frame score. NaN face scores
        are ignored, and a frame whose faces are all NaN gets NaN.

    drop_duplicates : bool, default=False
        Drop rows that repeat another row's (video, frame, face) key with
        the same score. Rows that repeat a key with a different score
        raise a ValueError either way.

    fill_value : float, default=0.5
        Value of every statistic for a video without a valid frame (all
        its scores NaN), so that no output is NaN.

    logits : bool, default=False
        Whether the scores are log-odds. Each frame score is then mapped
        through the logistic function after the faces are reduced, as
        ``VideoAggregator(logits=True)`` does.

    npartitions : int, default=None
        Number of partitions after the shuffle; by default the number of
        input partitions.

    compute : bool, default=True
        Whether to compute the result. With False, return a lazy Dask
        DataFrame whose partitions are not sorted by video.

    Returns
    -------
    pandas.DataFrame or dask.dataframe.DataFrame
        Indexed by video id (sorted when computed), one float64 column
        per statistic.

    Raises
    ------
    ValueError
        For an unknown statistic, an invalid statistic parameter, a
        missing column, rows without a video id, repeated keys, scores
        outside [0, 1] when ``logits=False``, and scores that are not
        numbers. Errors found in the rows of a Dask DataFrame are raised
        when the result is computed, and name the shuffled partition.
    ImportError
        For a Dask DataFrame when dask is not installed.

    See Also
    --------
    skpool.load_predictions : Read a long table that fits in memory.
    skpool.VideoAggregator : The classifier these statistics come from.

    Notes
    -----
    The shuffle sends every row over the network once. The statistics do
    not depend on frame order, so frames keep no order after the shuffle.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpool.dask import pool_frames
    >>> table = pd.DataFrame({
    ...     "video": ["b", "b", "a", "b", "a"],
    ...     "score": [0.2, 0.8, 0.4, 0.5, float("nan")],
    ... })
    >>> pooled = pool_frames(table, ["mean", ("quantile", {"q": 0.9})])
    >>> print(pooled.round(3).to_csv(), end="")
    video,mean,quantile(q=0.9)
    a,0.4,0.4
    b,0.5,0.74

    With Dask, the same call takes a Dask DataFrame, for example one read
    with ``dask.dataframe.read_parquet("scores/*.parquet")``.
    """
    specs = _check_statistics(statistics)
    _check_options(face_reduce, fill_value, logits, npartitions)
    pool_partition = functools.partial(
        _pool_partition,
        video=video,
        frame=frame,
        face=face,
        score=score,
        face_reduce=face_reduce,
        drop_duplicates=drop_duplicates,
        specs=specs,
        fill_value=float(fill_value),
        logits=logits,
    )

    if isinstance(table, pd.DataFrame):
        table = _video_as_column(table, video)
        _check_columns(table, video, frame, face, score)
        return pool_partition(table, partition_info=None).sort_index()

    dd = _import_dask_dataframe()
    if not isinstance(table, dd.DataFrame):
        raise TypeError(
            "pool_frames expects a dask.dataframe.DataFrame or a pandas DataFrame "
            f"of frame scores; got {type(table).__name__}. Read files with "
            "dask.dataframe.read_parquet or dask.dataframe.read_csv."
        )
    table = _video_as_column(table, video)
    columns = _check_columns(table._meta, video, frame, face, score)
    meta = pool_partition(table._meta.iloc[:0][columns], partition_info=None)
    shuffled = table[columns].shuffle(on=video, npartitions=npartitions)
    pooled = shuffled.map_partitions(pool_partition, meta=meta)
    if not compute:
        return pooled
    return pooled.compute().sort_index()


def _check_statistics(statistics):
    """Return ``[(column, name, params)]`` with every parameter of the statistic."""
    if isinstance(statistics, Mapping):
        items = list(statistics.items())
    else:
        if isinstance(statistics, str) or _is_statistic_tuple(statistics):
            statistics = [statistics]
        try:
            statistics = list(statistics)
        except TypeError:
            raise TypeError(
                "statistics must be a statistic name, a (name, params) tuple, a "
                f"list of them or a dict of them; got {statistics!r}."
            ) from None
        items = [(None, item) for item in statistics]
    if not items:
        raise ValueError("statistics is empty; name at least one statistic.")

    specs = []
    for column, item in items:
        name, params = _parse_statistic(item)
        full_params = _check_statistic_params(name, params)
        if column is None:
            column = _column_name(name, params)
        specs.append((column, name, full_params))
    columns = [column for column, _, _ in specs]
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise ValueError(
            f"statistics gives the output columns {repeated!r} more than once; "
            "drop the repeats, or pass a dict to name the columns."
        )
    return specs


def _is_statistic_tuple(item):
    return (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], Mapping)
    )


def _parse_statistic(item):
    if isinstance(item, str):
        name, params = item, {}
    elif _is_statistic_tuple(item):
        name, params = item[0], dict(item[1])
    else:
        raise TypeError(
            "Each statistic must be a name such as 'mean' or a (name, params) "
            f"tuple such as ('quantile', {{'q': 0.9}}); got {item!r}."
        )
    if name not in STATISTICS:
        raise ValueError(
            f"Unknown statistic {name!r}; expected one of {sorted(STATISTICS)}."
        )
    accepted = STATISTICS[name].params
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = f"only {list(accepted)}" if accepted else "no parameters"
        raise ValueError(
            f"Statistic {name!r} got unknown parameters {unknown}; it takes {takes}."
        )
    learned = sorted(key for key, value in params.items() if value is None)
    if learned:
        raise ValueError(
            f"Statistic {name!r} got None for {learned}. pool_frames does not "
            "learn parameters; give a number, or use VideoAggregator to learn it."
        )
    return name, params


def _check_statistic_params(name, params):
    """Check ``params`` as `VideoAggregator` does and fill in its defaults."""
    estimator = VideoAggregator(method=name, **params)
    try:
        estimator._validate_params()
        estimator._check_cross_params()
    except ValueError as error:
        raise ValueError(
            f"Invalid parameters for statistic {name!r}: {error}"
        ) from None
    return {key: getattr(estimator, key) for key in STATISTICS[name].params}


def _column_name(name, params):
    if not params:
        return name
    listed = ", ".join(f"{key}={value!r}" for key, value in sorted(params.items()))
    return f"{name}({listed})"


def _check_options(face_reduce, fill_value, logits, npartitions):
    if face_reduce not in _FACE_REDUCTIONS:
        raise ValueError(
            f"face_reduce={face_reduce!r} is invalid; expected one of "
            f"{list(_FACE_REDUCTIONS)}."
        )
    valid_fill = (
        isinstance(fill_value, Real)
        and not isinstance(fill_value, bool)
        and np.isfinite(fill_value)
    )
    if not valid_fill:
        raise ValueError(
            f"fill_value must be a finite number, the value given to videos "
            f"without a valid frame; got {fill_value!r}."
        )
    if not isinstance(logits, (bool, np.bool_)):
        raise TypeError(f"logits must be True or False; got {logits!r}.")
    if npartitions is not None and not (
        isinstance(npartitions, (int, np.integer)) and npartitions >= 1
    ):
        raise ValueError(
            f"npartitions must be a positive integer or None; got {npartitions!r}."
        )


def _video_as_column(table, video):
    """Move the index to a column when it is the video id."""
    if video not in table.columns and table.index.name == video:
        return table.reset_index()
    return table


def _check_columns(meta, video, frame, face, score):
    """Check the columns of the table and return those the pooling reads."""
    name = "the table"
    for column, role in ((video, "video"), (score, "score")):
        if column not in meta.columns:
            raise ValueError(
                f"The table has no {role} column {column!r}; its columns are "
                f"{list(meta.columns)!r}. Set {role}= to the right column."
            )
    columns = [video]
    if _use_optional_column(meta, frame, _DEFAULT_FRAME, "frame", name):
        columns.append(frame)
    if _use_optional_column(meta, face, _DEFAULT_FACE, "face", name):
        columns.append(face)
    return [*columns, score]


def _pool_partition(
    part,
    *,
    video,
    frame,
    face,
    score,
    face_reduce,
    drop_duplicates,
    specs,
    fill_value,
    logits,
    partition_info,
):
    """Pool all videos of one partition, which contains every row of its videos."""
    if len(part) == 0:
        index = pd.Index(part[video].iloc[:0], name=video)
        empty = {column: np.zeros(0, dtype=np.float64) for column, _, _ in specs}
        return pd.DataFrame(empty, index=index)
    if partition_info is None:
        name = "the table"
    else:
        name = f"partition {partition_info['number']} of the table shuffled by video"
    videos = _from_table(
        part,
        name,
        video=video,
        frame=frame,
        face=face,
        score=score,
        face_reduce=face_reduce,
        drop_duplicates=drop_duplicates,
    )
    videos = check_frame_scores(
        videos, logits=logits, estimator_name="skpool.dask.pool_frames"
    )
    pooled = {}
    for column, statistic, params in specs:
        values = np.array(
            _pool_statistic(videos, statistic, **params), dtype=np.float64
        )
        values[np.isnan(values)] = fill_value
        pooled[column] = values
    index = pd.Index(videos.ids, dtype=part[video].dtype, name=video)
    return pd.DataFrame(pooled, index=index)


def precompute_statistics(videos, param_grid, *, client=None):
    """Pool every statistic of a parameter grid once, spread over a Dask cluster.

    A search pools the whole container once per statistic in every
    process that runs a candidate of that statistic. This function pools
    each distinct statistic of ``param_grid`` once, on whichever worker is
    free, and stores the values in the container's cache. The cache is
    pickled with the container, so the workers of a later search look the
    values up instead of pooling again.

    Parameters
    ----------
    videos : RaggedFrames
        Frame probabilities of the videos the search will fit on.

    param_grid : dict or list of dict
        Grid of `VideoAggregator` parameters, as given to ``GridSearchCV``.
        Candidates with ``logits=True``, a callable ``method`` or a
        parameter set to None (learned in ``fit``) are skipped, because
        their values are not kept in this cache or depend on the training
        videos.

    client : distributed.Client, default=None
        Cluster to pool on. With None, the statistics are pooled in this
        process, which also helps a search with ``n_jobs`` > 1.

    Returns
    -------
    RaggedFrames
        ``videos`` itself, with its cache filled.

    Warns
    -----
    UserWarning
        When the grid has more distinct statistics than the cache keeps
        (64); the least recently computed ones are dropped.

    Examples
    --------
    >>> import numpy as np
    >>> from skpool import RaggedFrames, default_grid
    >>> from skpool.dask import precompute_statistics
    >>> videos = RaggedFrames.from_list([[0.1, 0.9], [0.4, 0.5, 0.6]])
    >>> videos = precompute_statistics(videos, default_grid())
    >>> len(videos._pooled)
    37
    """
    if not isinstance(videos, RaggedFrames):
        raise TypeError(
            "precompute_statistics needs a RaggedFrames; got "
            f"{type(videos).__name__}. Convert with skpool.as_ragged(X) or read "
            "files with skpool.load_predictions, and search on the result."
        )
    statistics = _grid_statistics(param_grid)
    if len(statistics) > _POOLED_CACHE_SIZE:
        warnings.warn(
            f"The grid has {len(statistics)} distinct statistics but a container "
            f"caches the values of at most {_POOLED_CACHE_SIZE}; the first "
            f"{len(statistics) - _POOLED_CACHE_SIZE} will be pooled again in the "
            "search. Split the grid to keep them all.",
            UserWarning,
            stacklevel=2,
        )
    root = videos._root()
    check_frame_scores(root, estimator_name="precompute_statistics")
    if client is None:
        for name, params in statistics:
            _pool_statistic(root, name, **params)
        return videos

    remote = client.scatter(root, hash=False)
    futures = [
        client.submit(_pool_new_values, remote, name, params, pure=False)
        for name, params in statistics
    ]
    for computed in client.gather(futures):
        for key, pooled in computed:
            pooled.flags.writeable = False
            root._pooled[key] = pooled
            if len(root._pooled) > _POOLED_CACHE_SIZE:
                root._pooled.popitem(last=False)
    return videos


def _grid_statistics(param_grid):
    """Return the distinct ``(name, params)`` statistics of a VideoAggregator grid."""
    from sklearn.model_selection import ParameterGrid

    accepted = VideoAggregator().get_params()
    statistics = {}
    for candidate in ParameterGrid(param_grid):
        unknown = sorted(set(candidate) - set(accepted))
        if unknown:
            raise ValueError(
                f"param_grid sets {unknown}, which are not VideoAggregator "
                "parameters; precompute_statistics reads grids of VideoAggregator "
                "parameters without an estimator prefix."
            )
        estimator = VideoAggregator(**candidate)
        if callable(estimator.method) or estimator.logits:
            continue
        if estimator._learned_name() is not None:
            # The value used depends on the training videos of each fit.
            continue
        name = estimator.method
        _parse_statistic(name)
        params = _check_statistic_params(
            name, {key: getattr(estimator, key) for key in STATISTICS[name].params}
        )
        label = (name, repr(sorted(params.items())))
        statistics.setdefault(label, (name, params))
    return list(statistics.values())


def _pool_new_values(videos, name, params):
    """Pool one statistic on a worker and return the cache entries it added."""
    before = set(videos._pooled)
    _pool_statistic(videos, name, **params)
    return [
        (key, pooled) for key, pooled in videos._pooled.items() if key not in before
    ]
