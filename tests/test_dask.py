"""Tests of skpool on Dask: searches on a local cluster and pooling of large tables."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from skpool import STATISTICS, RaggedFrames, VideoAggregator, default_grid

dd = pytest.importorskip(
    "dask.dataframe",
    reason="dask[dataframe] is not installed; install it with pip install skpool[dask]",
)
from skpool.dask import pool_frames, precompute_statistics  # noqa: E402

N_VIDEOS = 200
N_FILES = 4
FILL_VALUE = 0.25

# Every statistic with VideoAggregator's defaults, plus non-default parameters.
STATISTIC_CASES = [(name, {}) for name in STATISTICS] + [
    ("quantile", {"q": 0.9}),
    ("quantile", {"q": 0.3, "quantile_method": "hazen"}),
    ("trimmed_mean", {"trim": 0.3}),
    ("topk_mean", {"k": 3}),
    ("power_mean", {"power": -1.0}),
    ("lse", {"sharpness": -4.0}),
    ("autopool", {"alpha": 0.0}),
    ("vote", {"threshold": 0.8}),
    ("confident", {"confident_min_count": 2, "confident_high": 0.6}),
]


def _case_id(case):
    name, params = case
    return name + "".join(f"-{key}={value}" for key, value in params.items())


# A cluster shared by the tests of this module -------------------------------


@pytest.fixture(scope="module")
def client():
    """Start a two-worker cluster listening only on 127.0.0.1."""
    distributed = pytest.importorskip(
        "distributed",
        reason="distributed is not installed; install it with pip install skpool[dask]",
    )
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _search_data(n_videos, seed):
    rng = np.random.default_rng(seed)
    y = np.arange(n_videos) % 2
    lengths = rng.integers(5, 40, n_videos)
    video_of_frame = np.repeat(np.arange(n_videos), lengths)
    scores = np.clip(rng.normal(0.35 + 0.3 * y[video_of_frame], 0.25), 0, 1)
    scores[rng.random(len(scores)) < 0.05] = np.nan
    ids = [f"video_{i:04d}.mp4" for i in range(n_videos)]
    return RaggedFrames.from_lengths(scores, lengths, ids=ids), y


def test_cluster_listens_on_loopback(client):
    """The scheduler, the nannies and the workers listen on 127.0.0.1 only."""
    cluster = client.cluster
    addresses = [cluster.scheduler.address]
    addresses += [nanny.address for nanny in cluster.workers.values()]
    addresses += list(client.scheduler_info()["workers"])
    for address in addresses:
        assert address.startswith("tcp://127.0.0.1:"), address
    assert cluster.scheduler.http_server.address == "127.0.0.1"
    worker_http = client.run(lambda dask_worker: dask_worker.http_server.address)
    assert set(worker_http.values()) == {"127.0.0.1"}


def test_grid_search_on_cluster_matches_local(client):
    """Every candidate scores exactly as in a local search."""
    X, y = _search_data(600, seed=0)
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    grid = default_grid(clips=(0.02,))

    def search():
        return GridSearchCV(VideoAggregator(), grid, scoring="neg_log_loss", cv=cv)

    local = search().fit(X, y)
    with joblib.parallel_backend("dask", scatter=[X, y]):
        distributed = search().fit(X, y)

    expected = local.cv_results_["mean_test_score"]
    result = distributed.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(result))
    np.testing.assert_array_equal(result, expected)
    assert distributed.best_params_ == local.best_params_


def test_cross_val_score_on_cluster_matches_local(client):
    """cross_val_score returns the same fold scores on the cluster."""
    X, y = _search_data(400, seed=1)
    model = VideoAggregator(method="quantile", q=0.8, clip=0.01)
    cv = StratifiedKFold(n_splits=4, shuffle=True, random_state=1)
    local = cross_val_score(model, X, y, scoring="neg_log_loss", cv=cv)
    with joblib.parallel_backend("dask"):
        distributed = cross_val_score(model, X, y, scoring="neg_log_loss", cv=cv)
    np.testing.assert_array_equal(distributed, local)


def test_sizeof_makes_joblib_scatter_frames():
    """dask.sizeof reports the frames, above joblib's 1 kB scatter threshold."""
    from dask.sizeof import sizeof

    X, _ = _search_data(300, seed=2)
    n_bytes = X.values.nbytes
    assert sizeof(X) >= n_bytes
    assert sizeof(X) > 1_000
    view = X[np.arange(0, 300, 3)]
    assert sizeof(view) >= view.values.nbytes
    assert sizeof(view) < sizeof(X)


