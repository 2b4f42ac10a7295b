"""Pool frame-score tables larger than memory with Dask.

`pool_frames` takes a Dask DataFrame of frame scores in long format (one
row per frame, or per face) and returns one row per video with one column
per statistic. It moves every video's rows to one partition with a
shuffle keyed on the video column, then pools each partition at once with
the same statistics, parameter checks and defaults as `VideoAggregator`.

Searches need nothing from this module. ``GridSearchCV`` and
``cross_val_score`` over skpool estimators run on a Dask cluster under
``joblib.parallel_backend("dask")``. joblib then sends a `RaggedFrames`
to the workers once and not with every task, because the container
reports its size in bytes to ``dask.sizeof``. Its pickle carries the
frames and their per-video sorted order, so no worker sorts them again.
Each worker keeps its own cache of pooled values, so every worker that
runs a candidate of a statistic pools the whole container with it once.
A search over the fixed statistics of `default_grid` therefore repeats
most of its pooling on every worker and gains little from more workers.
More workers help when each fit costs more than its pooling.

Dask is imported only when a Dask DataFrame is pooled. Install it with
``pip install skpool[dask]``.
"""

import functools
from collections.abc import Mapping
from numbers import Real

import numpy as np
import pandas as pd

from ._aggregator import VideoAggregator
from ._io import _DEFAULT_FACE, _DEFAULT_FRAME, _FACE_REDUCTIONS, _from_table
from ._io import _optional_column as _use_optional_column
from ._stats import STATISTICS
from ._stats import pool_frames as _pool_statistic
from ._validation import check_frame_scores

__all__ = ["pool_frames"]


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
