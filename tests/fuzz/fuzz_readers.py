"""Feed damaged files to skpool's file readers and check how they fail.

Each reader must either return a well-formed result or raise one of the
exceptions it documents (ValueError, or ImportError when an optional
package is missing) with a message that names the file. Any other
exception, such as UnicodeDecodeError, EOFError, zipfile.BadZipFile,
KeyError or a pickle error, or a ValueError subclass from a parser that
does not name the file, is a bug in the reader.

The damaged files are mutations (truncation, flipped, inserted and
deleted bytes, random bytes) of the small seed files in
``tests/fuzz_corpus``. ``tests/test_fuzz_readers.py`` runs a short,
reproducible round of this in the default test run. The long run is::

    python tests/fuzz/fuzz_readers.py --examples 20000

which draws fresh examples on every run and stops at the first failure,
printing the seed file, the damaged bytes and the traceback. Pass
``--reader NAME`` (repeatable) to fuzz some readers only, and
``--write-corpus`` to write the seed files again.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skpool

CORPUS = Path(__file__).resolve().parent.parent / "fuzz_corpus"

# Seed file name -> reader call. The readers never unpickle here: mutated
# pickles could call arbitrary functions, so pickled files are only
# truncated, in tests/test_fuzz_readers.py.
READERS = {
    "predictions.csv": lambda path: skpool.load_predictions(path),
    "faces.csv": lambda path: skpool.load_predictions(path, drop_duplicates=True),
    "predictions.csv.gz": lambda path: skpool.load_predictions(path),
    "predictions.parquet": lambda path: skpool.load_predictions(path),
    "stored.npz": lambda path: skpool.load_predictions(path),
    "deflated.npz": lambda path: skpool.load_predictions(path),
    "padded.npy": lambda path: skpool.load_predictions(path, ids=["a", "b", "c"]),
    "pickled_dict.npy": lambda path: skpool.load_predictions(path),
    "metadata.json": lambda path: skpool.load_dfdc_labels(path),
    "labels.csv": lambda path: skpool.load_labels(path),
}

DOCUMENTED_ERRORS = (ValueError, ImportError)


def seed_bytes(name):
    """Return the content of seed file ``name``."""
    return (CORPUS / name).read_bytes()


def check_result(name, result):
    """Check that a reader's successful result is well formed."""
    if name in ("metadata.json", "labels.csv"):
        assert result.index.is_unique, result
        assert len(result) > 0
        return
    assert isinstance(result, skpool.RaggedFrames)
    assert result.ids is not None
    assert len(result.ids) == len(result)
    assert len(set(result.ids.tolist())) == len(result)
    assert result.values.dtype == np.float64
    assert result.values.ndim == 1
    assert int(result.lengths.sum()) == len(result.values)


def check_reader(name, data, directory):
    """Write ``data`` as a file named like seed ``name`` and read it back.

    Returns the exception the reader raised, or None when it returned a
    well-formed result. Raises AssertionError for an undocumented
    exception or a message that does not name the file.
    """
    path = Path(directory) / ("damaged_" + name)
    path.write_bytes(bytes(data))
    try:
        result = READERS[name](path)
    except DOCUMENTED_ERRORS as error:
        kind = type(error)
        assert kind in DOCUMENTED_ERRORS, (
            f"{name}: the reader raised {kind.__module__}.{kind.__qualname__}, a "
            f"subclass of a documented error that should have been converted: {error}"
        )
        assert str(path) in str(error), (
            f"{name}: the message does not name the file: {error}"
        )
        return error
    check_result(name, result)
    return None


@st.composite
def damaged_files(draw, names=tuple(READERS)):
    """Draw a seed file name and a mutated copy of its bytes."""
    name = draw(st.sampled_from(sorted(names)))
    data = bytearray(seed_bytes(name))
    n_mutations = draw(st.integers(1, 4))
    for _ in range(n_mutations):
        kind = draw(
            st.sampled_from(["truncate", "flip", "set", "insert", "delete", "random"])
        )
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "truncate":
            del data[position:]
        elif kind == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[position] = draw(st.sampled_from([0, 10, 13, 34, 44, 0x80, 0xFF]))
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 16))]
        elif kind == "random":
            data = bytearray(draw(st.binary(max_size=200)))
    return name, bytes(data)


def fuzz(examples, names, derandomize=False):
    """Run ``examples`` damaged files through the readers of ``names``."""

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(case=damaged_files(tuple(names)))
    def run(case):
        name, data = case
        with tempfile.TemporaryDirectory() as directory:
            check_reader(name, data, directory)

    run()


def write_corpus(directory=CORPUS):
    """Write the seed files: three videos with NaN, 0, 1, a space and an accent."""
    import gzip
    import json

    import pandas as pd

    directory = Path(directory)
    videos = {
        "a.mp4": [0.1, 0.9, np.nan],
        "b c.mp4": [0.5],
        "vidéo.mp4": [0.0, 1.0, 0.25, 0.75],
    }
    arrays = {video_id: np.array(scores) for video_id, scores in videos.items()}
    rows = [
        (video_id, frame, score)
        for video_id, scores in videos.items()
        for frame, score in enumerate(scores)
    ]
    table = pd.DataFrame(rows, columns=["video", "frame", "score"])
    table.to_csv(directory / "predictions.csv", index=False)
    # mtime=0 keeps the gzip header, and so the file, the same on every run.
    csv_bytes = (directory / "predictions.csv").read_bytes()
    (directory / "predictions.csv.gz").write_bytes(gzip.compress(csv_bytes, mtime=0))
    table.to_parquet(directory / "predictions.parquet", index=False)
    faces = pd.DataFrame(
        [
            ("a.mp4", 0, 0, 0.2),
            ("a.mp4", 0, 1, 0.8),
            ("b.mp4", 0, 0, 0.4),
            ("b.mp4", 1, 0, 0.6),
        ],
        columns=["video", "frame", "face", "score"],
    )
    faces.to_csv(directory / "faces.csv", index=False)
    np.savez(directory / "stored.npz", **arrays)
    skpool.save_predictions(directory / "deflated.npz", arrays)
    np.save(
        directory / "padded.npy",
        skpool.RaggedFrames.from_list(list(arrays.values())).to_padded(),
    )
    np.save(directory / "pickled_dict.npy", arrays, allow_pickle=True)
    metadata = {
        "a.mp4": {"label": "FAKE", "split": "train", "original": "b c.mp4"},
        "b c.mp4": {"label": "REAL", "split": "train"},
        "vidéo.mp4": {"label": "FAKE", "split": "train", "original": "b c.mp4"},
    }
    (directory / "metadata.json").write_text(
        json.dumps(metadata, ensure_ascii=False), encoding="utf-8"
    )
    labels = pd.DataFrame({"video": list(videos), "label": [1, 0, 1]})
    labels.to_csv(directory / "labels.csv", index=False)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--examples", type=int, default=20000, help="number of damaged files to try"
    )
    parser.add_argument(
        "--reader",
        action="append",
        choices=sorted(READERS),
        help="seed file whose reader to fuzz (default: all); repeatable",
    )
    parser.add_argument(
        "--write-corpus",
        action="store_true",
        help=f"write the seed files to {CORPUS} and exit",
    )
    args = parser.parse_args(argv)
    if args.write_corpus:
        write_corpus()
        return 0
    names = args.reader or sorted(READERS)
    fuzz(args.examples, names)
    print(f"{args.examples} damaged files, readers of {', '.join(names)}: no failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
