"""Parameters learned in ``VideoAggregator.fit``: a statistic's shape and Platt scaling.

A statistic's parameter minimises the binary log loss of the training
videos' final probabilities, after calibration, ``fill_value`` and
``clip``, so that what is learned is what `VideoAggregator.predict_proba`
will output. Platt scaling is fitted to the pooled values of the videos
with a valid frame, before ``fill_value`` and ``clip``, against Platt's
smoothed targets.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit

from ._stats import STATISTICS

__all__ = [
    "CALIBRATION_EPS",
    "LEARNABLE",
    "LOSS_EPS",
    "apply_sigmoid",
    "fit_sigmoid",
    "learn_parameter",
    "log_loss",
]

CALIBRATION_EPS = 1e-6
"""Pooled probabilities are clipped to [CALIBRATION_EPS, 1 - CALIBRATION_EPS]
before taking the log-odds that Platt scaling maps."""

LOSS_EPS = 1e-15
"""Probabilities are clipped to [LOSS_EPS, 1 - LOSS_EPS] inside the training
loss, so one video pooled to exactly 0 or 1 cannot make the loss infinite."""

# The search evaluates every grid point, then refines between the two
# neighbours of the best one. The grid is geometric in |value| because the
# statistics change fastest near their neutral value.
_SYMMETRIC_GRID = np.array(
    [-100, -50, -20, -10, -5, -2, -1, -0.5, 0, 0.5, 1, 2, 5, 10, 20, 50, 100],
    dtype=np.float64,
)


@dataclass(frozen=True)
class Learnable:
    """A statistic parameter that ``fit`` can learn, and its search range."""

    name: str
    grid: np.ndarray
    neutral: float
    """Value that gives the plain mean, preferred when the loss ties."""


LEARNABLE = {
    "autopool": Learnable("alpha", _SYMMETRIC_GRID, 0.0),
    "power_mean": Learnable("power", _SYMMETRIC_GRID, 1.0),
    "lse": Learnable("sharpness", _SYMMETRIC_GRID, 0.0),
}
"""Statistics whose parameter is learned when it is None, keyed by method."""


def log_loss(probabilities, y_positive):
    """Return the mean binary log loss, probabilities clipped to ``LOSS_EPS``."""
    p = np.clip(probabilities, LOSS_EPS, 1 - LOSS_EPS)
    return float(-np.mean(np.where(y_positive, np.log(p), np.log1p(-p))))


def _platt_targets(y_positive):
    # Platt scaling replaces the 0/1 targets by (N+ + 1) / (N+ + 2) and
    # 1 / (N- + 2), as scikit-learn 1.9's CalibratedClassifierCV does, which
    # keeps the slope finite on separable data.
    n_positive = np.count_nonzero(y_positive)
    n_negative = y_positive.size - n_positive
    return np.where(
        y_positive, (n_positive + 1) / (n_positive + 2), 1 / (n_negative + 2)
    )


def fit_sigmoid(pooled, y_positive):
    """Fit Platt scaling ``expit(coef * logit(p) + intercept)`` to pooled values.

    Parameters
    ----------
    pooled : ndarray of shape (n_videos,)
        Pooled probabilities; NaN (videos without frames) are left out.

    y_positive : ndarray of bool of shape (n_videos,)
        Whether each video is of the positive class.

    Returns
    -------
    coef, intercept : float
        ``(1.0, 0.0)``, the identity, when no video has a pooled value.
    """
    valid = ~np.isnan(pooled)
    if not valid.any():
        return 1.0, 0.0
    log_odds = logit(np.clip(pooled[valid], CALIBRATION_EPS, 1 - CALIBRATION_EPS))
    targets = _platt_targets(y_positive[valid])
    return _newton_logistic(log_odds, targets)


def _newton_logistic(log_odds, targets, max_iter=100, tol=1e-10):
    """Minimise sum(logaddexp(0, u) - t u), u = a z + b, by damped Newton steps.

    Two parameters make each step a 2 x 2 solve, which is much cheaper than
    a general-purpose optimizer on every value tried by `learn_parameter`.
    """
    design = np.column_stack([log_odds, np.ones_like(log_odds)])

    def objective(params):
        u = design @ params
        return np.sum(np.logaddexp(0, u) - targets * u)

    params = np.array([1.0, 0.0])
    current = objective(params)
    for _ in range(max_iter):
        p = expit(design @ params)
        gradient = design.T @ (p - targets)
        hessian = (design * (p * (1 - p))[:, None]).T @ design
        # A tiny ridge keeps the solve defined when every log-odds is equal.
        step = np.linalg.solve(hessian + 1e-12 * np.eye(2), gradient)
        scale = 1.0
        while scale > 1e-10:
            candidate = params - scale * step
            value = objective(candidate)
            if value <= current:
                break
            scale /= 2
        else:
            break
        improvement = current - value
        params, current = candidate, value
        if improvement <= tol * max(1.0, abs(current)):
            break
    return float(params[0]), float(params[1])


def apply_sigmoid(pooled, coef, intercept):
    """Map pooled probabilities through fitted Platt scaling; NaN stays NaN."""
    log_odds = logit(np.clip(pooled, CALIBRATION_EPS, 1 - CALIBRATION_EPS))
    return expit(coef * log_odds + intercept)


def learn_parameter(frames, method, y_positive, finish):
    """Return the value of ``method``'s parameter with the lowest training log loss.

    Parameters
    ----------
    frames : SortedFrames
        The training videos' valid frame probabilities, sorted per video.

    method : str
        A key of `LEARNABLE`.

    y_positive : ndarray of bool of shape (n_videos,)
        Whether each video is of the positive class.

    finish : callable
        Maps pooled values (NaN for videos without frames) to the final
        probabilities: calibration, ``fill_value`` and ``clip``.

    Returns
    -------
    float
        The value in ``[grid[0], grid[-1]]`` found by a grid search
        refined with bounded Brent search between the best grid point's
        neighbours. Among grid points whose loss ties, the one closest to
        the neutral value wins.
    """
    learnable = LEARNABLE[method]
    function = STATISTICS[method].function

    def loss(value):
        pooled = function(frames, **{learnable.name: float(value)})
        return log_loss(finish(pooled), y_positive)

    grid = learnable.grid
    losses = np.array([loss(value) for value in grid])
    tied = np.flatnonzero(losses <= losses.min() + 1e-12 * max(1.0, abs(losses.min())))
    best = tied[np.argmin(np.abs(grid[tied] - learnable.neutral))]
    low = grid[max(best - 1, 0)]
    high = grid[min(best + 1, len(grid) - 1)]
    refined = minimize_scalar(
        loss, bounds=(low, high), method="bounded", options={"xatol": 1e-3}
    )
    if refined.fun < losses[best] - 1e-12:
        return float(refined.x)
    return float(grid[best])
