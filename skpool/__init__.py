"""Pool per-frame predictions into per-video predictions, the scikit-learn way."""

from ._aggregator import VideoAggregator, default_grid
from ._io import (
    DatasetReport,
    align_videos,
    load_dataset,
    load_dfdc_labels,
    load_labels,
    load_predictions,
    save_predictions,
    write_submission,
)
from ._pooler import FramePooler
from ._ragged import RaggedFrames, as_ragged
from ._scorer import FrameScorer
from ._stats import STATISTICS

__version__ = "0.1.0"

__all__ = [
    "STATISTICS",
    "DatasetReport",
    "FramePooler",
    "FrameScorer",
    "RaggedFrames",
    "VideoAggregator",
    "__version__",
    "align_videos",
    "as_ragged",
    "default_grid",
    "load_dataset",
    "load_dfdc_labels",
    "load_labels",
    "load_predictions",
    "save_predictions",
    "write_submission",
]
