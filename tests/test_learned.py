"""Tests of what VideoAggregator learns in fit: alpha, power, sharpness, Platt."""

import numpy as np
import pytest
from scipy.special import expit, logit
from scipy.stats import gmean
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skpool import RaggedFrames, VideoAggregator

LEARNED = [("autopool", "alpha"), ("power_mean", "power"), ("lse", "sharpness")]
LEARNED_IDS = [method for method, _ in LEARNED]


def make_videos(kind, n_videos=1000, seed=0):
    """Videos whose true probability is recovered exactly by the max or the mean.

    Each video has a probability ``pi`` and a label drawn from it. For
    ``kind="max"`` one frame scores ``pi`` and the others less, so the max
    is the calibrated statistic. For ``kind="mean"`` frames spread
    symmetrically around ``pi``, so the mean is.
    """
    rng = np.random.default_rng(seed)
    pi = rng.uniform(0.02, 0.98, n_videos)
    y = (rng.uniform(size=n_videos) < pi).astype(int)
    lengths = rng.integers(5, 30, n_videos)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    frame_pi = np.repeat(pi, lengths)
    if kind == "max":
        values = frame_pi * rng.uniform(0, 1, lengths.sum())
        values[starts + rng.integers(0, lengths)] = pi
    else:
        spread = np.minimum(frame_pi, 1 - frame_pi)
        values = frame_pi + rng.uniform(-1, 1, lengths.sum()) * spread
    return RaggedFrames.from_lengths(values, lengths), y


def autopool_reference(frames, alpha):
    weights = np.exp(alpha * (frames - frames.max()))
    return np.sum(weights * frames) / np.sum(weights)


def power_mean_reference(frames, power):
    if power == 0:
        return gmean(frames)
    # Dividing by the max (or the min for negative powers) avoids overflow.
    scale = frames.max() if power > 0 else frames.min()
    return scale * np.mean((frames / scale) ** power) ** (1 / power)


def lse_reference(frames, sharpness):
    if sharpness == 0:
        return np.mean(frames)
    shift = frames.max()
    return shift + np.log(np.mean(np.exp(sharpness * (frames - shift)))) / sharpness


REFERENCES = {
    "autopool": autopool_reference,
    "power_mean": power_mean_reference,
    "lse": lse_reference,
}


def training_loss(model, videos, y):
    return log_loss(y, model.predict_proba(videos)[:, 1], labels=[0, 1])


@pytest.mark.parametrize(("method", "name"), LEARNED, ids=LEARNED_IDS)
def test_learned_large_when_max_optimal(method, name):
    """On videos whose max is calibrated, the learned value tends to the max."""
    videos, y = make_videos("max")
    model = VideoAggregator(method=method, **{name: None}).fit(videos, y)
    mean_model = VideoAggregator(method="mean").fit(videos, y)

    assert getattr(model, f"{name}_") > 20
    assert training_loss(model, videos, y) < training_loss(mean_model, videos, y) - 0.1


@pytest.mark.parametrize(
    ("method", "name", "low", "high"),
    [
        ("autopool", "alpha", -2, 2),
        ("power_mean", "power", 0, 2),
        ("lse", "sharpness", -3, 3),
    ],
    ids=LEARNED_IDS,
)
def test_learned_near_mean_when_mean_optimal(method, name, low, high):
    """On videos whose mean is calibrated, the learned value stays near the mean."""
    videos, y = make_videos("mean")
    model = VideoAggregator(method=method, **{name: None}).fit(videos, y)
    max_model = VideoAggregator(method="max").fit(videos, y)

    assert low < getattr(model, f"{name}_") < high
    assert training_loss(model, videos, y) < training_loss(max_model, videos, y) - 0.1


@pytest.mark.parametrize(("method", "name"), LEARNED, ids=LEARNED_IDS)
def test_learned_value_minimises_reference_loss(method, name):
    """No value on a dense sweep beats the learned one, with clip and fill_value."""
    videos, y = make_videos("max", n_videos=150, seed=4)
    frames = videos.to_list()
    frames[3] = np.array([])
    frames[7] = np.array([np.nan])
    videos = RaggedFrames.from_list(frames)
    clip, fill_value = (0.05, 0.9), 0.2
    model = VideoAggregator(
        method=method, clip=clip, fill_value=fill_value, **{name: None}
    ).fit(videos, y)
    reference = REFERENCES[method]

    def reference_loss(value):
        pooled = []
        for video in frames:
            valid = video[~np.isnan(video)]
            pooled.append(reference(valid, value) if valid.size else fill_value)
        return log_loss(y, np.clip(pooled, *clip), labels=[0, 1])

    learned = getattr(model, f"{name}_")
    sweep = np.r_[np.linspace(-100, 100, 81), np.linspace(-10, 10, 81)]
    best_on_sweep = min(reference_loss(value) for value in sweep)
    assert reference_loss(learned) <= best_on_sweep + 1e-6
    assert training_loss(model, videos, y) == pytest.approx(reference_loss(learned))


