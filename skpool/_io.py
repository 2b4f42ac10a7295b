"""Read frame predictions and video labels from files, and write submissions.

Prediction files come in four forms:

- a long table (pandas DataFrame, CSV or Parquet file), one row per frame
  or per face, with a video column and a score column;
- a safe ``.npz`` archive of 1-D arrays keyed by video id, as written by
  `save_predictions` or ``np.savez``;
- a pickled ``{video_id: scores}`` dict saved with ``np.save``, read only
  with ``allow_pickle=True`` because unpickling runs code from the file;
- a 2-D NaN-padded ``.npy`` array, one row per video, with the video ids
  passed separately.

Every loader returns a `RaggedFrames` whose ``ids`` are the video ids, so
that predictions can be aligned with labels by id rather than by position.
"""

import gzip
import json
import math
import os
import tokenize
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._ragged import RaggedFrames, _fill_masked, as_ragged
from ._segments import gather_index

__all__ = [
    "DatasetReport",
    "align_videos",
    "load_dataset",
    "load_dfdc_labels",
    "load_labels",
    "load_predictions",
    "save_predictions",
    "write_submission",
]

_PREDICTION_FORMATS = (".npy", ".npz", ".csv", ".csv.gz", ".parquet", ".pq")
_LABEL_FORMATS = (".json", ".csv", ".csv.gz", ".parquet", ".pq")
_SAVE_FORMATS = (".npz", ".csv", ".csv.gz", ".parquet", ".pq")
_FACE_REDUCTIONS = ("max", "mean", "min")
_DEFAULT_FRAME = "frame"
_DEFAULT_FACE = "face"
_DFDC_LABELS = {"FAKE": 1, "REAL": 0}
# How many names an error or warning lists before summarizing the rest.
_NAMES_SHOWN = 5
# Exceptions from parsing a damaged .npy header, which numpy reads with
# tokenize and ast.literal_eval.
_NPY_HEADER_ERRORS = (ValueError, EOFError, OSError, SyntaxError, tokenize.TokenError)
# Exceptions from reading a damaged gzip or deflate stream.
_DECOMPRESSION_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)
# Exceptions from zipfile for a damaged archive, besides BadZipFile: a bad
# seek (OSError), a member name that is not UTF-8, and flags that claim
# encryption (RuntimeError) or an unknown compression method.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    UnicodeDecodeError,
    RuntimeError,
    NotImplementedError,
    *_DECOMPRESSION_ERRORS,
)


# Small helpers ----------------------------------------------------------


def _few(items, limit=_NAMES_SHOWN):
    """Format the first few items for a message, with a count of the rest."""
    items = list(items)
    text = ", ".join(repr(item) for item in items[:limit])
    if len(items) > limit:
        text += f" and {len(items) - limit} more"
    return text


def _start(name):
    """Capitalize a source description such as "the dict" to start a sentence."""
    return "T" + name[1:] if name.startswith("the ") else name


def _python_value(value):
    """Convert a numpy scalar to the Python value, for readable messages."""
    return value.item() if isinstance(value, np.generic) else value


def _object_array(values):
    """Return a 1-D object array holding ``values`` as Python objects."""
    array = np.empty(len(values), dtype=object)
    array[:] = [_python_value(value) for value in values]
    return array


def _is_path(source):
    return isinstance(source, (str, os.PathLike))


def _suffix(path):
    name = Path(path).name.lower()
    if name.endswith(".csv.gz"):
        return ".csv.gz"
    return Path(name).suffix


def _check_suffix(path, supported, action):
    """Return the lower-case extension of ``path``, which must be supported."""
    suffix = _suffix(path)
    if suffix not in supported:
        raise ValueError(
            f"Cannot {action} {str(path)!r}: unknown extension "
            f"{suffix or '(none)'!r}. Supported extensions: {', '.join(supported)}."
        )
    return suffix


def _check_file(path, supported, kind):
    """Return the lower-case extension of ``path`` after checking that it exists."""
    path = Path(path)
    suffix = _check_suffix(path, supported, f"read {kind} from")
    if not path.exists():
        raise FileNotFoundError(f"No such {kind} file: {str(path)!r}.")
    if path.is_dir():
        raise IsADirectoryError(
            f"The {kind} path {str(path)!r} is a directory; pass a file."
        )
    return suffix


def _check_option(value, name, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)!r}; got {value!r}.")


def _import_pyarrow_parquet():
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise ImportError(
            "Reading or writing Parquet files needs pyarrow, which is not "
            "installed. Install it with: pip install skpool[parquet]"
        ) from None
    return parquet


def _warn(message, stacklevel=3):
    # The default stacklevel points at the caller of a public function that
    # calls _warn directly; one more level for each private function between.
    warnings.warn(message, UserWarning, stacklevel=stacklevel)


# Reading predictions ----------------------------------------------------


