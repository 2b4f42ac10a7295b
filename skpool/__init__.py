"""skpool: pool per-frame predictions into per-video predictions, the scikit-learn way."""

from ._aggregator import VideoAggregator, default_grid
from ._ragged import RaggedFrames, as_ragged
from ._scorer import FrameScorer
from ._stats import STATISTICS

__version__ = "0.1.0"

__all__ = [
    "STATISTICS",
    "FrameScorer",
    "RaggedFrames",
    "VideoAggregator",
    "__version__",
    "as_ragged",
    "default_grid",
]