@pytest.mark.parametrize(
    ("method", "name", "value", "limit"),
    [
        ("autopool", "alpha", 0.0, "mean"),
        ("autopool", "alpha", 1000.0, "max"),
        ("autopool", "alpha", -1000.0, "min"),
        ("power_mean", "power", 1.0, "mean"),
        ("power_mean", "power", 0.0, "gmean"),
        ("power_mean", "power", 2000.0, "max"),
        ("power_mean", "power", -2000.0, "min"),
        ("lse", "sharpness", 0.0, "mean"),
        ("lse", "sharpness", 5000.0, "max"),
        ("lse", "sharpness", -5000.0, "min"),
    ],
    ids=lambda value: str(value),
)
def test_statistic_limits(method, name, value, limit):
    """Each learnable statistic reaches the mean, the max and the min at its limits."""
    rng = np.random.default_rng(5)
    frames = [rng.uniform(0.05, 0.95, size) for size in (1, 2, 7, 20)]
    expected = {
        "mean": np.mean,
        "gmean": gmean,
        "max": np.max,
        "min": np.min,
    }[limit]
    model = VideoAggregator(method=method, **{name: value}).fit(frames, [0, 1, 0, 1])

    pooled = model.predict_proba(frames)[:, 1]

    np.testing.assert_allclose(pooled, [expected(video) for video in frames], atol=2e-3)


@pytest.mark.parametrize(("method", "name"), LEARNED, ids=LEARNED_IDS)
def test_learned_value_used_in_predict(method, name):
    """predict_proba with a learned value equals the fixed value it learned."""
    videos, y = make_videos("max", n_videos=100, seed=6)
    model = VideoAggregator(method=method, **{name: None}).fit(videos, y)
    fixed = VideoAggregator(method=method, **{name: getattr(model, f"{name}_")})

    np.testing.assert_allclose(
        model.predict_proba(videos), fixed.fit(videos, y).predict_proba(videos)
    )


def test_none_ignored_for_other_methods():
    """alpha=None with method='mean' learns nothing and pools the mean."""
    videos, y = make_videos("mean", n_videos=50)
    model = VideoAggregator(method="mean", alpha=None).fit(videos, y)

    assert not hasattr(model, "alpha_")
    np.testing.assert_allclose(
        model.predict_proba(videos)[:, 1], [np.mean(video) for video in videos]
    )


def test_learned_with_logits():
    """Learning works on log-odds frame scores, mapped to probabilities first."""
    videos, y = make_videos("max", n_videos=200, seed=7)
    clipped = np.clip(videos.values, 1e-9, 1 - 1e-9)
    as_logits = RaggedFrames(logit(clipped), videos.offsets)
    from_logits = VideoAggregator(method="autopool", alpha=None, logits=True)
    from_proba = VideoAggregator(method="autopool", alpha=None)

    from_logits.fit(as_logits, y)
    from_proba.fit(RaggedFrames(clipped, videos.offsets), y)

    assert from_logits.alpha_ == pytest.approx(from_proba.alpha_, rel=1e-6)


def make_overconfident_videos(n_videos, seed):
    """Videos whose mean frame score is far more extreme than their true odds."""
    rng = np.random.default_rng(seed)
    true_logit = rng.normal(0, 1, n_videos)
    y = (rng.uniform(size=n_videos) < expit(true_logit)).astype(int)
    lengths = rng.integers(3, 12, n_videos)
    frame_logit = np.repeat(4 * true_logit + 1.5, lengths)
    values = expit(frame_logit + rng.normal(0, 0.3, lengths.sum()))
    return RaggedFrames.from_lengths(values, lengths), y


def test_sigmoid_calibration_improves_log_loss():
    """Platt scaling fitted on training videos lowers held-out log loss."""
    train, y_train = make_overconfident_videos(600, seed=8)
    test, y_test = make_overconfident_videos(600, seed=9)
    plain = VideoAggregator(method="mean").fit(train, y_train)
    calibrated = VideoAggregator(method="mean", calibration="sigmoid").fit(
        train, y_train
    )

    plain_loss = log_loss(y_test, plain.predict_proba(test)[:, 1])
    calibrated_loss = log_loss(y_test, calibrated.predict_proba(test)[:, 1])

    assert calibrated_loss < plain_loss - 0.1
    # The frame log-odds are 4 times the true ones, so the slope is near 1/4.
    assert 0.15 < calibrated.calibration_coef_ < 0.35