def load_predictions(
    source,
    *,
    video="video",
    frame="frame",
    face="face",
    score="score",
    face_reduce="max",
    drop_duplicates=False,
    allow_pickle=False,
    ids=None,
    video_ids=None,
    missing="warn",
    features=False,
):
    """Read frame predictions of many videos into a `RaggedFrames` with ids.

    Parameters
    ----------
    source : path, DataFrame, dict, Series, 2-D array, list of arrays or RaggedFrames
        Where the predictions are:

        - a long table with one row per frame, or per face with a face
          column: a ``.csv``, ``.csv.gz``, ``.parquet`` or ``.pq`` file, a
          pandas DataFrame, or a table with a ``to_pandas`` method such as
          a polars DataFrame or a pyarrow Table;
        - a ``.npz`` file of 1-D arrays keyed by video id, as written by
          `save_predictions` or ``np.savez(path, **{video_id: scores})``,
          read without pickle;
        - a ``.npy`` file containing a pickled ``{video_id: scores}`` dict, as
          written by ``np.save(path, d)``; needs ``allow_pickle=True``;
        - a dict ``{video_id: 1-D array of scores}``;
        - a pandas Series of 1-D arrays indexed by video id;
        - a 2-D float array (or a ``.npy`` file of one), one row per video
          padded with NaN, with the video ids in ``ids``;
        - a list of 1-D arrays, or a `RaggedFrames`, with ``ids``.

    video : str, default="video"
        Column of the video id, for a long table.

    frame : str or None, default="frame"
        Column of the frame number, for a long table. Frames are put in
        its order within each video. When the table has no column of
        the default name, or ``frame=None``, rows stay in table order.

    face : str or None, default="face"
        Column of the face number, for a long table with several faces
        per frame. Used when the table has it, and then it needs a frame
        column. A name other than the default must be a column.

    score : str, default="score"
        Column of the frame score, for a long table.

    face_reduce : {"max", "mean", "min"}, default="max"
        How the faces of one frame become one frame score, before the
        frames are pooled. NaN face scores are ignored, and a frame whose
        faces are all NaN gets NaN.

    drop_duplicates : bool, default=False
        Drop rows of a long table that repeat another row's (video,
        frame, face) key with the same score. Without it, any repeated
        key raises a ValueError; with it, a key repeated with a different
        score still does. Keys are checked only with a frame column.

    allow_pickle : bool, default=False
        Allow reading pickled objects from ``.npy`` and ``.npz`` files.
        Unpickling runs code stored in the file, so only enable it for
        files you trust. A damaged pickle raises a ValueError, or in rare
        cases crashes the interpreter inside numpy.

    ids : array-like of shape (n_videos,), default=None
        Video ids of the rows of a padded 2-D array, or of the arrays of a
        list or `RaggedFrames`. Other forms carry their own ids.

    video_ids : array-like, default=None
        Videos to return, in this order; see `align_videos`. Videos not
        in ``source`` become videos without frames, to which estimators
        give their ``fill_value``. Videos in ``source`` but not in
        ``video_ids`` are left out. By default all videos of ``source``
        are returned.

    missing : {"warn", "error", "ignore"}, default="warn"
        What to do when ``video_ids`` names videos not in ``source``.

    features : bool, default=False
        Read frame features instead of frame scores: each video of a dict,
        ``.npz`` or pickled ``.npy`` is a 2-D array, frames x features,
        with the same number of features for every video. Such videos go
        to `FrameScorer`, which scores their frames. Long tables and
        padded arrays hold one score per frame and are rejected.

    Returns
    -------
    RaggedFrames
        One video per video id, ``ids`` set. The videos of a long table
        come in order of first appearance in the table; a dict or
        ``.npz`` keeps its key order. NaN scores are kept as frames that
        the statistics ignore, and a video whose scores are all NaN is
        kept.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        For an unknown extension, an unreadable or truncated file, a
        pickled file without ``allow_pickle=True``, scores that are not
        numbers or not 1-D, rows without a video id, and repeated (video,
        frame, face) keys.
    ImportError
        For a Parquet file without pyarrow installed.

    See Also
    --------
    save_predictions : Write predictions to a safe ``.npz``, CSV or Parquet
        file.
    load_dataset : Read predictions and labels, aligned by video id.

    Notes
    -----
    Video ids of a CSV file are read as strings, so ``"007"`` stays
    ``"007"``; the keys of a ``.npz`` archive are always strings. Only an
    empty field is a missing video id, so ids such as ``"NA"`` or
    ``"None"`` are kept. Scores are stored as float64 whatever their
    dtype in the file.

    Examples
    --------
    >>> import pandas as pd
    >>> import skpool
    >>> table = pd.DataFrame({
    ...     "video": ["b.mp4", "b.mp4", "a.mp4", "b.mp4", "b.mp4"],
    ...     "frame": [1, 0, 0, 0, 1],
    ...     "face": [0, 0, 0, 1, 1],
    ...     "score": [0.7, 0.2, 0.4, 0.6, 0.9],
    ... })
    >>> videos = skpool.load_predictions(table)
    >>> videos.ids
    array(['b.mp4', 'a.mp4'], dtype=object)
    >>> videos[0]  # the max over faces of frames 0 and 1
    array([0.6, 0.9])
    >>> model = skpool.VideoAggregator(method="mean").fit(videos, [1, 0])
    >>> model.predict_proba(videos)[:, 1]
    array([0.75, 0.4 ])
    """
    _check_option(face_reduce, "face_reduce", _FACE_REDUCTIONS)
    _check_option(missing, "missing", ("warn", "error", "ignore"))
    table_options = {
        "video": video,
        "frame": frame,
        "face": face,
        "score": score,
        "face_reduce": face_reduce,
        "drop_duplicates": drop_duplicates,
    }
    if ids is not None and not _may_need_ids(source):
        raise ValueError(
            "ids= names the rows of a padded array or a list of arrays, but this "
            "source names its videos itself. To select or reorder videos, pass "
            "video_ids= instead."
        )
    if features:
        _check_feature_source(source)
    if _is_path(source):
        videos = _read_prediction_file(
            source, table_options, allow_pickle, ids, features=features
        )
    else:
        videos = _predictions_from_object(
            source, table_options, ids, features=features
        )
    if video_ids is not None:
        videos = _align(videos, video_ids, missing)
    return videos


def _may_need_ids(source):
    """Tell whether ``source`` may be a form whose videos have no ids."""
    if _is_path(source):
        return _suffix(source) == ".npy"
    if isinstance(source, (Mapping, pd.Series)):
        return False
    return not hasattr(source, "columns") and not hasattr(source, "to_pandas")


def _check_feature_source(source):
    """Raise unless ``source`` is a form that can hold 2-D frames per video."""
    if _is_path(source):
        readable = _suffix(source) in (".npz", ".npy")
    else:
        readable = isinstance(source, Mapping)
    if not readable:
        raise ValueError(
            "features=True reads a dict, an .npz or a pickled .npy of "
            "{video_id: 2-D array of frames x features}; a long table or a "
            "padded array holds one score per frame."
        )


def _read_prediction_file(path, table_options, allow_pickle, ids, features=False):
    suffix = _check_file(path, _PREDICTION_FORMATS, "predictions")
    name = repr(str(path))
    if suffix == ".npy":
        return _read_npy(path, name, allow_pickle, ids, features=features)
    if suffix == ".npz":
        mapping = _read_npz(path, name, allow_pickle)
        return _from_mapping(mapping, name, features=features)
    table = _read_table(path, suffix, name, table_options)
    return _from_table(table, name, **table_options)


def _predictions_from_object(source, table_options, ids, features=False):
    if isinstance(source, RaggedFrames):
        if ids is not None:
            return RaggedFrames(source.values, source.offsets, ids=ids)
        if source.ids is None:
            raise ValueError(
                "These RaggedFrames have no video ids; pass ids=[...] so the "
                "predictions can be matched to labels by video."
            )
        return source
    if isinstance(source, Mapping):
        return _from_mapping(source, "the dict", features=features)
    if isinstance(source, pd.Series):
        # As the estimators read it: one array of frame scores per row,
        # the index naming the videos.
        videos = as_ragged(source)
        if videos.n_features is not None:
            raise ValueError(
                "The Series contains 2-D arrays; each video's scores must be a 1-D "
                "array with one score per frame."
            )
        _check_unique_ids(videos.ids, "the Series")
        return videos
    if isinstance(source, pd.DataFrame):
        return _from_table(source, "the DataFrame", **table_options)
    if hasattr(source, "to_pandas"):
        table = source.to_pandas()
        return _from_table(table, f"the {type(source).__name__}", **table_options)
    if isinstance(source, (np.ndarray, list, tuple)):
        return _from_arrays(source, ids, "the array")
    raise TypeError(
        f"Cannot read predictions from a {type(source).__name__}. Pass a file "
        f"path ({', '.join(_PREDICTION_FORMATS)}), a DataFrame, a dict of "
        "arrays, or a padded 2-D array with ids."
    )


def _from_arrays(source, ids, name):
    """Read a padded 2-D array or a list of per-video arrays, named by ``ids``."""
    if isinstance(source, np.ndarray) and source.dtype != object:
        if source.ndim != 2:
            raise ValueError(
                f"{_start(name)} is a {source.ndim}-D array of shape "
                f"{source.shape}; expected a dict {{video_id: scores}} or a 2-D "
                "array with one NaN-padded row per video and ids=[...]."
            )
        if source.dtype.kind not in "iuf":
            raise ValueError(
                f"{_start(name)} has dtype {source.dtype}; frame scores "
                "must be numbers."
            )
    if ids is None:
        raise ValueError(
            f"{_start(name)} carries no video ids; pass ids=[...] with "
            "one id per row, or use a dict or a table that names the videos."
        )
    if len(ids) != len(source):
        raise ValueError(
            f"{_start(name)} has {len(source)} videos but {len(ids)} ids were "
            "given; pass one id per video."
        )
    if isinstance(source, np.ndarray) and source.dtype != object:
        videos = RaggedFrames.from_padded(source, ids=ids)
    else:
        videos = RaggedFrames.from_list(list(source), ids=ids)
        if videos.n_features is not None:
            raise ValueError(
                f"{_start(name)} contains 2-D arrays; each video's scores must "
                "be a 1-D array with one score per frame."
            )
    _check_unique_ids(videos.ids, name)
    return videos


