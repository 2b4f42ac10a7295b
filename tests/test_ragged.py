"""RaggedFrames: construction, views, pickling, errors and the per-video sort."""

import pickle
from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest

from skpool import RaggedFrames, as_ragged
from skpool._stats import pool_frames

VIDEOS = [
    np.array([0.1, 0.9, 0.4]),
    np.array([]),
    np.array([0.5, np.nan, 0.7, 0.2]),
    np.array([0.3]),
    np.array([np.nan, np.nan]),
]
IDS = ["a.mp4", "b.mp4", "c.mp4", "d.mp4", "e.mp4"]


def assert_same_videos(videos, expected):
    """Check that a RaggedFrames contains exactly the given per-video arrays."""
    assert len(videos) == len(expected)
    for position, frames in enumerate(expected):
        np.testing.assert_array_equal(videos[position], frames)


# Construction.


def test_from_list_values_offsets_lengths():
    """from_list concatenates the videos and records their boundaries."""
    videos = RaggedFrames.from_list(VIDEOS, ids=IDS)

    np.testing.assert_array_equal(videos.lengths, [3, 0, 4, 1, 2])
    np.testing.assert_array_equal(videos.offsets, [0, 3, 3, 7, 8, 10])
    np.testing.assert_array_equal(videos.values, np.concatenate(VIDEOS))
    assert videos.values.dtype == np.float64
    assert videos.shape == (5,)
    assert videos.ndim == 1
    assert list(videos.ids) == IDS
    assert_same_videos(videos, VIDEOS)


def test_from_list_integer_and_float32_videos():
    """Integer and float32 frames are stored as float64."""
    videos = RaggedFrames.from_list([np.array([0, 1]), np.float32([0.25])])

    assert videos.values.dtype == np.float64
    np.testing.assert_array_equal(videos.values, [0.0, 1.0, 0.25])


def test_from_series_takes_ids_from_index():
    """A pandas Series of arrays gives its index as the ids."""
    series = pd.Series(list(VIDEOS), index=IDS)

    videos = as_ragged(series)

    assert list(videos.ids) == IDS
    assert_same_videos(videos, VIDEOS)


def test_from_padded_strips_trailing_nan_only():
    """Trailing NaN is padding, while a NaN inside a row is a missing frame."""
    padded = np.array(
        [
            [0.1, 0.9, 0.4, np.nan, np.nan],
            [np.nan, np.nan, np.nan, np.nan, np.nan],
            [0.5, np.nan, 0.7, 0.2, np.nan],
            [0.3, np.nan, np.nan, np.nan, np.nan],
            [np.nan, 0.6, np.nan, np.nan, 0.8],
        ]
    )

    videos = as_ragged(padded)

    np.testing.assert_array_equal(videos.lengths, [3, 0, 4, 1, 5])
    np.testing.assert_array_equal(videos[0], [0.1, 0.9, 0.4])
    assert videos[1].size == 0
    np.testing.assert_array_equal(videos[2], [0.5, np.nan, 0.7, 0.2])
    np.testing.assert_array_equal(videos[3], [0.3])
    np.testing.assert_array_equal(videos[4], [np.nan, 0.6, np.nan, np.nan, 0.8])


def test_from_padded_without_columns():
    """A padded array with 0 columns gives videos with no frames."""
    videos = as_ragged(np.empty((4, 0)))

    np.testing.assert_array_equal(videos.lengths, [0, 0, 0, 0])


def test_from_padded_round_trip():
    """to_padded returns the padded array that built the container."""
    padded = np.array([[0.1, np.nan, 0.3], [0.4, np.nan, np.nan]])

    np.testing.assert_array_equal(as_ragged(padded).to_padded(), padded)


def test_from_dict_keeps_key_order_as_ids():
    """from_dict makes one video per key, ids in key order."""
    mapping = dict(zip(IDS, VIDEOS, strict=True))

    videos = RaggedFrames.from_dict(mapping)

    assert list(videos.ids) == IDS
    assert_same_videos(videos, VIDEOS)
    assert list(videos.to_dict()) == IDS


def test_from_lengths_matches_from_list():
    """from_lengths with the lengths of a list gives the same container."""
    values = np.concatenate(VIDEOS)

    videos = RaggedFrames.from_lengths(values, [len(v) for v in VIDEOS], ids=IDS)

    assert_same_videos(videos, VIDEOS)
    assert list(videos.ids) == IDS


def test_to_list_round_trip():
    """to_list returns writable copies equal to the input videos."""
    videos = RaggedFrames.from_list(VIDEOS)

    frames = videos.to_list()

    assert len(frames) == len(VIDEOS)
    for got, expected in zip(frames, VIDEOS, strict=True):
        np.testing.assert_array_equal(got, expected)
        assert got.flags.writeable


