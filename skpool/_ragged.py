"""Ragged container: one variable-length sequence of frames per video."""

import contextlib
from collections import OrderedDict
from collections.abc import Mapping
from numbers import Integral

import numpy as np

from ._segments import gather_index, offsets_from_lengths

__all__ = ["RaggedFrames", "as_ragged"]

# Pooled values kept per root container, keyed by statistic and parameters.
_POOLED_CACHE_SIZE = 64


class RaggedFrames:
    """Frames of many videos stored as one flat array plus offsets.

    Video ``i`` owns ``values[offsets[i]:offsets[i + 1]]``. The values are
    frame scores (1-D ``values``) or frame feature vectors (2-D ``values``,
    one row per frame). NaN frame scores are kept in place and ignored by
    every statistic.

    The container behaves like a 1-D array of videos for scikit-learn: it
    has ``shape == (n_videos,)``, ``len`` and ``__getitem__``, so
    splitters, ``GridSearchCV``, ``cross_val_score``,
    ``cross_val_predict`` and ``train_test_split`` subset it without
    building one Python object per video. Indexing with an integer
    returns that video's frames as a read-only array. Indexing with a
    slice, integer array or boolean mask returns a new ``RaggedFrames``
    with the same ``ids`` subset. That subset is a view: it keeps a
    reference to the full container and copies nothing until its frames
    are read.

    Parameters
    ----------
    values : array-like of shape (n_frames_total,) or (n_frames_total, n_features)
        Frames of all videos, concatenated in video order. Stored as
        float64.

    offsets : array-like of int of shape (n_videos + 1,)
        Start of each video in ``values``, followed by ``len(values)``.
        Must start at 0 and never decrease.

    ids : array-like of shape (n_videos,), default=None
        Video identifiers, such as file names, carried along when the
        container is subset.

    Attributes
    ----------
    values : ndarray of float64
        The frames, read-only.

    offsets : ndarray of int64 of shape (n_videos + 1,)
        Video boundaries in ``values``, read-only.

    ids : ndarray of shape (n_videos,) or None
        Video identifiers.

    See Also
    --------
    as_ragged : Convert a list of arrays, a padded 2-D array or a container
        into a ``RaggedFrames``.

    Examples
    --------
    >>> from skpool import RaggedFrames
    >>> videos = RaggedFrames.from_list([[0.1, 0.9], [0.4]], ids=["a.mp4", "b.mp4"])
    >>> len(videos)
    2
    >>> videos.lengths
    array([2, 1])
    >>> videos[[1]].ids
    array(['b.mp4'], dtype=object)
    """

    def __init__(self, values, offsets, ids=None):
        values = np.asarray(_fill_masked(values))
        if values.dtype.kind not in "biuf":
            raise TypeError(
                f"RaggedFrames values must be numeric; got dtype {values.dtype}. "
                "Convert scores with np.asarray(..., dtype=float) first."
            )
        if values.ndim not in (1, 2):
            raise ValueError(
                "RaggedFrames values must be 1-D (one score per frame) or 2-D "
                f"(one feature row per frame); got {values.ndim} dimensions."
            )
        values = np.ascontiguousarray(values, dtype=np.float64)
        offsets = np.asarray(offsets)
        if offsets.ndim != 1 or offsets.size == 0 or offsets.dtype.kind not in "iu":
            raise ValueError(
                "offsets must be a 1-D integer array of length n_videos + 1; got "
                f"shape {offsets.shape} and dtype {offsets.dtype}."
            )
        offsets = offsets.astype(np.int64)
        if offsets[0] != 0 or offsets[-1] != len(values):
            raise ValueError(
                f"offsets must start at 0 and end at len(values)={len(values)}; "
                f"got {offsets[0]} and {offsets[-1]}."
            )
        if np.any(np.diff(offsets) < 0):
            bad = int(np.flatnonzero(np.diff(offsets) < 0)[0])
            raise ValueError(
                f"offsets must never decrease; offsets[{bad + 1}] < offsets[{bad}]."
            )
        self._set_arrays(values, offsets, _check_ids(ids, len(offsets) - 1))
        self._base = None
        self._index = None

    def _set_arrays(self, values, offsets, ids):
        values.flags.writeable = False
        offsets.flags.writeable = False
        if ids is not None:
            ids.flags.writeable = False
        self._values = values
        self._offsets = offsets
        self._ids = ids
        self._sorted = None
        self._range = None
        self._pooled = OrderedDict()
        self._materialized = None

    # Construction from other forms ------------------------------------

    @classmethod
    def from_lengths(cls, values, lengths, ids=None):
        """Build a container from concatenated frames and per-video lengths.

        Parameters
        ----------
        values : array-like of shape (n_frames_total,) or (n_frames_total, n_features)
            Frames of all videos, concatenated in video order.

        lengths : array-like of int of shape (n_videos,)
            Number of frames of each video, zero allowed.

        ids : array-like of shape (n_videos,), default=None
            Video identifiers.

        Returns
        -------
        RaggedFrames
        """
        lengths = np.asarray(lengths)
        if lengths.ndim != 1 or (lengths.size and lengths.dtype.kind not in "iu"):
            raise ValueError(
                f"lengths must be a 1-D integer array; got shape {lengths.shape} "
                f"and dtype {lengths.dtype}."
            )
        if np.any(lengths < 0):
            bad = int(np.flatnonzero(lengths < 0)[0])
            raise ValueError(
                f"lengths must be non-negative; lengths[{bad}] is {lengths[bad]}."
            )
        return cls(values, offsets_from_lengths(lengths), ids=ids)

    @classmethod
    def from_list(cls, videos, ids=None):
        """Build a container from a sequence of per-video arrays.

        Parameters
        ----------
        videos : sequence of array-like
            One 1-D array of frame scores per video, or one 2-D array of
            frame features (frames x features) per video. Lengths may
            differ; an empty video is allowed.

        ids : array-like of shape (n_videos,), default=None
            Video identifiers. Taken from the index of a pandas Series
            when not given.

        Returns
        -------
        RaggedFrames
        """
        if ids is None and hasattr(videos, "index") and hasattr(videos, "iloc"):
            ids = np.asarray(videos.index, dtype=object)
            videos = list(videos)
        arrays = []
        ndim = None
        for position, video in enumerate(videos):
            array = _video_to_array(video, position, ids)
            if array.size == 0 and array.ndim == 1 and ndim == 2:
                array = array.reshape(0, arrays[0].shape[1])
            if ndim is None and array.size:
                ndim = array.ndim
            elif array.size and array.ndim != ndim:
                raise ValueError(
                    f"{_name_video(position, ids)} has {array.ndim}-D frames but "
                    f"earlier videos have {ndim}-D frames; every video must hold "
                    "either 1-D scores or 2-D features."
                )
            arrays.append(array)
        if ndim == 2:
            widths = {a.shape[1] for a in arrays if a.size}
            if len(widths) > 1:
                raise ValueError(
                    "Videos have different numbers of frame features: "
                    f"{sorted(widths)}."
                )
            width = widths.pop()
            arrays = [a.reshape(-1, width) if a.size == 0 else a for a in arrays]
        lengths = np.array([len(a) for a in arrays], dtype=np.int64)
        if arrays and sum(lengths):
            values = np.concatenate([a for a in arrays if len(a)], axis=0)
        else:
            values = np.empty(0, dtype=np.float64)
        return cls.from_lengths(values, lengths, ids=ids)

    @classmethod
    def from_padded(cls, array, ids=None):
        """Build a container from a 2-D array padded with NaN.

        Each row is one video and each column one frame. Trailing NaN
        values are padding; a NaN inside a row is a missing frame, which
        every statistic ignores in the same way.

        Parameters
        ----------
        array : array-like of shape (n_videos, max_frames)
            Frame scores, one row per video.

        ids : array-like of shape (n_videos,), default=None
            Video identifiers.

        Returns
        -------
        RaggedFrames
        """
        array = np.asarray(_fill_masked(array))
        if array.ndim != 2:
            raise ValueError(
                "A padded array must be 2-D with one row per video and one column "
                f"per frame; got {array.ndim} dimensions."
            )
        array = _as_float(array, "the padded array")
        present = ~np.isnan(array)
        # Keep frames up to the last non-NaN one in each row, so NaN holes
        # inside a row stay where they are and trailing padding goes.
        width = array.shape[1]
        if width == 0:
            # No frame columns: every video is empty.
            last = np.zeros(array.shape[0], dtype=np.int64)
        else:
            last_present = width - np.argmax(present[:, ::-1], axis=1)
            last = np.where(present.any(axis=1), last_present, 0)
        keep = np.arange(width) < last[:, None]
        return cls.from_lengths(array[keep], last.astype(np.int64), ids=ids)

    @classmethod
    def from_dict(cls, mapping):
        """Build a container from ``{video_id: frames}``, ids in key order."""
        if not isinstance(mapping, Mapping):
            raise TypeError(f"Expected a dict of arrays; got {type(mapping).__name__}.")
        ids = np.empty(len(mapping), dtype=object)
        ids[:] = list(mapping.keys())
        return cls.from_list(list(mapping.values()), ids=ids)

    # Array-like protocol ------------------------------------------------

    @property
    def values(self):
        self._materialize()
        return self._values

    @property
    def offsets(self):
        self._materialize()
        return self._offsets

    @property
    def ids(self):
        if self._base is not None:
            base_ids = self._base._ids
            return None if base_ids is None else base_ids[self._index]
        return self._ids

    @property
    def shape(self):
        return (len(self),)

    @property
    def ndim(self):
        return 1

    @property
    def n_features(self):
        """Number of features per frame, or None for 1-D frame scores."""
        root = self._root()
        return None if root._values.ndim == 1 else root._values.shape[1]

    @property
    def lengths(self):
        """Number of stored frames per video, NaN frames included."""
        root = self._root()
        lengths = np.diff(root._offsets)
        return lengths if self._base is None else lengths[self._index]

    def __len__(self):
        if self._base is not None:
            return len(self._index)
        return len(self._offsets) - 1

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, key):
        # scikit-learn's _safe_indexing indexes objects with a ``shape`` as
        # ``X[key, ...]``.
        if isinstance(key, tuple):
            if len(key) == 2 and key[1] is Ellipsis:
                key = key[0]
            else:
                raise IndexError(
                    "RaggedFrames supports one index (videos); got a tuple "
                    f"of length {len(key)}."
                )
        n_videos = len(self)
        if isinstance(key, Integral) and not isinstance(key, bool):
            position = int(key)
            if not -n_videos <= position < n_videos:
                raise IndexError(
                    f"Video index {position} is out of range for {n_videos} videos."
                )
            position %= n_videos
            root = self._root()
            if self._base is not None:
                position = int(self._index[position])
            return root._values[root._offsets[position] : root._offsets[position + 1]]
        if isinstance(key, slice):
            index = np.arange(n_videos)[key]
        else:
            index = _as_index(key, n_videos)
        if self._base is not None:
            index = self._index[index]
        view = object.__new__(RaggedFrames)
        view._base = self._root()
        view._index = index
        view._materialized = None
        return view

    def __repr__(self):
        lengths = self.lengths
        kind = "scores" if self.n_features is None else f"{self.n_features} features"
        span = f"{lengths.min()}-{lengths.max()}" if len(lengths) else "0"
        return (
            f"RaggedFrames(n_videos={len(self)}, n_frames={int(lengths.sum())}, "
            f"frames per video {span}, {kind})"
        )

    def __sizeof__(self):
        # dask.sizeof falls back to sys.getsizeof, and joblib's dask backend
        # scatters an argument to the workers once only when its size is
        # above 1 kB. Without this, a search under parallel_backend("dask")
        # embeds the whole container in every task it sends.
        root = self._root()
        if self._base is None:
            arrays = [root._values, root._offsets, root._ids]
            if root._sorted is not None:
                arrays += [root._sorted.values, root._sorted.offsets]
            arrays += list(root._pooled.values())
            return object.__sizeof__(self) + sum(
                array.nbytes for array in arrays if array is not None
            )
        # A view pickles as its own frames, offsets, ids and sorted scores.
        n_frames = int(self.lengths.sum())
        frame_bytes = root._values[:1].nbytes * n_frames
        return object.__sizeof__(self) + 2 * frame_bytes + 24 * (len(self) + 1)

    # Conversion ---------------------------------------------------------

    def to_list(self):
        """Return one array of frames per video."""
        return [np.array(video) for video in self]

    def to_padded(self, fill_value=np.nan):
        """Return a 2-D array, one row per video, padded with ``fill_value``."""
        if self.n_features is not None:
            raise ValueError(
                "to_padded needs 1-D frame scores; these videos hold features."
            )
        lengths = self.lengths
        width = int(lengths.max()) if len(lengths) else 0
        padded = np.full((len(self), width), fill_value, dtype=np.float64)
        padded[np.arange(width) < lengths[:, None]] = self.values
        return padded

    def to_dict(self):
        """Return ``{video_id: frames}``; needs ``ids``."""
        ids = self.ids
        if ids is None:
            raise ValueError("to_dict needs video ids; build the container with ids=.")
        return dict(zip(ids.tolist(), self.to_list(), strict=True))

    def frame_video_index(self):
        """Return, for every stored frame, the position of its video."""
        return np.repeat(np.arange(len(self)), self.lengths)

    # Internals shared with the statistics ------------------------------

    def _root(self):
        return self if self._base is None else self._base

    def _materialize(self):
        if self._base is None or self._materialized is not None:
            return
        base = self._base
        lengths = np.diff(base._offsets)[self._index]
        gather = gather_index(base._offsets[:-1][self._index], lengths)
        self._values = base._values[gather]
        self._offsets = offsets_from_lengths(lengths)
        self._values.flags.writeable = False
        self._offsets.flags.writeable = False
        self._materialized = True

    def __getstate__(self):
        # A view pickles as a standalone container, so that a small subset
        # of a large container does not carry the whole of it.
        root = self._root()
        if root._values.ndim == 1:
            root._sorted_frames()
        # Pooled values are one float per video and statistic, small next to
        # the frames, and they spare the receiving process the pooling. The
        # items are copied to a list first because a Dask worker may pickle
        # the container while another thread adds to the cache.
        pooled = list(root._pooled.items())
        if self._base is None:
            return {
                "values": self._values,
                "offsets": self._offsets,
                "ids": self._ids,
                "sorted": self._sorted,
                "range": self._range,
                "pooled": _stack_pooled(pooled, None),
            }
        sorted_frames = None
        if root._values.ndim == 1:
            sorted_frames = root._sorted_frames().take(self._index)
        self._materialize()
        return {
            "values": self._values,
            "offsets": self._offsets,
            "ids": self.ids,
            "sorted": sorted_frames,
            "range": root._range,
            "pooled": _stack_pooled(pooled, self._index),
        }

    def __setstate__(self, state):
        self._set_arrays(
            np.asarray(state["values"]), np.asarray(state["offsets"]), state["ids"]
        )
        self._sorted = state["sorted"]
        self._range = state["range"]
        keys, matrix = state.get("pooled", ((), None))
        for key, pooled in zip(keys, () if matrix is None else matrix, strict=True):
            if pooled.flags.writeable:
                pooled.flags.writeable = False
            self._pooled[key] = pooled
        self._base = None
        self._index = None

    def _sorted_frames(self):
        """Return the non-NaN frame scores sorted within each video.

        Computed once per full container and shared by all its views, so a
        search over many statistics and folds sorts the frames once.
        """
        root = self._root()
        if root._sorted is None:
            if root._values.ndim != 1:
                raise ValueError(
                    "These videos hold frame features, not scores; score the "
                    "frames first, for example with skpool.FrameScorer."
                )
            root._sorted = SortedFrames.from_ragged(root._values, root._offsets)
        if self._base is None:
            return root._sorted
        return root._sorted.take(self._index)

    def _value_range(self):
        """Return (min, max) over the non-NaN values of the full container.

        A container without a non-NaN value gives ``(0.0, 0.0)``.
        """
        root = self._root()
        if root._range is None:
            finite = root._values[~np.isnan(root._values)]
            if finite.size:
                root._range = (float(finite.min()), float(finite.max()))
            else:
                root._range = (0.0, 0.0)
        return root._range

    def _pooled_values(self, key, compute):
        """Return ``compute(sorted_frames)`` for these videos, cached on the root.

        Statistics are per video, so the value for a view is the full
        container's value at the view's positions.
        """
        root = self._root()
        cache = root._pooled
        pooled = cache.get(key)
        if pooled is not None:
            # Under a threaded search another thread may evict the key between
            # get and move_to_end, and the value already read is still valid.
            with contextlib.suppress(KeyError):
                cache.move_to_end(key)
        else:
            pooled = compute(root._sorted_frames())
            pooled.flags.writeable = False
            cache[key] = pooled
            if len(cache) > _POOLED_CACHE_SIZE:
                cache.popitem(last=False)
        return pooled if self._base is None else pooled[self._index]