def test_pickle_leaves_out_video_index():
    """A pickled container carries frames and sorted scores, not per-value positions."""
    X, _ = _search_data(300, seed=3)
    before = (
        VideoAggregator(method="power_mean").fit(X, np.arange(300) % 2).transform(X)
    )
    size = len(pickle.dumps(X))
    frame_bytes = X.values.nbytes
    # values, sorted non-NaN values, two offsets arrays and 300 ids.
    assert size < 2 * frame_bytes + 30_000
    restored = pickle.loads(pickle.dumps(X))
    after = VideoAggregator(method="power_mean").fit(restored, np.arange(300) % 2)
    np.testing.assert_array_equal(after.transform(restored), before)


def test_pickle_keeps_pooled_values():
    """Pooled values travel with a pickled container and its views."""
    X, y = _search_data(300, seed=4)
    model = VideoAggregator(method="trimmed_mean", trim=0.2).fit(X, y)
    expected = model.transform(X)
    restored = pickle.loads(pickle.dumps(X))
    assert list(restored._pooled) == list(X._pooled)
    np.testing.assert_array_equal(model.transform(restored), expected)
    view = X[np.arange(0, 300, 4)]
    restored_view = pickle.loads(pickle.dumps(view))
    assert len(restored_view._pooled) == 1
    np.testing.assert_array_equal(model.transform(restored_view), expected[::4])


def test_precompute_on_cluster_matches_local(client):
    """A search after precompute_statistics scores exactly as a local one."""
    X, y = _search_data(600, seed=5)
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    grid = default_grid(clips=(0.02,))
    local = GridSearchCV(VideoAggregator(), grid, scoring="neg_log_loss", cv=cv)
    local.fit(X, y)

    fresh, _ = _search_data(600, seed=5)
    assert precompute_statistics(fresh, grid, client=client) is fresh
    assert list(fresh._pooled) == list(X._pooled)
    for key, pooled in X._pooled.items():
        np.testing.assert_allclose(fresh._pooled[key], pooled, rtol=0, atol=1e-15)
    remote = GridSearchCV(VideoAggregator(), grid, scoring="neg_log_loss", cv=cv)
    with joblib.parallel_backend("dask"):
        remote.fit(fresh, y)
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )


def test_precompute_in_process():
    """Without a client every distinct statistic is pooled here, logits skipped."""
    X, _ = _search_data(100, seed=6)
    grid = [
        {"method": ["mean", "max"], "clip": [None, 0.01]},
        {"method": ["quantile"], "q": [0.5, 0.9]},
        {"method": ["median"], "logits": [True]},
    ]
    precompute_statistics(X, grid)
    assert len(X._pooled) == 4


def test_precompute_skips_learned_parameters():
    """A parameter set to None is learned in fit, so only fixed values are pooled."""
    X, _ = _search_data(50, seed=8)
    grid = {"method": ["power_mean", "lse"], "power": [None, 2.0], "sharpness": [None]}
    precompute_statistics(X, grid)
    assert len(X._pooled) == 1
    (pooled,) = X._pooled.values()
    expected = [np.sqrt(np.mean(video[~np.isnan(video)] ** 2)) for video in X]
    np.testing.assert_allclose(pooled, expected, rtol=1e-12)


def test_precompute_invalid():
    X, _ = _search_data(50, seed=7)
    with pytest.raises(TypeError, match="needs a RaggedFrames"):
        precompute_statistics(X.to_list(), {"method": ["mean"]})
    with pytest.raises(ValueError, match=r"sets \['model__method'\]"):
        precompute_statistics(X, {"model__method": ["mean"]})
    with pytest.raises(ValueError, match="statistic 'quantile'"):
        precompute_statistics(X, {"method": ["quantile"], "q": [2.0]})
    too_many = {"method": ["power_mean"], "power": list(np.linspace(0.5, 5, 70))}
    with pytest.warns(UserWarning, match="70 distinct statistics"):
        precompute_statistics(X, too_many)