def test_frames_are_read_only():
    """Indexing one video returns a read-only array, so the cache stays valid."""
    videos = RaggedFrames.from_list(VIDEOS)

    assert not videos[0].flags.writeable
    assert not videos.values.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        videos[0][0] = 1.0


def test_as_ragged_returns_container_unchanged():
    videos = RaggedFrames.from_list(VIDEOS)

    assert as_ragged(videos) is videos


# Views.


@pytest.fixture
def videos():
    return RaggedFrames.from_list(VIDEOS, ids=IDS)


def test_int_index_returns_frames(videos):
    np.testing.assert_array_equal(videos[2], VIDEOS[2])
    np.testing.assert_array_equal(videos[-1], VIDEOS[-1])
    np.testing.assert_array_equal(videos[np.int64(3)], VIDEOS[3])


@pytest.mark.parametrize(
    "key, positions",
    [
        (slice(1, 4), [1, 2, 3]),
        (slice(None, None, -2), [4, 2, 0]),
        (np.array([4, 0, 2]), [4, 0, 2]),
        ([3, 3, 1], [3, 3, 1]),
        (np.array([-1, -5]), [4, 0]),
        (np.array([True, False, True, False, True]), [0, 2, 4]),
        ((np.array([2, 1]), Ellipsis), [2, 1]),
        ((slice(0, 2), Ellipsis), [0, 1]),
        (np.array([], dtype=np.int64), []),
    ],
    ids=[
        "slice",
        "negative-step",
        "int-array",
        "list-repeats",
        "negative",
        "bool-mask",
        "tuple-ellipsis",
        "tuple-slice",
        "empty",
    ],
)
def test_view_selects_videos_and_ids(videos, key, positions):
    """Every index form sklearn uses selects the right videos and ids."""
    view = videos[key]

    assert isinstance(view, RaggedFrames)
    assert len(view) == len(positions)
    assert list(view.ids) == [IDS[i] for i in positions]
    assert_same_videos(view, [VIDEOS[i] for i in positions])
    np.testing.assert_array_equal(view.lengths, [len(VIDEOS[i]) for i in positions])
    np.testing.assert_array_equal(
        view.values, np.concatenate([VIDEOS[i] for i in positions] + [np.array([])])
    )


def test_view_of_view(videos):
    """Indexing a view composes the indices."""
    view = videos[[4, 3, 2, 0]][np.array([False, True, True, False])][::-1]

    assert list(view.ids) == [IDS[2], IDS[3]]
    assert_same_videos(view, [VIDEOS[2], VIDEOS[3]])
    np.testing.assert_array_equal(view[-1], VIDEOS[3])


def test_view_without_ids(videos):
    plain = RaggedFrames.from_list(VIDEOS)

    assert plain[[0, 1]].ids is None


def test_view_pools_like_a_new_container(videos):
    """A statistic on a view equals the statistic on a container of the subset."""
    positions = [4, 0, 2, 2]
    subset = RaggedFrames.from_list([VIDEOS[i] for i in positions])

    for method in ["mean", "max", "median", "trimmed_mean", "confident"]:
        full = pool_frames(videos, method)
        from_view = pool_frames(videos[positions], method)

        np.testing.assert_array_equal(from_view, pool_frames(subset, method))
        np.testing.assert_array_equal(from_view, full[positions])


def test_sorted_frames_computed_once(videos):
    """Views share the full container's sorted frames."""
    first = videos._sorted_frames()
    videos[[0, 2]]._sorted_frames()
    videos[1:3]._sorted_frames()

    assert videos._sorted_frames() is first
    assert videos[[0, 2]]._base is videos


def test_sorted_frames_of_view(videos):
    """A view's sorted frames are its videos' non-NaN frames in order."""
    view = videos[[2, 4, 0]]

    frames = view._sorted_frames()

    np.testing.assert_array_equal(frames.counts, [3, 0, 3])
    np.testing.assert_array_equal(frames.values, [0.2, 0.5, 0.7, 0.1, 0.4, 0.9])


class EvictingCache(OrderedDict):
    """A cache from which another thread evicts every entry as it is reused."""

    def move_to_end(self, key, last=True):
        self.pop(key, None)
        super().move_to_end(key, last)


def test_pooled_cache_survives_eviction_by_another_thread(videos):
    """A cached value evicted between lookup and reuse is still returned."""
    expected = pool_frames(videos, "max")
    videos._pooled = EvictingCache(videos._pooled)

    pooled = pool_frames(videos[[0, 2]], "max")

    np.testing.assert_array_equal(pooled, expected[[0, 2]])