class SortedFrames:
    """Non-NaN frame scores sorted ascending within each video.

    ``values[offsets[i]:offsets[i + 1]]`` are video ``i``'s valid scores in
    increasing order; ``counts`` are their numbers (0 for an empty or
    all-NaN video).
    """

    def __init__(self, values, offsets):
        self.values = values
        self.offsets = offsets
        self.counts = np.diff(offsets)
        self._video_index = None
        # Per-video arrays that several statistics share (each video's
        # lowest and highest score), computed on first use by skpool._stats.
        self._derived = {}

    @classmethod
    def from_ragged(cls, values, offsets):
        lengths = np.diff(offsets)
        missing = np.isnan(values)
        if missing.any():
            # Count the NaN frames of each video from their positions, which
            # are few, rather than summing a per-frame indicator.
            video_of_missing = np.searchsorted(
                offsets, np.flatnonzero(missing), side="right"
            ) - 1
            counts = lengths - np.bincount(video_of_missing, minlength=len(lengths))
            compact = values[~missing]
        else:
            counts = lengths
            compact = values.copy()
        del missing
        compact_offsets = offsets_from_lengths(counts)
        _sort_segments(compact, compact_offsets)
        return cls(compact, compact_offsets)

    def take(self, index):
        counts = self.counts[index]
        gather = gather_index(self.offsets[:-1][index], counts)
        return SortedFrames(self.values[gather], offsets_from_lengths(counts))

    @property
    def video_index(self):
        """Position of the video of every value."""
        if self._video_index is None:
            self._video_index = np.repeat(np.arange(len(self.counts)), self.counts)
        return self._video_index

    def __getstate__(self):
        # video_index is as large as the values and cheap to rebuild, so a
        # pickled container sent to Dask workers leaves it out.
        return {"values": self.values, "offsets": self.offsets}

    def __setstate__(self, state):
        self.__init__(state["values"], state["offsets"])

    def __len__(self):
        return len(self.counts)