def _read_npy(path, name, allow_pickle, ids, features=False):
    with open(path, "rb") as file:
        dtype = _npy_header_dtype(file, name, os.fstat(file.fileno()).st_size)
        if dtype.hasobject and not allow_pickle:
            raise ValueError(_pickle_message(name))
        file.seek(0)
        try:
            array = np.lib.format.read_array(file, allow_pickle=allow_pickle)
        except _npy_data_errors(dtype) as error:
            raise ValueError(
                f"Could not read {name}: {type(error).__name__}: {error}. The file "
                "may be truncated; write it again."
            ) from None
    if array.dtype == object and array.ndim == 0:
        content = array.item()
        if not isinstance(content, Mapping):
            raise ValueError(
                f"{name} contains a pickled {type(content).__name__}, not a dict; "
                "expected {video_id: 1-D array of scores}."
            )
        if ids is not None:
            raise ValueError(
                f"{name} contains a dict that names its videos; pass video_ids= "
                "rather than ids= to select or reorder them."
            )
        return _from_mapping(content, name, features=features)
    if features:
        raise ValueError(
            f"{name} contains an array, not a dict; features=True reads a pickled "
            "{video_id: 2-D array of frames x features} dict."
        )
    if array.dtype != object and array.ndim != 2:
        raise ValueError(
            f"{name} contains a {array.ndim}-D array of shape {array.shape}, not a "
            "dict; expected a pickled {video_id: 1-D array of scores} dict, or "
            "a 2-D NaN-padded array (one row per video) with ids=[...]."
        )
    return _from_arrays(array, ids, name)


def _npy_header_dtype(file, name, size):
    """Read the dtype from the header of a ``.npy`` stream, leaving it at the data.

    ``size`` is the stream's length in bytes. A header that announces more
    data than follows raises a ValueError here, before numpy would
    allocate the announced array (MemoryError for a damaged shape).
    """
    try:
        version = np.lib.format.read_magic(file)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(file)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(file)
    except _NPY_HEADER_ERRORS as error:
        raise ValueError(
            f"Could not read {name} as a NumPy .npy file ({error}). The file may "
            "be empty, truncated or in another format."
        ) from None
    if not dtype.hasobject:
        announced = math.prod(shape) * dtype.itemsize
        available = size - file.tell()
        if announced > available:
            raise ValueError(
                f"Could not read {name}: its header announces an array of shape "
                f"{shape} ({announced} bytes) but only {available} bytes follow, "
                "so the file is truncated; write it again."
            )
    return dtype


def _npy_data_errors(dtype):
    """Return the exceptions that reading damaged ``.npy`` data of ``dtype`` raises."""
    if dtype.hasobject:
        # Unpickling runs the file's own instructions, and a damaged pickle
        # fails with any exception: AttributeError, ModuleNotFoundError,
        # TypeError, MemoryError and more.
        return Exception
    return (ValueError, EOFError, OSError)


def _pickle_message(name):
    return (
        f"{name} contains pickled Python objects. Unpickling runs code stored in "
        "the file, so load_predictions reads it only with allow_pickle=True; "
        "pass that only for a file you trust. To avoid pickle from then on, "
        "convert it once with skpool.save_predictions('predictions.npz', "
        "skpool.load_predictions(path, allow_pickle=True)) and read the .npz."
    )


def _read_npz(path, name, allow_pickle):
    """Return ``{video_id: array}`` from a ``.npz`` archive, in archive order."""
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                key = member[: -len(".npy")] if member.endswith(".npy") else member
                with archive.open(member) as stream:
                    dtype = _npy_header_dtype(
                        stream,
                        f"video {key!r} from {name}",
                        archive.getinfo(member).file_size,
                    )
                    if dtype.hasobject and not allow_pickle:
                        raise ValueError(_pickle_message(name))
                with archive.open(member) as stream:
                    try:
                        arrays[key] = np.lib.format.read_array(
                            stream, allow_pickle=allow_pickle
                        )
                    except _npy_data_errors(dtype) as error:
                        raise ValueError(
                            f"Could not read video {key!r} from {name} "
                            f"({type(error).__name__}: {error}). The file may be "
                            "truncated; write it again."
                        ) from None
    except _ZIP_ERRORS as error:
        raise ValueError(
            f"Could not read {name} as a .npz archive ({error}). The file may be "
            "empty or truncated; write it again."
        ) from None
    # np.savez(path, predictions=d) stores a whole dict as one pickled entry.
    if len(arrays) == 1:
        (only,) = arrays.values()
        if only.dtype == object and only.ndim == 0 and isinstance(only.item(), Mapping):
            return only.item()
    return arrays


def _from_mapping(mapping, name, features=False):
    """Build a container from ``{video_id: 1-D scores}``, checking every video.

    With ``features``, each video is a 2-D array of frames x features.
    """
    if len(mapping) == 0:
        raise ValueError(f"{_start(name)} contains no videos.")
    if features:
        return _features_from_mapping(mapping, name)
    arrays = []
    for video_id, scores in mapping.items():
        if video_id is None or (isinstance(video_id, float) and np.isnan(video_id)):
            raise ValueError(f"{_start(name)} has a video with no id ({video_id!r}).")
        if isinstance(scores, (str, bytes)):
            raise ValueError(
                f"Video {video_id!r} in {name} has a string ({scores!r:.40}) where "
                "its frame scores belong; expected a 1-D array of numbers."
            )
        array = np.asarray(_fill_masked(scores))
        if array.ndim != 1:
            raise ValueError(
                f"Video {video_id!r} in {name} has scores of shape {array.shape}; "
                "expected a 1-D array with one score per frame. For several "
                "faces per frame, reduce them first or use a long table with a "
                "face column. For frame features (frames x features), set "
                "features=True."
            )
        if array.dtype.kind not in "iuf":
            array = _object_scores_to_float(array, video_id, name)
        arrays.append(array)
    lengths = np.array([len(array) for array in arrays], dtype=np.int64)
    values = np.concatenate(arrays).astype(np.float64, copy=False)
    ids = _object_array(list(mapping.keys()))
    return RaggedFrames.from_lengths(values, lengths, ids=ids)


def _features_from_mapping(mapping, name):
    """Build a container of 2-D frame features from ``{video_id: array}``."""
    arrays = []
    for video_id, frames in mapping.items():
        array = np.asarray(frames)
        if array.size == 0:
            arrays.append(None)
            continue
        if array.ndim != 2:
            raise ValueError(
                f"Video {video_id!r} in {name} has frames of shape {array.shape}; "
                "with features=True each video must be a 2-D array of frames x "
                "features."
            )
        if array.dtype.kind not in "biuf":
            raise ValueError(
                f"Video {video_id!r} in {name} has features of dtype "
                f"{array.dtype}; frame features must be numbers."
            )
        arrays.append(array.astype(np.float64, copy=False))
    widths = {array.shape[1] for array in arrays if array is not None}
    if len(widths) != 1:
        detail = sorted(widths) if widths else "none: every video is empty"
        raise ValueError(
            f"{_start(name)} must give every video the same number of frame "
            f"features; got {detail}."
        )
    width = widths.pop()
    arrays = [np.empty((0, width)) if array is None else array for array in arrays]
    lengths = np.array([len(array) for array in arrays], dtype=np.int64)
    ids = _object_array(list(mapping.keys()))
    return RaggedFrames.from_lengths(np.concatenate(arrays), lengths, ids=ids)


def _object_scores_to_float(array, video_id, name):
    """Convert an object array of numbers to float64, rejecting strings."""
    if array.dtype.kind == "O" and not any(
        isinstance(value, (str, bytes)) for value in array
    ):
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError):
            pass
    raise ValueError(
        f"Video {video_id!r} in {name} has scores of dtype {array.dtype} (first "
        f"values {array[:3].tolist()!r}); frame scores must be numbers."
    )