# Pooling a partitioned Parquet table ----------------------------------------


def _long_table(seed):
    """Frame scores of N_VIDEOS videos, 1-3 faces per frame, with NaN holes.

    Videos 0-2 have only NaN scores, and in other videos some frames have
    only NaN faces.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for position in range(N_VIDEOS):
        n_frames = int(rng.integers(17, 60))
        n_faces = rng.integers(1, 4, n_frames)
        frame = np.repeat(np.arange(n_frames), n_faces)
        face = np.concatenate([np.arange(count) for count in n_faces])
        score = rng.beta(2, 3 + position % 3, len(frame))
        if position < 3:
            score[:] = np.nan
        else:
            score[rng.random(len(score)) < 0.15] = np.nan
        rows.append(
            pd.DataFrame(
                {
                    "video": f"v{position:03d}",
                    "frame": frame,
                    "face": face,
                    "score": score,
                }
            )
        )
    table = pd.concat(rows, ignore_index=True)
    return table.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.fixture(scope="module")
def parquet_table(tmp_path_factory):
    """Write the long table to N_FILES Parquet files that split every video."""
    table = _long_table(seed=7)
    directory = tmp_path_factory.mktemp("scores")
    for number, part in enumerate(np.array_split(np.arange(len(table)), N_FILES)):
        table.iloc[part].to_parquet(directory / f"part-{number}.parquet", index=False)
    return table, directory


def _reference_frames(table, face_reduce):
    """Build each video's frame scores in a Python loop, reducing faces by hand."""
    reducers = {"max": np.nanmax, "mean": np.nanmean, "min": np.nanmin}
    videos = {}
    for video_id, rows in table.groupby("video", sort=True):
        frames = []
        for _, faces in rows.sort_values("frame").groupby("frame", sort=True):
            scores = faces["score"].to_numpy()
            if np.isnan(scores).all():
                frames.append(np.nan)
            else:
                frames.append(reducers[face_reduce](scores))
        videos[video_id] = np.array(frames)
    return RaggedFrames.from_dict(videos)


def _reference_pooled(videos, name, params):
    labels = np.arange(len(videos)) % 2
    model = VideoAggregator(method=name, fill_value=FILL_VALUE, **params)
    return model.fit(videos, labels).transform(videos)[:, 0]


@pytest.fixture(scope="module")
def reference_frames(parquet_table):
    """Frame scores of each video with the faces reduced by max, built in Python."""
    table, _ = parquet_table
    return _reference_frames(table, "max")


@pytest.fixture(scope="module")
def pooled_parquet(client, parquet_table):
    """Pool the Parquet files on the cluster once, with every statistic."""
    _, directory = parquet_table
    table = dd.read_parquet(str(directory))
    statistics = {_case_id(case): case for case in STATISTIC_CASES}
    return pool_frames(table, statistics, fill_value=FILL_VALUE)


def test_parquet_files_split_every_video(parquet_table):
    """Each video has rows in at least two files, so pooling needs the shuffle."""
    _, directory = parquet_table
    files_per_video = (
        pd.concat(
            pd.read_parquet(path).assign(file=path.name)
            for path in sorted(directory.glob("*.parquet"))
        )
        .groupby("video")["file"]
        .nunique()
    )
    assert len(files_per_video) == N_VIDEOS
    assert files_per_video.min() >= 2


@pytest.mark.parametrize("case", STATISTIC_CASES, ids=_case_id)
def test_pool_parquet_matches_memory(reference_frames, pooled_parquet, case):
    """Each statistic pooled by Dask equals VideoAggregator on the whole table."""
    videos = reference_frames
    expected = _reference_pooled(videos, *case)
    result = pooled_parquet[_case_id(case)]
    assert list(result.index) == list(videos.ids)
    assert not result.isna().any()
    np.testing.assert_allclose(result.to_numpy(), expected, rtol=0, atol=1e-12)