def _sort_segments(values, offsets, block_size=1 << 16):
    """Sort ``values`` within each segment, in place, with padded row sorts.

    Segments are taken in order of length and copied, a block at a time,
    into a 2-D array padded with ``+inf`` (one row per segment, about
    ``block_size`` cells), which ``ndarray.sort(axis=1)`` sorts row by row.
    Ordering by length keeps the padding small, and the block bounds the
    extra memory whatever the number of frames. ``values`` must not
    contain NaN.
    """
    counts = np.diff(offsets)
    order = np.argsort(counts, kind="stable")
    sorted_counts = counts[order]
    n_segments = len(counts)
    # Segments of 0 or 1 value are already sorted.
    start = int(np.searchsorted(sorted_counts, 2))
    while start < n_segments:
        # The block ends where rows x widest row would exceed block_size,
        # with at least one row.
        max_rows = max(1, block_size // int(sorted_counts[start]))
        widths = sorted_counts[start : start + max_rows]
        cells = np.arange(1, len(widths) + 1) * widths
        stop = start + max(1, int(np.searchsorted(cells, block_size, side="right")))
        chosen = order[start:stop]
        lengths = sorted_counts[start:stop]
        columns = np.arange(int(lengths[-1]))
        mask = columns < lengths[:, None]
        source = (offsets[chosen][:, None] + columns)[mask]
        padded = np.full(mask.shape, np.inf)
        padded[mask] = values[source]
        padded.sort(axis=1)
        values[source] = padded[mask]
        start = stop
    return values


def _stack_pooled(items, index):
    """Pack cached pooled values into (keys, one 2-D array) for pickling.

    joblib memory-maps arrays above 1 MB instead of copying them into every
    batch of tasks. One array per statistic (8 bytes per video) is often
    below that size, so the cache travels as one array.
    """
    if not items:
        return (), None
    keys = [key for key, _ in items]
    rows = [pooled if index is None else pooled[index] for _, pooled in items]
    matrix = np.stack(rows)
    return keys, matrix


def _as_index(key, n_videos):
    key = np.asarray(key)
    if key.dtype == bool:
        if key.shape != (n_videos,):
            raise IndexError(
                f"Boolean mask of shape {key.shape} does not match {n_videos} videos."
            )
        return np.flatnonzero(key)
    if key.ndim != 1 or (key.size and key.dtype.kind not in "iu"):
        raise IndexError(
            "RaggedFrames is indexed by an integer, a slice, a 1-D integer array "
            f"or a boolean mask; got an array of dtype {key.dtype} and shape "
            f"{key.shape}."
        )
    key = key.astype(np.int64)
    if key.size and (key.min() < -n_videos or key.max() >= n_videos):
        bad = key[(key < -n_videos) | (key >= n_videos)][0]
        raise IndexError(
            f"Video index {int(bad)} is out of range for {n_videos} videos."
        )
    return np.where(key < 0, key + n_videos, key)


def _check_ids(ids, n_videos):
    if ids is None:
        return None
    if isinstance(ids, str):
        raise TypeError("ids must be a sequence of video identifiers, not one string.")
    array = np.empty(len(ids), dtype=object)
    array[:] = list(ids)
    if len(array) != n_videos:
        raise ValueError(f"Got {len(array)} ids for {n_videos} videos.")
    return array


def _name_video(position, ids):
    if ids is not None and position < len(ids):
        return f"Video {ids[position]!r} (position {position})"
    return f"Video at position {position}"


def _as_float(array, what):
    if array.dtype.kind in "biuf":
        return array.astype(np.float64, copy=False)
    if array.dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: {what} has dtype {array.dtype}. Frame "
            "scores must be real floats."
        )
    if array.dtype.kind == "O":
        # float() would parse "0.5", but a string among scores means they
        # were read as text; load_predictions rejects them the same way.
        strings = [value for value in array.flat if isinstance(value, (str, bytes))]
        if strings:
            raise ValueError(
                f"{what} contains strings, such as {strings[0]!r}; frame scores "
                "must be numbers. Convert them with pandas.to_numeric first."
            )
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError) as error:
            # Keep the exception type: TypeError for objects such as dicts,
            # ValueError for strings that are not numbers.
            raise type(error)(
                f"{what} contains values that are not numbers ({error}); frame "
                "scores must be floats."
            ) from None
    raise ValueError(
        f"{what} has dtype {array.dtype}; frame scores must be floats."
    )