@pytest.mark.parametrize("key", [slice(1, 4), [4, 0, 2], np.array([True] * 5)])
def test_pickle_view_is_standalone(videos, key):
    """A pickled view loads as a container of only its videos, ids kept."""
    view = videos[key]
    pool_frames(videos, "mean")

    loaded = pickle.loads(pickle.dumps(view))

    assert loaded._base is None
    assert list(loaded.ids) == list(view.ids)
    assert_same_videos(loaded, view.to_list())
    assert loaded.values.size == view.values.size
    np.testing.assert_array_equal(
        pool_frames(loaded, "median"), pool_frames(view, "median")
    )
    # "mean" was cached on the full container before pickling, so this
    # reads the pooled values carried by the pickle.
    expected_mean = []
    for frames in view.to_list():
        valid = frames[~np.isnan(frames)]
        expected_mean.append(np.mean(valid) if valid.size else np.nan)
    np.testing.assert_allclose(
        pool_frames(loaded, "mean"), expected_mean, rtol=0, atol=1e-12
    )


def test_pickle_full_container(videos):
    loaded = pickle.loads(pickle.dumps(videos))

    assert list(loaded.ids) == IDS
    assert_same_videos(loaded, VIDEOS)
    np.testing.assert_array_equal(
        pool_frames(loaded, "max"), pool_frames(videos, "max")
    )


def test_repr_and_iteration(videos):
    assert "n_videos=5" in repr(videos)
    assert "n_frames=10" in repr(videos)
    assert len(list(videos)) == 5


def test_frame_features():
    """Videos of 2-D frame features keep one row per frame."""
    videos = RaggedFrames.from_list(
        [np.ones((3, 2)), np.zeros((0, 2)), np.ones((1, 2))]
    )

    assert videos.n_features == 2
    assert videos.values.shape == (4, 2)
    np.testing.assert_array_equal(videos.lengths, [3, 0, 1])
    assert videos[[2, 0]].values.shape == (4, 2)


# Errors.


@pytest.mark.parametrize(
    "offsets, message",
    [
        ([1, 3, 4], "must start at 0 and end at len"),
        ([0, 3, 5], "must start at 0 and end at len"),
        ([0, 3, 2, 4], r"never decrease; offsets\[2\] < offsets\[1\]"),
        ([0.0, 4.0], "1-D integer array"),
        ([[0, 4]], "1-D integer array"),
        ([], "1-D integer array"),
    ],
)
def test_bad_offsets(offsets, message):
    with pytest.raises(ValueError, match=message):
        RaggedFrames(np.arange(4.0), offsets)


def test_bad_ids():
    with pytest.raises(ValueError, match="Got 2 ids for 3 videos"):
        RaggedFrames.from_list([[0.1], [0.2], [0.3]], ids=["a", "b"])
    with pytest.raises(TypeError, match="not one string"):
        RaggedFrames.from_list([[0.1], [0.2]], ids="ab")


def test_bad_values():
    with pytest.raises(TypeError, match="must be numeric; got dtype <U"):
        RaggedFrames(np.array(["a", "b"]), [0, 2])
    with pytest.raises(ValueError, match="got 3 dimensions"):
        RaggedFrames(np.zeros((2, 2, 2)), [0, 2])


def test_bad_lengths():
    with pytest.raises(ValueError, match="non-negative"):
        RaggedFrames.from_lengths(np.zeros(2), [3, -1])
    with pytest.raises(ValueError, match="1-D integer array"):
        RaggedFrames.from_lengths(np.zeros(2), [1.0, 1.0])


def test_one_d_float_array_is_ambiguous():
    """A 1-D array could be one video or one frame per video, so it raises."""
    message = (
        r"1-D array of 3 numbers, which is ambiguous.*\[frames\].*reshape\(-1, 1\)"
    )
    with pytest.raises(ValueError, match=message):
        as_ragged(np.array([0.1, 0.5, 0.9]))


def test_flat_list_is_ambiguous():
    with pytest.raises(ValueError, match=r"flat list of 2 numbers.*\[frames\]"):
        as_ragged([0.1, 0.5])


def test_dict_points_to_from_dict():
    with pytest.raises(TypeError, match=r"RaggedFrames\.from_dict.*load_predictions"):
        as_ragged({"a.mp4": [0.1, 0.2]})


def test_dataframe_is_rejected():
    frame = pd.DataFrame({"video": ["a", "a"], "score": [0.1, 0.2]})

    with pytest.raises(TypeError, match=r"Got a DataFrame.*load_predictions"):
        as_ragged(frame)


def test_string_is_rejected():
    with pytest.raises(TypeError, match="Got a string"):
        as_ragged("predictions.csv")


def test_three_d_array_is_rejected():
    with pytest.raises(ValueError, match="Got a 3-D array"):
        as_ragged(np.zeros((2, 3, 4)))