def _read_table(path, suffix, name, options):
    """Read a CSV or Parquet file into a DataFrame, video ids as strings."""
    if suffix in (".parquet", ".pq"):
        parquet = _import_pyarrow_parquet()
        import pyarrow

        try:
            schema_names = parquet.read_schema(path).names
            columns = [
                options[key]
                for key in ("video", "frame", "face", "score")
                if options[key] is not None and options[key] in schema_names
            ]
            table = parquet.read_table(path, columns=columns or None)
            # pyarrow does not check that strings read from a file are
            # UTF-8; a full validation raises ArrowInvalid where a damaged
            # string would raise UnicodeDecodeError later.
            table.validate(full=True)
            # The schema names and types the columns. The pandas metadata
            # beside it only restores an index, and when damaged it fails
            # to parse with a KeyError or TypeError, so it is dropped.
            return table.replace_schema_metadata(None).to_pandas()
        except (OSError, ValueError, pyarrow.ArrowException) as error:
            # Every pyarrow error derives from ArrowException; a damaged file
            # mostly raises ArrowInvalid, a ValueError.
            raise ValueError(
                f"Could not read {name} as a Parquet file ({error}). The file "
                "may be empty or truncated."
            ) from None
    read_options = {
        "dtype": {options["video"]: str},
        "keep_default_na": False,
        "na_values": _csv_missing_values(options),
    }
    try:
        table = pd.read_csv(path, **read_options)
        if not isinstance(table.index, pd.RangeIndex):
            table = _read_csv_extra_field(path, name, table, read_options)
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"{name} is empty; expected a header line naming the columns, such "
            f"as {options['video']!r} and {options['score']!r}, then one line per "
            "row."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, *_DECOMPRESSION_ERRORS) as error:
        raise ValueError(f"Could not parse {name} as CSV: {error}") from None
    _check_last_csv_line(path, suffix, name, table)
    return table


def _read_csv_extra_field(path, name, shifted, read_options):
    """Read again a CSV whose rows have one field more than its header.

    pandas reads such rows with the first field as the index, so every
    column contains the field to the right of its name. An empty trailing
    field, as from a comma at the end of each line, is dropped. A value
    there raises a ValueError.
    """
    if not shifted.iloc[:, -1].isna().all():
        raise ValueError(
            f"{_start(name)} has rows with more fields than its header line, "
            "so the columns cannot be matched to their names. Remove the extra "
            "values, or add a name for them to the header."
        )
    with warnings.catch_warnings():
        # index_col=False drops the empty trailing fields and warns that
        # it drops data; they are checked above to be empty.
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        return pd.read_csv(path, index_col=False, **read_options)


# Strings that pandas.read_csv reads as missing by default, as its
# documentation lists them.
_CSV_MISSING = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)


def _csv_missing_values(options):
    """Return read_csv's na_values: the defaults, but only "" for the video id.

    Read with the defaults, a video named "NA", "None" or "nan", which
    save_predictions writes as is, would come back as a missing id.
    """
    missing = {
        options[key]: list(_CSV_MISSING)
        for key in ("frame", "face", "score")
        if options[key] is not None
    }
    missing[options["video"]] = [""]
    return missing


def _check_last_csv_line(path, suffix, name, table):
    """Reject a CSV whose last line was cut short, which pandas reads as NaN."""
    if suffix != ".csv" or len(table) == 0:
        return
    with open(path, "rb") as file:
        file.seek(-1, os.SEEK_END)
        ends_with_newline = file.read(1) in (b"\n", b"\r")
    if not ends_with_newline and table.iloc[-1].isna().any():
        raise ValueError(
            f"The last line of {name} is incomplete (missing fields and no final "
            "newline), so the file looks truncated; write it again."
        )


def _separator_hint(table):
    """Return a hint when a CSV header read as one column contains a separator."""
    if len(table.columns) != 1:
        return ""
    header = str(table.columns[0])
    for separator in (";", "\t", "|"):
        if separator in header:
            return (
                f" The header looks separated by {separator!r}; skpool reads "
                "comma-separated files, so convert the file first."
            )
    return ""


def _from_table(
    table, name, *, video, frame, face, score, face_reduce, drop_duplicates
):
    """Build a container from a long table, vectorized over all rows."""
    use_frame = _optional_column(table, frame, _DEFAULT_FRAME, "frame", name)
    use_face = _optional_column(table, face, _DEFAULT_FACE, "face", name)
    for column, role in ((video, "video"), (score, "score")):
        if column not in table.columns:
            raise ValueError(
                f"{_start(name)} has no {role} column {column!r}; its columns "
                f"are {list(table.columns)!r}. Set {role}= to the right column."
                + _separator_hint(table)
            )
    if use_face and not use_frame:
        raise ValueError(
            f"{_start(name)} has a face column {face!r} but no frame column "
            f"{frame!r}, so the faces of one frame cannot be matched. Set frame= "
            "to the frame column, or face=None to read each row as a frame."
        )
    if len(table) == 0:
        raise ValueError(f"{_start(name)} has no rows of predictions.")

    video_column = table[video]
    _check_no_missing_keys(
        table, [video] + [frame] * use_frame + [face] * use_face, name
    )
    scores = _numeric_scores(table[score], video_column, score, name)
    video_codes, video_ids = pd.factorize(video_column, sort=False)
    codes, sizes = [video_codes], [len(video_ids)]
    for column, used in ((frame, use_frame), (face, use_face)):
        if used:
            column_codes, size = _sortable_codes(table[column], column, name)
            codes.append(column_codes)
            sizes.append(size)
    # row_key sorts like (video, frame, face) and frame_key like (video,
    # frame); a stable sort keeps table order among rows of equal key.
    row_key = _combine_codes(codes, sizes)
    frame_key = _combine_codes(codes[:2], sizes[:2]) if use_face else row_key
    order = np.argsort(row_key, kind="stable")
    row_key = row_key[order]
    scores = scores[order]

    if use_frame:
        repeated = row_key[1:] == row_key[:-1]
        if drop_duplicates and repeated.any():
            same_score = (scores[1:] == scores[:-1]) | (
                np.isnan(scores[1:]) & np.isnan(scores[:-1])
            )
            keep = np.concatenate([[True], ~(repeated & same_score)])
            order, row_key, scores = order[keep], row_key[keep], scores[keep]
            repeated = row_key[1:] == row_key[:-1]
        if repeated.any():
            columns = [video, frame] + [face] * use_face
            _raise_repeated_keys(
                table, order, repeated, columns, use_face, drop_duplicates, name
            )
    if use_face:
        order, scores = _reduce_faces(order, frame_key[order], scores, face_reduce)

    lengths = np.bincount(video_codes[order], minlength=len(video_ids))
    return RaggedFrames.from_lengths(scores, lengths, ids=_object_array(video_ids))


def _optional_column(table, column, default, role, name):
    """Tell whether an optional column is used; a non-default name must exist."""
    if column is None:
        return False
    if column in table.columns:
        return True
    if column != default:
        raise ValueError(
            f"{_start(name)} has no {role} column {column!r}; its columns are "
            f"{list(table.columns)!r}. Set {role}=None if there is none."
        )
    return False


def _check_no_missing_keys(table, columns, name):
    for column in columns:
        missing = np.flatnonzero(table[column].isna().to_numpy())
        if missing.size:
            raise ValueError(
                f"{_start(name)} has {missing.size} rows with no value in "
                f"column {column!r}, at row positions {_few(missing.tolist())}. "
                "Every row must name its video (and frame and face, when those "
                "columns are used); fill or drop these rows."
            )