def test_pool_parquet_matches_numpy(parquet_table, pooled_parquet):
    """Plain numpy per video gives the mean, max and quantiles."""
    table, _ = parquet_table
    frame_scores = table.groupby(["video", "frame"])["score"].max()
    for video_id, scores in frame_scores.groupby(level="video"):
        scores = scores.to_numpy()
        row = pooled_parquet.loc[video_id]
        if np.isnan(scores).all():
            assert row["mean"] == FILL_VALUE
            assert row["quantile-q=0.9"] == FILL_VALUE
            continue
        assert row["mean"] == pytest.approx(np.nanmean(scores), abs=1e-12)
        assert row["max"] == np.nanmax(scores)
        assert row["min"] == np.nanmin(scores)
        assert row["median"] == pytest.approx(np.nanmedian(scores), abs=1e-12)
        assert row["quantile-q=0.9"] == pytest.approx(
            np.nanquantile(scores, 0.9), abs=1e-12
        )
        hazen = np.nanquantile(scores, 0.3, method="hazen")
        assert row["quantile-q=0.3-quantile_method=hazen"] == pytest.approx(
            hazen, abs=1e-12
        )


def test_pool_all_nan_videos_get_fill_value(pooled_parquet):
    """Videos whose scores are all NaN get fill_value in every column."""
    all_nan = pooled_parquet.loc[["v000", "v001", "v002"]]
    assert (all_nan.to_numpy() == FILL_VALUE).all()
    assert not pooled_parquet.isna().to_numpy().any()


@pytest.mark.parametrize("face_reduce", ["mean", "min"])
def test_pool_face_reduce_matches_memory(parquet_table, face_reduce):
    """Faces reduced by mean or min give the in-memory values."""
    table, directory = parquet_table
    dask_table = dd.read_parquet(str(directory))
    result = pool_frames(
        dask_table, ["mean", "max"], face_reduce=face_reduce, fill_value=FILL_VALUE
    )
    videos = _reference_frames(table, face_reduce)
    for name in ("mean", "max"):
        expected = _reference_pooled(videos, name, {})
        np.testing.assert_allclose(
            result[name].to_numpy(), expected, rtol=0, atol=1e-12
        )


def test_pool_pandas_table_equals_dask(parquet_table, pooled_parquet):
    """A pandas table pooled in memory gives the Dask result."""
    table, _ = parquet_table
    statistics = {_case_id(case): case for case in STATISTIC_CASES}
    in_memory = pool_frames(table, statistics, fill_value=FILL_VALUE)
    assert list(in_memory.columns) == list(pooled_parquet.columns)
    np.testing.assert_allclose(
        in_memory.to_numpy(), pooled_parquet.to_numpy(), rtol=0, atol=1e-12
    )


# Smaller tables ---------------------------------------------------------------


def _small_table():
    return pd.DataFrame(
        {
            "video": ["b", "b", "a", "b", "c", "a", "c"],
            "score": [0.2, 0.8, 0.4, 0.5, np.nan, 0.6, np.nan],
        }
    )


def test_pool_rows_without_frame_column():
    """Each row is one frame when the table has no frame column."""
    table = dd.from_pandas(_small_table(), npartitions=3)
    result = pool_frames(table, ["mean", "max"], fill_value=0.1)
    assert list(result.index) == ["a", "b", "c"]
    np.testing.assert_allclose(result["mean"].to_numpy(), [0.5, 0.5, 0.1], atol=1e-15)
    np.testing.assert_array_equal(result["max"].to_numpy(), [0.6, 0.8, 0.1])


def test_pool_video_index():
    """The video id may be the table's index."""
    table = dd.from_pandas(_small_table().set_index("video"), npartitions=2)
    result = pool_frames(table, "min")
    np.testing.assert_array_equal(result["min"].to_numpy(), [0.4, 0.2, 0.5])
    assert result.index.name == "video"