def test_complex_array_is_rejected():
    with pytest.raises(ValueError, match="Complex data not supported"):
        as_ragged(np.ones((2, 3), dtype=complex))


def test_bad_video_in_list_is_named():
    with pytest.raises(TypeError, match=r"Video 'b' \(position 1\) is a str"):
        RaggedFrames.from_list([[0.1], "0.2"], ids=["a", "b"])
    with pytest.raises(ValueError, match="Video at position 0 is a single number"):
        RaggedFrames.from_list([0.5, [0.1]])
    with pytest.raises(ValueError, match="Video at position 1 has 3 dimensions"):
        RaggedFrames.from_list([[0.1], np.zeros((1, 1, 1))])
    with pytest.raises(TypeError, match="Video at position 0 contains values"):
        RaggedFrames.from_list([np.array([{"a": 1}], dtype=object)])
    with pytest.raises(ValueError, match="1-D frames but earlier videos have 2-D"):
        RaggedFrames.from_list([np.zeros((2, 3)), [0.1]])


@pytest.mark.parametrize(
    "key, error, message",
    [
        (5, IndexError, "Video index 5 is out of range for 5 videos"),
        (-6, IndexError, "Video index -6 is out of range"),
        (np.array([0, 5]), IndexError, "out of range for 5 videos"),
        (np.array([True, False]), IndexError, r"mask of shape \(2,\) does not match 5"),
        (np.array([0.5]), IndexError, "got an array of dtype float64"),
        ((0, 1), IndexError, "tuple of length 2"),
    ],
)
def test_bad_index(videos, key, error, message):
    with pytest.raises(error, match=message):
        videos[key]


# The per-video sort behind every order statistic.


def sort_per_segment(values, lengths):
    """Reference: np.sort on each segment in a Python loop."""
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return np.concatenate(
        [np.sort(values[offsets[i] : offsets[i + 1]]) for i in range(len(lengths))]
    )


def test_sort_near_ties_exact():
    """Scores closer than any scaled sort key are still sorted exactly."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 9, size=100_000)
    n_frames = int(lengths.sum())
    values = 0.5 + rng.permutation(n_frames) * 1e-13
    # Exact 0 and 1 widen the overall range, so the near-ties are far
    # below the resolution of a key scaled to [0, 1].
    values[:2] = [0.0, 1.0]

    sorted_frames = RaggedFrames.from_lengths(values, lengths)._sorted_frames()

    np.testing.assert_array_equal(
        sorted_frames.values, sort_per_segment(values, lengths)
    )
    np.testing.assert_array_equal(sorted_frames.counts, lengths)


def test_sort_near_ties_in_long_videos():
    """Long videos of adjacent floats sort exactly, NaN dropped."""
    rng = np.random.default_rng(1)
    lengths = rng.integers(0, 400, size=300)
    n_frames = int(lengths.sum())
    steps = rng.integers(0, 50, size=n_frames)
    values = np.nextafter(0.3, 1.0) + steps * np.spacing(0.3)
    values[rng.random(n_frames) < 0.05] = np.nan
    values[-1] = 1.0
    valid_lengths = [
        int(np.sum(~np.isnan(segment)))
        for segment in np.split(values, np.cumsum(lengths)[:-1])
    ]

    sorted_frames = RaggedFrames.from_lengths(values, lengths)._sorted_frames()

    expected = sort_per_segment(values[~np.isnan(values)], valid_lengths)
    np.testing.assert_array_equal(sorted_frames.values, expected)
    np.testing.assert_array_equal(sorted_frames.counts, valid_lengths)


def test_sort_with_ties_zero_and_one():
    """Repeated values, signed zeros and exact 0 and 1 sort like np.sort."""
    rng = np.random.default_rng(2)
    lengths = rng.integers(0, 50, size=2000)
    n_frames = int(lengths.sum())
    values = rng.choice([0.0, -0.0, 0.25, 0.5, 1.0], size=n_frames)

    sorted_frames = RaggedFrames.from_lengths(values, lengths)._sorted_frames()

    np.testing.assert_array_equal(
        sorted_frames.values, sort_per_segment(values, lengths)
    )


def test_quantile_on_near_ties():
    """Order statistics on near-tied scores match numpy exactly."""
    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 30, size=5000)
    n_frames = int(lengths.sum())
    values = 0.5 + rng.permutation(n_frames) * 1e-13
    values[0] = 1.0
    videos = RaggedFrames.from_lengths(values, lengths)
    segments = np.split(values, np.cumsum(lengths)[:-1])

    for method, reference in [
        ("min", np.min),
        ("max", np.max),
        ("median", np.median),
    ]:
        expected = np.array([reference(segment) for segment in segments])

        np.testing.assert_array_equal(
            pool_frames(videos, method), expected, err_msg=method
        )