def _numeric_scores(column, video_column, score, name):
    """Return the score column as float64, rejecting values that are not numbers."""
    if pd.api.types.is_bool_dtype(column):
        raise ValueError(
            f"Score column {score!r} of {name} contains booleans; frame scores must "
            "be probabilities or logits, not decisions."
        )
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    numbers = pd.to_numeric(column, errors="coerce")
    bad = np.flatnonzero((numbers.isna() & column.notna()).to_numpy())
    if bad.size:
        examples = [
            (_python_value(video_column.iloc[i]), _python_value(column.iloc[i]))
            for i in bad[:_NAMES_SHOWN]
        ]
        described = ", ".join(f"{value!r} for video {vid!r}" for vid, value in examples)
        more = " and more" if bad.size > _NAMES_SHOWN else ""
        raise ValueError(
            f"{_start(name)} has {bad.size} values in score column {score!r} "
            f"that are not numbers: {described}{more}. Frame scores must be "
            "numbers; write a missing score as an empty field or NaN."
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _sortable_codes(column, role, name):
    """Return integer codes that sort like the values of ``column``, and their count."""
    try:
        codes, uniques = pd.factorize(column, sort=True)
    except TypeError as error:
        raise ValueError(
            f"Cannot order the values of column {role!r} in {name} ({error}); use "
            "one type, such as integers, for every row."
        ) from None
    return codes, len(uniques)


def _combine_codes(codes, sizes):
    """Combine per-column codes into one int64 key that sorts like their tuple."""
    if np.prod([float(max(size, 1)) for size in sizes]) < 2.0**62:
        key = codes[0].astype(np.int64)
        for column_codes, size in zip(codes[1:], sizes[1:], strict=True):
            key = key * size + column_codes
        return key
    # Too many combinations for one int64: number the distinct tuples in
    # sorted order instead.
    order = np.lexsort(codes[::-1])
    new_tuple = np.zeros(len(order), dtype=bool)
    new_tuple[0] = True
    for column_codes in codes:
        ordered = column_codes[order]
        new_tuple[1:] |= ordered[1:] != ordered[:-1]
    key = np.empty(len(order), dtype=np.int64)
    key[order] = np.cumsum(new_tuple) - 1
    return key


def _raise_repeated_keys(
    table, rows, repeated, columns, use_face, drop_duplicates, name
):
    # A repeated key group starts where a repeat follows a non-repeat.
    starts = np.flatnonzero(repeated & ~np.concatenate([[False], repeated[:-1]]))
    examples = [
        tuple(_python_value(table[column].iloc[rows[i]]) for column in columns)
        for i in starts[:_NAMES_SHOWN]
    ]
    key_name = "(" + ", ".join(columns) + ")"
    if drop_duplicates:
        problem = "appear in more than one row with different scores"
        advice = ""
    else:
        problem = "appear in more than one row"
        advice = (
            " Set drop_duplicates=True to drop rows that repeat a key with the "
            "same score."
        )
    if use_face:
        advice += " Check that each face of a frame has its own face number."
    else:
        advice += " Several faces per frame need a face column (face=)."
    raise ValueError(
        f"{_start(name)} has {starts.size} {key_name} keys that {problem}: "
        f"{_few(examples)}.{advice}"
    )


def _reduce_faces(rows, frame_key, scores, face_reduce):
    """Reduce the faces of each frame to one score, ignoring NaN.

    The rows are sorted by frame, so each frame is one run of equal
    ``frame_key``. Returns the first row of each frame and its score.
    """
    new_frame = np.ones(len(scores), dtype=bool)
    new_frame[1:] = frame_key[1:] != frame_key[:-1]
    starts = np.flatnonzero(new_frame)
    if face_reduce == "max":
        reduced = np.fmax.reduceat(scores, starts)
    elif face_reduce == "min":
        reduced = np.fmin.reduceat(scores, starts)
    else:
        valid = ~np.isnan(scores)
        sums = np.add.reduceat(np.where(valid, scores, 0.0), starts)
        counts = np.add.reduceat(valid.astype(np.int64), starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            reduced = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return rows[starts], reduced


def _check_unique_ids(ids, name):
    if ids is None:
        return
    # Missing ids (None, NaN) get a code too, so that np.bincount below
    # never sees the -1 that marks them by default.
    codes, uniques = pd.factorize(
        pd.Series(ids, dtype=object), sort=False, use_na_sentinel=False
    )
    if len(uniques) != len(ids):
        counts = np.bincount(codes)
        repeated = [_python_value(uniques[i]) for i in np.flatnonzero(counts > 1)]
        raise ValueError(
            f"{_start(name)} names {len(repeated)} videos more than once: "
            f"{_few(repeated)}. Every video id must be unique."
        )


# Aligning videos with a list of ids ----------------------------------


def align_videos(videos, video_ids, *, missing="warn"):
    """Reorder videos to match ``video_ids``, keeping videos without frames.

    Parameters
    ----------
    videos : RaggedFrames
        Videos with ``ids``, for example from `load_predictions`.

    video_ids : array-like of shape (n_requested,)
        The videos to return, in this order. Each must be unique.

    missing : {"warn", "error", "ignore"}, default="warn"
        What to do about ids in ``video_ids`` that are not in
        ``videos.ids``. Unless "error" raises, they are kept as videos
        with no frames, which estimators give their ``fill_value``. With
        "warn", a UserWarning counts them and names a few. If none of
        ``video_ids`` is in ``videos.ids``, "warn" and "error" raise,
        because the two lists most likely name videos differently; only
        "ignore" then returns every video without frames.

    Returns
    -------
    RaggedFrames
        ``n_requested`` videos with ``ids`` equal to ``video_ids``. Videos
        of ``videos`` not in ``video_ids`` are left out.

    Raises
    ------
    ValueError
        For a missing or repeated id, an id that matches a video of
        ``videos`` only as text (7 and "7") or only after ignoring case,
        surrounding spaces or the file extension ("A.MP4 " and "a.mp4"),
        and, unless ``missing="ignore"``, requested ids none of which
        has predictions.

    Examples
    --------
    >>> import skpool
    >>> videos = skpool.load_predictions({"a.mp4": [0.2, 0.4], "b.mp4": [0.9]})
    >>> wanted = ["b.mp4", "c.mp4", "a.mp4"]
    >>> aligned = skpool.align_videos(videos, wanted, missing="ignore")
    >>> aligned.lengths
    array([1, 0, 2])
    """
    _check_option(missing, "missing", ("warn", "error", "ignore"))
    return _align(videos, video_ids, missing)


def _align(videos, video_ids, missing):
    if not isinstance(videos, RaggedFrames) or videos.ids is None:
        raise TypeError(
            "align_videos needs a RaggedFrames with ids, such as the output of "
            "skpool.load_predictions."
        )
    if isinstance(video_ids, str):
        raise TypeError("video_ids must be a sequence of video ids, not one string.")
    requested = _object_array(list(video_ids))
    no_id = np.flatnonzero(pd.isna(pd.Series(requested, dtype=object)).to_numpy())
    if no_id.size:
        raise ValueError(
            f"video_ids has {no_id.size} missing ids (None or NaN), at positions "
            f"{_few(no_id.tolist())}; every requested video needs an id."
        )

    _check_unique_ids(videos.ids, "the predictions")
    _check_unique_ids(requested, "video_ids")
    positions = pd.Index(videos.ids, dtype=object).get_indexer(requested)
    absent = positions < 0
    if absent.any():
        names = requested[absent].tolist()
        _check_id_types(names, videos.ids)
        unrequested = videos.ids[~pd.Index(videos.ids, dtype=object).isin(requested)]
        _check_near_matches(names, unrequested)
        if absent.all() and missing != "ignore":
            _raise_no_match(requested, videos.ids, "requested")
        if missing == "error":
            raise ValueError(
                f"{len(names)} of {len(requested)} requested videos have no "
                f"predictions: {_few(names)}. Pass missing='warn' to keep them as "
                "videos without frames, or drop them from video_ids."
            )
        if missing == "warn":
            _warn(
                f"{len(names)} of {len(requested)} requested videos have no "
                f"predictions: {_few(names)}. They are kept as videos without "
                "frames, which estimators give their fill_value.",
                stacklevel=4,
            )

    found = positions[~absent]
    lengths = np.zeros(len(requested), dtype=np.int64)
    lengths[~absent] = videos.lengths[found]
    starts = np.zeros(len(requested), dtype=np.int64)
    starts[~absent] = videos.offsets[:-1][found]
    values = videos.values[gather_index(starts, lengths)]
    return RaggedFrames.from_lengths(values, lengths, ids=requested)


def _raise_no_match(requested, available, kind):
    """Raise for ids that match none of the predictions, naming both sides."""
    if len(available) == 0:
        found = "the predictions contain no videos"
    else:
        found = f"the predictions name videos such as {_few(available.tolist(), 3)}"
    raise ValueError(
        f"None of the {len(requested)} {kind} videos have predictions: "
        f"{kind} ids such as {_few(requested.tolist(), 3)}, while {found}. Check "
        "that both name videos the same way (case, spaces, file extension)."
    )


# A file extension: a dot, a letter, then up to four letters or digits.
_EXTENSION = r"\.[A-Za-z][A-Za-z0-9]{0,4}$"


def _id_key(ids):
    """Return ids as text without surrounding spaces, case or file extension."""
    text = pd.Series(ids, dtype=object).astype(str).str.strip().str.casefold()
    return text.str.replace(_EXTENSION, "", regex=True)


def _check_near_matches(names, unrequested):
    """Raise if a missing id matches an unrequested one up to case, spaces, extension.

    "A.mp4", "a.mp4 " and "a" name the video "a.mp4" in another file. Taken
    as different videos, the requested one would get no frames and the
    other would be left out, both without an error.
    """
    if len(unrequested) == 0:
        return
    keys = pd.Index(_id_key(unrequested))
    positions = keys.get_indexer_for(_id_key(names))
    matched = np.flatnonzero(positions >= 0)
    if matched.size:
        name = names[matched[0]]
        other = unrequested[positions[matched[0]]]
        raise ValueError(
            f"The requested video id {name!r} matches the predictions' id "
            f"{other!r} only after ignoring case, surrounding spaces and the file "
            f"extension ({matched.size} requested ids match this way). Write the "
            "ids of both the same way."
        )


def _id_text(video_id):
    """Return an id as text, decoding bytes (b"a.mp4" is "a.mp4", not "b'a.mp4'")."""
    if isinstance(video_id, bytes):
        return video_id.decode("utf-8", errors="replace")
    return str(video_id)


def _check_id_types(names, available):
    """Raise if requested ids match available ones only as text, as 7 and "7".

    Ids from a CSV file are strings while a Parquet file or a dict may hold
    integers; matched as they are, every such video would silently get no
    frames.
    """
    by_text = {_id_text(video_id): video_id for video_id in available.tolist()}
    for name in names:
        text = _id_text(name)
        if text in by_text:
            other = by_text[text]
            raise ValueError(
                f"The requested video id {name!r} ({type(name).__name__}) matches "
                f"the predictions' id {other!r} ({type(other).__name__}) only as "
                "text. Convert the ids of both to one type, such as str, before "
                "matching them."
            )


# Writing predictions ------------------------------------------------


def save_predictions(path, videos):
    """Write frame predictions to a file that `load_predictions` reads safely.

    Parameters
    ----------
    path : str or path-like
        Target file. By extension:

        - ``.npz``: one 1-D float array per video, keyed by the video id
          turned into a string, in video order; readable with
          ``np.load(path)`` without pickle;
        - ``.csv``, ``.csv.gz``, ``.parquet``, ``.pq``: a long table with
          columns ``video``, ``frame`` (0, 1, ... within each video) and
          ``score``. A video without frames is written as one row with an
          empty score, so that it is not lost. It reads back as one NaN
          frame, which every statistic pools like no frame.

    videos : RaggedFrames with ids, or dict of {video_id: 1-D array}
        The predictions.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    if isinstance(videos, Mapping):
        videos = _from_mapping(videos, "the dict")
    elif not isinstance(videos, RaggedFrames) or videos.ids is None:
        raise TypeError(
            "save_predictions needs a dict {video_id: scores} or a RaggedFrames "
            f"with ids; got {type(videos).__name__}."
        )
    if videos.n_features is not None:
        raise ValueError(
            "save_predictions writes 1-D frame scores; these videos have "
            f"{videos.n_features} features per frame."
        )
    path = Path(path)
    suffix = _check_suffix(path, _SAVE_FORMATS, "write predictions to")
    keys = [str(video_id) for video_id in videos.ids.tolist()]
    _check_unique_ids(keys, "the video ids, written as strings,")
    if suffix in (".csv", ".csv.gz") and "" in keys:
        # load_predictions reads an empty CSV field as a missing video id.
        raise ValueError(
            f"Cannot write the empty video id (position {keys.index('')}) to a CSV "
            "file, which would read back as a row without a video. Give the video "
            "a name, or write a .npz or Parquet file."
        )
    if suffix == ".npz":
        _write_npz(path, keys, videos)
    else:
        _write_long_table(path, suffix, keys, videos)
    return path


def _write_npz(path, keys, videos):
    # Written member by member rather than with np.savez(**d), which fails
    # on video ids that are savez's own argument names, such as "file".
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, scores in zip(keys, videos, strict=True):
            with archive.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(
                    member, np.asarray(scores), allow_pickle=False
                )


def _write_long_table(path, suffix, keys, videos):
    lengths = videos.lengths
    # One row with a NaN score stands for each video without frames.
    rows = np.maximum(lengths, 1)
    starts = np.repeat(np.cumsum(rows) - rows, rows)
    frame = np.arange(int(rows.sum())) - starts
    scores = np.full(int(rows.sum()), np.nan)
    scores[frame < np.repeat(lengths, rows)] = videos.values
    table = pd.DataFrame(
        {"video": np.repeat(_object_array(keys), rows), "frame": frame, "score": scores}
    )
    if suffix in (".parquet", ".pq"):
        parquet = _import_pyarrow_parquet()
        import pyarrow

        parquet.write_table(
            pyarrow.Table.from_pandas(table, preserve_index=False), path
        )
    else:
        table.to_csv(path, index=False)


# Reading labels ---------------------------------------------------------


def load_dfdc_labels(metadata, video_ids=None, *, missing="error"):
    """Read the labels of a Deepfake Detection Challenge ``metadata.json``.

    Parameters
    ----------
    metadata : path, dict, or list of paths and dicts
        One or more ``metadata.json`` files (one per training folder), or
        their parsed content, ``{"name.mp4": {"label": "FAKE" or "REAL",
        "split": ..., "original": ...}}``. The other fields are ignored.

    video_ids : array-like, default=None
        The videos whose labels to return, in this order.

    missing : {"error", "nan"}, default="error"
        What to do about ids in ``video_ids`` that have no label: raise,
        or return NaN for them (the result is then float).

    Returns
    -------
    ndarray of int64 of shape (n_videos,) or pandas Series
        With ``video_ids``: their labels, 1 for FAKE and 0 for REAL.
        Without: a Series of those labels indexed by file name, in file
        order.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        For a file that is not UTF-8 JSON (empty, truncated or damaged),
        content that is not an object of videos, an entry without a label
        of "FAKE" or "REAL", a video labelled differently in two files,
        and, with ``missing="error"``, a requested video without a label.

    Examples
    --------
    >>> import skpool
    >>> metadata = {"a.mp4": {"label": "FAKE", "original": "b.mp4"},
    ...             "b.mp4": {"label": "REAL"}}
    >>> skpool.load_dfdc_labels(metadata, ["b.mp4", "a.mp4"])
    array([0, 1])
    """
    _check_option(missing, "missing", ("error", "nan"))
    sources = metadata if isinstance(metadata, (list, tuple)) else [metadata]
    if len(sources) == 0:
        raise ValueError(
            f"Got no metadata to read (an empty {type(metadata).__name__}); pass "
            "one or more metadata.json paths or dicts."
        )
    parts = [_read_dfdc_metadata(source) for source in sources]
    labels = _merge_labels(parts)
    if video_ids is None:
        return labels
    return _labels_for(labels, video_ids, missing)


def _read_dfdc_metadata(source):
    if _is_path(source):
        _check_file(source, (".json",), "metadata")
        name = repr(str(source))
        try:
            # utf-8-sig also reads a file that starts with a byte order mark,
            # as some Windows editors write.
            with open(source, encoding="utf-8-sig") as file:
                content = json.load(
                    file, object_pairs_hook=lambda pairs: _unique_pairs(pairs, name)
                )
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            raise ValueError(
                f"Could not parse {name} as JSON ({error}). The file may be empty, "
                "truncated or not UTF-8."
            ) from None
    else:
        name = "the metadata dict"
        content = source
    if not isinstance(content, Mapping):
        raise ValueError(
            f"{_start(name)} contains a {type(content).__name__}; expected a "
            'JSON object {"name.mp4": {"label": "FAKE" or "REAL", ...}}.'
        )
    if len(content) == 0:
        raise ValueError(f"{_start(name)} contains no videos.")
    ids, labels = [], []
    for video_id, entry in content.items():
        if not isinstance(entry, Mapping):
            raise ValueError(
                f"Video {video_id!r} in {name} is {entry!r}, not an object, so it "
                "has no 'label' field. Each entry must look like {\"label\": "
                '"FAKE" or "REAL", ...}. For a plain {video: label} mapping, pass '
                "a dict to load_dataset or write a CSV with video and label "
                "columns."
            )
        if "label" not in entry:
            raise ValueError(
                f"Video {video_id!r} in {name} has no 'label' field; each entry "
                'must look like {"label": "FAKE" or "REAL", ...}.'
            )
        label = entry["label"]
        code = _DFDC_LABELS.get(label.upper()) if isinstance(label, str) else None
        if code is None:
            raise ValueError(
                f"Video {video_id!r} in {name} has label {label!r}; expected "
                "'FAKE' or 'REAL'."
            )
        ids.append(video_id)
        labels.append(code)
    return pd.Series(
        labels, index=pd.Index(ids, dtype=object), dtype=np.int64, name="label"
    )


def _unique_pairs(pairs, name):
    """Build a JSON object, rejecting a key repeated with a different value.

    json.load keeps the last of repeated keys, so a video listed twice with
    two labels would silently get the second.
    """
    content = {}
    for key, value in pairs:
        if key in content and content[key] != value:
            raise ValueError(
                f"{_start(name)} names {key!r} more than once with different "
                f"values ({content[key]!r} and {value!r}). Keep one entry."
            )
        content[key] = value
    return content


def _merge_labels(parts):
    """Concatenate label Series, rejecting a video labelled twice differently."""
    labels = pd.concat(parts) if len(parts) > 1 else parts[0]
    repeated = labels.index.duplicated(keep=False)
    if repeated.any():
        grouped = labels[repeated].groupby(level=0, sort=False).nunique()
        conflicts = grouped.index[grouped.to_numpy() > 1].tolist()
        if conflicts:
            raise ValueError(
                f"{len(conflicts)} videos have conflicting labels: "
                f"{_few(conflicts)}. Each video must have one label."
            )
        labels = labels[~labels.index.duplicated(keep="first")]
    return labels


def _labels_for(labels, video_ids, missing):
    if isinstance(video_ids, str):
        raise TypeError("video_ids must be a sequence of video ids, not one string.")
    requested = _object_array(list(video_ids))
    positions = labels.index.get_indexer(requested)
    absent = positions < 0
    if absent.any() and missing == "error":
        names = requested[absent].tolist()
        raise ValueError(
            f"{len(names)} of {len(requested)} videos have no label: {_few(names)}. "
            "Check the file names, or pass only labelled videos."
        )
    values = labels.to_numpy()[np.where(absent, 0, positions)]
    if absent.any():
        values = values.astype(np.float64)
        values[absent] = np.nan
    return values


def load_labels(source, video_ids=None, *, video="video", label="label"):
    """Read video labels from a table with a video column and a label column.

    Parameters
    ----------
    source : path or DataFrame
        A ``.csv``, ``.csv.gz``, ``.parquet`` or ``.pq`` file, or a pandas
        DataFrame, one row per video.

    video_ids : array-like, default=None
        The videos whose labels to return, in this order. Every one must
        have a label.

    video : str, default="video"
        Column of the video id.

    label : str, default="label"
        Column of the label. Labels are returned as stored, for example
        0/1 or strings.

    Returns
    -------
    ndarray of shape (n_videos,) or pandas Series
        With ``video_ids``: their labels. Without: a Series of labels
        indexed by video id, in table order.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        For an unknown extension, an unreadable or truncated file, a
        missing column or value, a video labelled differently twice, and a
        requested video without a label.
    ImportError
        For a Parquet file without pyarrow installed.
    """
    if _is_path(source):
        if _suffix(source) == ".json":
            raise ValueError(
                f"load_labels reads tables; read the JSON file {str(source)!r} "
                "with load_dfdc_labels if it is a DFDC metadata.json."
            )
        suffix = _check_file(source, _LABEL_FORMATS[1:], "labels")
        name = repr(str(source))
        options = {"video": video, "frame": None, "face": None, "score": label}
        table = _read_table(source, suffix, name, options)
    elif isinstance(source, pd.DataFrame):
        name = "the DataFrame"
        table = source
    else:
        raise TypeError(
            "load_labels reads a file path or a DataFrame; got "
            f"{type(source).__name__}."
        )
    for column, role in ((video, "video"), (label, "label")):
        if column not in table.columns:
            raise ValueError(
                f"{_start(name)} has no {role} column {column!r}; its columns "
                f"are {list(table.columns)!r}. Set {role}= to the right column."
                + _separator_hint(table)
            )
    if len(table) == 0:
        raise ValueError(f"{_start(name)} has no rows of labels.")
    _check_no_missing_keys(table, [video, label], name)
    labels = pd.Series(
        table[label].to_numpy(),
        index=pd.Index(_object_array(table[video].tolist()), dtype=object),
        name="label",
    )
    labels = _merge_labels([labels])
    if video_ids is None:
        return labels
    return _labels_for(labels, video_ids, "error")


def _file_columns(path, suffix):
    """Return the column names of a CSV or Parquet file, or () if unreadable.

    An unreadable file raises its error later, when the table is read.
    """
    try:
        if suffix in (".parquet", ".pq"):
            return _import_pyarrow_parquet().read_schema(path).names
        return pd.read_csv(path, nrows=0, index_col=False).columns
    except (
        ValueError,
        OSError,
        ImportError,
        NotImplementedError,
        *_DECOMPRESSION_ERRORS,
    ):
        return ()


# Predictions and labels together ----------------------------------------


@dataclass(frozen=True)
class DatasetReport:
    """Outcome of matching predictions with labels in `load_dataset`.

    Attributes
    ----------
    n_videos : int
        Videos returned.

    missing_predictions : list
        Labelled videos without predictions, kept as videos without
        frames.

    unlabelled : list
        Videos with predictions but no label, left out.
    """

    n_videos: int
    missing_predictions: list
    unlabelled: list

    def __str__(self):
        missing = len(self.missing_predictions)
        unlabelled = len(self.unlabelled)
        if missing:
            missing = f"{missing}, {_few(self.missing_predictions)}"
        if unlabelled:
            unlabelled = f"{unlabelled}, {_few(self.unlabelled)}"
        return (
            f"{self.n_videos} videos. Without predictions (kept, pooled to "
            f"fill_value): {missing}. With predictions but no label (left out): "
            f"{unlabelled}."
        )


def load_dataset(
    predictions, labels, *, video_ids=None, return_report=False, **predictions_options
):
    """Read predictions and labels, matched by video id, as ``(videos, y)``.

    Parameters
    ----------
    predictions : any source accepted by `load_predictions`
        Frame predictions, for example a CSV file or a dict.

    labels : path, list of paths, dict, pandas Series or DataFrame
        Video labels. A DFDC ``metadata.json``, or a list of them, is read
        by `load_dfdc_labels`. A CSV or Parquet file or a DataFrame with
        ``video`` and ``label`` columns is read by `load_labels`. A dict
        or Series maps video id to label.

    video_ids : array-like, default=None
        The videos to return, in this order. Each must have a label. By
        default, every labelled video, in the order of ``labels``.

    return_report : bool, default=False
        Also return a `DatasetReport`.

    **predictions_options
        Passed to `load_predictions`, such as ``score="p_fake"`` or
        ``allow_pickle=True``.

    Returns
    -------
    videos : RaggedFrames
        One video per returned id, ``ids`` set. A labelled video without
        predictions has no frames, so estimators give it their
        ``fill_value``; a UserWarning counts and names such videos.

    y : ndarray of shape (n_videos,)
        Labels of the videos.

    report : DatasetReport
        Only with ``return_report=True``.

    Raises
    ------
    ValueError
        If a video of ``video_ids`` has no label, a label is None or NaN,
        the labels contain no videos, or no labelled video has
        predictions. Also for the mismatched ids that `align_videos`
        rejects.

    Notes
    -----
    Videos with predictions but no label cannot be scored, so they are
    left out, with a UserWarning that counts and names them, unless
    ``video_ids`` is given.

    Examples
    --------
    >>> import skpool
    >>> predictions = {"a.mp4": [0.9, 0.7], "c.mp4": [0.2]}
    >>> metadata = {"a.mp4": {"label": "FAKE"}, "b.mp4": {"label": "REAL"},
    ...             "c.mp4": {"label": "REAL"}}
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # b.mp4 has no predictions
    ...     videos, y, report = skpool.load_dataset(
    ...         predictions, metadata, return_report=True
    ...     )
    >>> videos.ids
    array(['a.mp4', 'b.mp4', 'c.mp4'], dtype=object)
    >>> videos.lengths, y
    (array([2, 0, 1]), array([1, 0, 0]))
    >>> report.missing_predictions, report.unlabelled
    (['b.mp4'], [])
    """
    for reserved in ("video_ids", "missing"):
        if reserved in predictions_options:
            raise TypeError(
                f"load_dataset sets {reserved} of load_predictions itself; pass "
                "video_ids to load_dataset instead."
            )
    label_series = _read_any_labels(labels)
    videos = load_predictions(predictions, **predictions_options)
    predicted = pd.Index(videos.ids, dtype=object)

    if video_ids is None:
        requested = _object_array(label_series.index.tolist())
        unlabelled = predicted[~predicted.isin(label_series.index)].tolist()
        if unlabelled:
            _warn(
                f"{len(unlabelled)} videos have predictions but no label and are "
                f"left out: {_few(unlabelled)}."
            )
    else:
        requested = _object_array(list(video_ids))
        unlabelled = []
    y = _labels_for(label_series, requested, "error")

    absent = ~pd.Index(requested, dtype=object).isin(predicted)
    missing_predictions = requested[absent].tolist()
    if missing_predictions:
        _warn(
            f"{len(missing_predictions)} of {len(requested)} labelled videos have "
            f"no predictions: {_few(missing_predictions)}. They are kept as videos "
            "without frames, which estimators give their fill_value."
        )
    videos = _align(videos, requested, "ignore")
    if len(requested) and len(missing_predictions) == len(requested):
        _raise_no_match(requested, predicted, "labelled")
    if return_report:
        report = DatasetReport(len(requested), missing_predictions, unlabelled)
        return videos, y, report
    return videos, y


def _read_any_labels(labels):
    if isinstance(labels, pd.Series):
        series = labels.set_axis(_object_array(labels.index.tolist()))
        return _merge_labels([_check_label_values(series, "the labels Series")])
    if isinstance(labels, pd.DataFrame):
        return load_labels(labels)
    if isinstance(labels, Mapping):
        values = list(labels.values())
        if values and all(isinstance(value, Mapping) for value in values):
            return load_dfdc_labels(labels)
        index = pd.Index(_object_array(list(labels.keys())), dtype=object)
        series = pd.Series(values, index=index, dtype=object, name="label")
        series = _check_label_values(series, "the labels dict")
        return series.infer_objects()
    if isinstance(labels, (list, tuple)):
        return load_dfdc_labels(labels)
    if _is_path(labels):
        if _suffix(labels) == ".json":
            return load_dfdc_labels(labels)
        return load_labels(labels)
    raise TypeError(
        "labels must be a metadata.json path, a CSV or Parquet path, a DataFrame, "
        f"a dict or a pandas Series; got {type(labels).__name__}."
    )


def _check_label_values(labels, name):
    """Reject an empty label mapping and videos whose label is None or NaN."""
    if len(labels) == 0:
        raise ValueError(f"{_start(name)} contains no videos.")
    missing = labels.isna().to_numpy()
    if missing.any():
        names = labels.index[missing].tolist()
        raise ValueError(
            f"{_start(name)} gives {len(names)} videos no label (None or NaN): "
            f"{_few(names)}. Give every video a label, or leave it out."
        )
    return labels


# Writing a submission ---------------------------------------------------


def write_submission(path, video_ids, proba):
    """Write a Deepfake Detection Challenge submission CSV.

    The file has a header ``filename,label`` and one row per video, in the
    order given, where ``label`` is the probability that the video is
    FAKE.

    Parameters
    ----------
    path : str or path-like
        The CSV file to write.

    video_ids : array-like of shape (n_videos,)
        File names of the videos, such as ``videos.ids``. Each must be
        unique.

    proba : array-like of shape (n_videos,)
        P(FAKE) of each video, such as ``model.predict_proba(videos)[:, 1]``
        for labels 0 (REAL) and 1 (FAKE). Every value must be finite and
        in [0, 1].

    Returns
    -------
    pandas.DataFrame
        The table written.
    """
    if isinstance(video_ids, str):
        raise TypeError("video_ids must be a sequence of file names, not one string.")
    ids = _object_array(list(video_ids))
    proba = np.asarray(proba)
    if proba.ndim != 1:
        raise ValueError(
            f"proba must be 1-D, one P(FAKE) per video; got shape {proba.shape}. "
            "From predict_proba, pass proba[:, 1]."
        )
    if proba.dtype.kind not in "iuf":
        raise ValueError(f"proba must hold numbers; got dtype {proba.dtype}.")
    if len(ids) != len(proba):
        raise ValueError(
            f"Got {len(ids)} video ids and {len(proba)} probabilities; pass one "
            "probability per video."
        )
    missing_ids = pd.isna(pd.Series(ids, dtype=object)).to_numpy()
    if missing_ids.any():
        raise ValueError(
            f"{int(missing_ids.sum())} video ids are missing, at positions "
            f"{_few(np.flatnonzero(missing_ids).tolist())}."
        )
    _check_unique_ids(ids, "video_ids")
    proba = proba.astype(np.float64)
    checks = (
        (
            ~np.isfinite(proba),
            "not finite",
            "Replace them before writing, for example with the estimator's fill_value.",
        ),
        (
            (proba < 0) | (proba > 1),
            "outside [0, 1]",
            "Pass probabilities, such as predict_proba(X)[:, 1], not "
            "decision_function values or log-odds.",
        ),
    )
    for bad, problem, advice in checks:
        if bad.any():
            positions = np.flatnonzero(bad)
            examples = [f"{ids[i]!r}: {float(proba[i])!r}" for i in positions[:5]]
            more = " and more" if positions.size > 5 else ""
            raise ValueError(
                f"{positions.size} probabilities are {problem}: "
                f"{', '.join(examples)}{more}. {advice}"
            )
    table = pd.DataFrame({"filename": ids, "label": proba})
    table.to_csv(path, index=False)
    return table