def _fill_masked(array):
    """Return a numeric masked array as float64 with NaN, the missing-frame marker.

    np.asarray drops the mask, so masked frames would otherwise be pooled.
    Anything else is returned unchanged.
    """
    if isinstance(array, np.ma.MaskedArray) and array.dtype.kind in "biuf":
        return array.astype(np.float64).filled(np.nan)
    return array


def _video_to_array(video, position, ids):
    if isinstance(video, (str, bytes, Mapping)):
        raise TypeError(
            f"{_name_video(position, ids)} is a {type(video).__name__}; each video "
            "must be an array of frame scores."
        )
    try:
        array = np.asarray(_fill_masked(video))
    except ValueError as error:
        raise ValueError(
            f"{_name_video(position, ids)} could not be read as an array: {error}"
        ) from None
    if array.ndim == 0:
        raise ValueError(
            f"{_name_video(position, ids)} is a single number ({array!r}); each "
            "video must be a 1-D array of frame scores. Wrap a one-frame video "
            "as [score]."
        )
    if array.ndim > 2:
        raise ValueError(
            f"{_name_video(position, ids)} has {array.ndim} dimensions; expected "
            "1-D frame scores or 2-D frame features."
        )
    try:
        return _as_float(array, _name_video(position, ids))
    except ValueError as error:
        raise ValueError(str(error)) from None


