"""Real data bundled with skpool for examples, tests and the command line."""

from ._brown_creeper import load_brown_creeper

__all__ = ["load_brown_creeper"]