def test_sigmoid_calibration_matches_reference():
    """The Platt coefficients minimise log loss with Platt's smoothed targets."""
    from scipy.optimize import minimize

    videos, y = make_overconfident_videos(300, seed=10)
    model = VideoAggregator(method="mean", calibration="sigmoid").fit(videos, y)
    log_odds = logit(np.clip([np.mean(video) for video in videos], 1e-6, 1 - 1e-6))
    n_positive = y.sum()
    n_negative = len(y) - n_positive
    targets = np.where(
        y == 1, (n_positive + 1) / (n_positive + 2), 1 / (n_negative + 2)
    )

    def objective(params):
        p = expit(params[0] * log_odds + params[1])
        return -np.sum(targets * np.log(p) + (1 - targets) * np.log(1 - p))

    reference = minimize(objective, [1.0, 0.0], method="Nelder-Mead", tol=1e-10)

    assert model.calibration_coef_ == pytest.approx(reference.x[0], abs=1e-3)
    assert model.calibration_intercept_ == pytest.approx(reference.x[1], abs=1e-3)
    expected = expit(reference.x[0] * log_odds + reference.x[1])
    np.testing.assert_allclose(model.predict_proba(videos)[:, 1], expected, atol=1e-4)


def test_calibration_before_clip_and_fill():
    """Calibrated values are clipped, and empty videos get fill_value as is."""
    videos, y = make_overconfident_videos(100, seed=11)
    frames = [*videos.to_list(), np.array([])]
    y = np.r_[y, 1]
    model = VideoAggregator(
        method="mean", calibration="sigmoid", clip=(0.3, 0.7), fill_value=0.9
    ).fit(frames, y)

    positive = model.predict_proba(frames)[:, 1]

    assert positive[-1] == 0.7
    assert positive[:-1].min() >= 0.3
    assert positive[:-1].max() <= 0.7
    model.set_params(clip=None)
    assert model.predict_proba(frames)[-1, 1] == 0.9


def test_learned_alpha_with_calibration():
    """Learning alpha and calibrating together beats calibration alone."""
    videos, y = make_videos("max", n_videos=400, seed=12)
    stretched = RaggedFrames(
        expit(3 * logit(np.clip(videos.values, 1e-6, 1 - 1e-6))), videos.offsets
    )
    joint = VideoAggregator(method="autopool", alpha=None, calibration="sigmoid")
    mean_only = VideoAggregator(method="mean", calibration="sigmoid")

    joint.fit(stretched, y)
    mean_only.fit(stretched, y)

    assert joint.alpha_ > 5
    assert training_loss(joint, stretched, y) < training_loss(mean_only, stretched, y)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
@pytest.mark.parametrize("ensemble", [True, False])
def test_calibrated_classifier_cv(method, ensemble):
    """VideoAggregator works inside sklearn's CalibratedClassifierCV."""
    videos, y = make_overconfident_videos(300, seed=13)
    calibrated = CalibratedClassifierCV(
        VideoAggregator(method="mean"), method=method, cv=3, ensemble=ensemble
    ).fit(videos, y)

    proba = calibrated.predict_proba(videos)

    assert proba.shape == (300, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    plain = VideoAggregator(method="mean").fit(videos, y).predict_proba(videos)
    assert log_loss(y, proba) < log_loss(y, plain)


def test_grid_search_over_learned_and_fixed():
    """GridSearchCV compares a learned alpha with fixed ones."""
    videos, y = make_videos("max", n_videos=300, seed=14)
    search = GridSearchCV(
        VideoAggregator(method="autopool"),
        {"alpha": [None, 0.0, 1.0], "calibration": [None, "sigmoid"]},
        cv=StratifiedKFold(3),
        scoring="neg_log_loss",
    ).fit(videos, y)

    assert search.best_params_["alpha"] is None
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_invalid_calibration_rejected():
    """An unknown calibration method is rejected by parameter validation."""
    with pytest.raises(ValueError, match="'calibration' parameter of VideoAggregator"):
        VideoAggregator(calibration="isotonic").fit([[0.1], [0.9]], [0, 1])


@pytest.mark.parametrize(
    ("method", "name", "neutral"),
    [
        ("autopool", "alpha", 0.0),
        ("power_mean", "power", 1.0),
        ("lse", "sharpness", 0.0),
    ],
    ids=LEARNED_IDS,
)
def test_learned_value_neutral_on_ties(method, name, neutral):
    """When every value gives the same loss, the one giving the mean is kept."""
    one_frame_each = [[0.2], [0.7], [0.4], []]
    model = VideoAggregator(method=method, **{name: None})

    model.fit(one_frame_each, [0, 1, 1, 0])

    assert getattr(model, f"{name}_") == neutral