def as_ragged(X, *, ids=None):
    """Convert one of the accepted input forms into a `RaggedFrames`.

    Parameters
    ----------
    X : RaggedFrames, list of array-like, pandas Series of arrays, 1-D object \
            array of arrays, or 2-D float array
        Frames of several videos. A 2-D float array is one row per video,
        padded with NaN; a 2-D array whose rows all have the same length is
        read the same way, videos by frames.

    ids : array-like of shape (n_videos,), default=None
        Video identifiers for forms that do not carry them.

    Returns
    -------
    RaggedFrames

    Raises
    ------
    TypeError
        For a dict (use `RaggedFrames.from_dict` or
        `skpool.load_predictions`), a DataFrame or a string.
    ValueError
        For a 1-D float array, which could be one video or one frame per
        video.
    """
    if isinstance(X, RaggedFrames):
        return X
    X = _fill_masked(X)
    if isinstance(X, Mapping):
        raise TypeError(
            "Got a dict; convert {video_id: frames} with "
            "skpool.RaggedFrames.from_dict(d) or skpool.load_predictions(d), "
            "which keep the video ids."
        )
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"Got a string ({X!r:.60}); pass frame scores, or load a file with "
            "skpool.load_predictions(path)."
        )
    if hasattr(X, "columns") or hasattr(X, "column_names"):
        # Any table (pandas, polars, pyarrow): a polars DataFrame would
        # otherwise pass through __array__ and read a long table's rows,
        # (video, frame, score), as videos.
        raise TypeError(
            "Got a DataFrame; a long table of frame scores (one row per frame) "
            "is read with skpool.load_predictions(df, video=..., score=...), and a "
            "wide table (one row per video) with X.to_numpy()."
        )
    if hasattr(X, "iloc"):
        return RaggedFrames.from_list(X, ids=ids)
    if not isinstance(X, np.ndarray) and hasattr(X, "__array__"):
        # Other array-likes that define __array__, such as xarray objects.
        X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 2:
            return RaggedFrames.from_padded(X, ids=ids)
        if X.ndim == 1:
            raise ValueError(
                f"Got a 1-D array of {len(X)} numbers, which is ambiguous. Reshape "
                "your data: for one video, pass [frames] (a list holding one array); "
                "for one frame per video, pass frames.reshape(-1, 1)."
            )
        raise ValueError(
            f"Got a {X.ndim}-D array; pass a 2-D array (videos x frames, NaN "
            "padded) or a list of 1-D arrays."
        )
    if isinstance(X, np.ndarray) or isinstance(X, (list, tuple)):
        if len(X) and all(np.ndim(video) == 0 for video in X[:1]):
            first = X[0]
            is_number = isinstance(first, (Integral, float, np.number))
            if is_number and not isinstance(first, bool):
                raise ValueError(
                    f"Got a flat list of {len(X)} numbers, which is ambiguous. For "
                    "one video, pass [frames]; for one frame per video, pass "
                    "[[score] for score in frames]."
                )
        return RaggedFrames.from_list(X, ids=ids)
    raise TypeError(
        f"Cannot read frames from {type(X).__name__}; pass a RaggedFrames, a list "
        "of 1-D arrays, a pandas Series of arrays or a 2-D NaN-padded array."
    )