def test_pool_logits_map_scores():
    """With logits=True the scores go through the logistic function first."""
    from scipy.special import expit

    table = _small_table()
    table["score"] = np.log(table["score"] / (1 - table["score"])) * 3
    result = pool_frames(dd.from_pandas(table, npartitions=2), "mean", logits=True)
    expected = [
        np.mean(expit(table["score"][table["video"] == video])) for video in ("a", "b")
    ]
    np.testing.assert_allclose(result["mean"].to_numpy()[:2], expected, atol=1e-15)
    assert result["mean"]["c"] == 0.5


def test_pool_lazy_result():
    """compute=False returns a Dask DataFrame with the same values."""
    table = dd.from_pandas(_small_table(), npartitions=2)
    lazy = pool_frames(table, ["mean"], compute=False)
    assert isinstance(lazy, dd.DataFrame)
    computed = lazy.compute().sort_index()
    np.testing.assert_allclose(computed["mean"].to_numpy(), [0.5, 0.5, 0.5], atol=1e-15)


@pytest.mark.parametrize(
    ("statistics", "error", "match"),
    [
        ("nope", ValueError, "Unknown statistic 'nope'"),
        (("quantile", {"q": 1.5}), ValueError, "statistic 'quantile'.*'q' parameter"),
        (("mean", {"q": 0.5}), ValueError, r"'mean' got unknown parameters \['q'\]"),
        (
            ("confident", {"confident_low": 0.9}),
            ValueError,
            "confident_low=0.9 must be below confident_high=0.8",
        ),
        (
            ("power_mean", {"power": None}),
            ValueError,
            r"'power_mean' got None for \['power'\].*does not learn parameters",
        ),
        (["mean", "mean"], ValueError, r"columns \['mean'\] more than once"),
        ([], ValueError, "statistics is empty"),
        (3, TypeError, "statistics must be a statistic name"),
        ([("quantile", 0.9)], TypeError, r"\(name, params\) tuple"),
    ],
    ids=[
        "unknown",
        "bad-value",
        "unknown-param",
        "cross-param",
        "learned-param",
        "repeat",
        "empty",
        "not-a-list",
        "bad-tuple",
    ],
)
def test_pool_statistics_invalid(statistics, error, match):
    table = dd.from_pandas(_small_table(), npartitions=2)
    with pytest.raises(error, match=match):
        pool_frames(table, statistics)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"fill_value": np.nan}, ValueError, "fill_value must be a finite number"),
        ({"face_reduce": "median"}, ValueError, "face_reduce='median'"),
        ({"score": "p"}, ValueError, "no score column 'p'.*Set score="),
        ({"video": "id"}, ValueError, "no video column 'id'"),
        ({"frame": "t"}, ValueError, "no frame column 't'"),
        ({"npartitions": 0}, ValueError, "npartitions must be a positive integer"),
        ({"logits": "yes"}, TypeError, "logits must be True or False"),
    ],
    ids=["fill-nan", "face-reduce", "score", "video", "frame", "npartitions", "logits"],
)
def test_pool_options_invalid(options, error, match):
    table = dd.from_pandas(_small_table(), npartitions=2)
    with pytest.raises(error, match=match):
        pool_frames(table, "mean", **options)


def test_pool_score_out_of_range_names_video():
    table = _small_table()
    table.loc[3, "score"] = 1.5
    with pytest.raises(ValueError, match=r"video 'b'.*set logits=True"):
        pool_frames(dd.from_pandas(table, npartitions=2), "mean")


def test_pool_missing_video_id():
    table = _small_table()
    table["video"] = table["video"].astype(object)
    table.loc[2, "video"] = None
    with pytest.raises(ValueError, match="rows with no value in column 'video'"):
        pool_frames(dd.from_pandas(table, npartitions=2), "mean")


def test_pool_repeated_face_key():
    table = pd.DataFrame(
        {"video": ["a", "a"], "frame": [0, 0], "face": [1, 1], "score": [0.2, 0.3]}
    )
    with pytest.raises(ValueError, match=r"\(video, frame, face\) keys"):
        pool_frames(dd.from_pandas(table, npartitions=1), "mean")


def test_pool_rejects_other_types():
    with pytest.raises(TypeError, match=r"expects a dask\.dataframe\.DataFrame"):
        pool_frames(_small_table().to_numpy(), "mean")
