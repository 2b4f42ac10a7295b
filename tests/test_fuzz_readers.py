"""Damaged files given to the readers raise a ValueError that names the file.

The cases here are the ones the fuzz run in ``tests/fuzz/fuzz_readers.py``
found, each fixed in ``skpool/_io.py`` for its whole kind of failure, plus a
short reproducible round of the fuzz run itself.
"""

import gzip
import importlib.util
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

import skpool
from skpool._cli import main

_HARNESS_PATH = Path(__file__).parent / "fuzz" / "fuzz_readers.py"
_spec = importlib.util.spec_from_file_location("skpool_fuzz_readers", _HARNESS_PATH)
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

CORPUS = harness.CORPUS


def _npy_bytes(array=None, header=None):
    """Return a .npy file's bytes, with an optional replacement header dict."""
    buffer = io.BytesIO()
    if header is None:
        np.lib.format.write_array(buffer, array)
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
        buffer.write(np.asarray(array, dtype="<f8").tobytes())
    return buffer.getvalue()


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_seed_corpus_reads(tmp_path):
    """Every seed file reads back, so the fuzz run starts from valid files."""
    for name in harness.READERS:
        if name == "pickled_dict.npy":
            continue
        assert harness.check_reader(name, harness.seed_bytes(name), tmp_path) is None


def test_seed_csv_values():
    """The CSV seed reads as the videos it was written from, NaN frame kept."""
    videos = skpool.load_predictions(CORPUS / "predictions.csv")
    assert videos.ids.tolist() == ["a.mp4", "b c.mp4", "vidéo.mp4"]
    assert_array_equal(videos[0], [0.1, 0.9, np.nan])
    assert_array_equal(videos[2], [0.0, 1.0, 0.25, 0.75])


# Compressed CSV ------------------------------------------------------------

GZIP_CSV = gzip.compress(b"video,frame,score\na.mp4,0,0.25\na.mp4,1,0.75\n", mtime=0)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(GZIP_CSV[:2], id="gzip-magic-only"),
        pytest.param(GZIP_CSV[:12], id="gzip-truncated-header"),
        pytest.param(GZIP_CSV[:-9], id="gzip-truncated-stream"),
        pytest.param(b"\x1f", id="one-byte"),
        pytest.param(GZIP_CSV[:3] + b"\x09" + GZIP_CSV[4:], id="gzip-bad-flags"),
        pytest.param(GZIP_CSV[:-8] + b"\0\0\0\0" + GZIP_CSV[-4:], id="gzip-bad-crc"),
        pytest.param(
            GZIP_CSV[:10] + bytes([GZIP_CSV[10] ^ 0x07]) + GZIP_CSV[11:],
            id="deflate-bad-block",
        ),
    ],
)
def test_damaged_csv_gz_raises_value_error(tmp_path, data):
    """EOFError, BadGzipFile and zlib.error from a damaged .csv.gz become ValueError."""
    path = _write(tmp_path, "predictions.csv.gz", data)
    with pytest.raises(ValueError, match=r"Could not parse '.*predictions.csv.gz'"):
        skpool.load_predictions(path)


def test_csv_gz_reads_values(tmp_path):
    """An intact .csv.gz reads with its values."""
    path = _write(tmp_path, "predictions.csv.gz", GZIP_CSV)
    videos = skpool.load_predictions(path)
    assert videos.ids.tolist() == ["a.mp4"]
    assert_array_equal(videos[0], [0.25, 0.75])


# .npy headers and sizes --------------------------------------------------------

PADDED = np.array([[0.1, 0.9], [0.5, np.nan]])


@pytest.mark.parametrize(
    "damage",
    [
        # numpy parses the header with ast.literal_eval (SyntaxError) after
        # tokenize (TokenError).
        pytest.param((b"'descr': '<f8'", b"'descr': ,f8'"), id="header-syntax-error"),
        pytest.param((b"{'descr'", b"z'descr'"), id="header-token-error"),
        pytest.param((b"'shape': (2, 2)", b"'shape': (2, 'a')"), id="header-bad-shape"),
        pytest.param((b"'<f8'", b"'<x8'"), id="header-bad-dtype"),
    ],
)
def test_damaged_npy_header_raises_value_error(tmp_path, damage):
    """Every way numpy's header parser fails becomes a ValueError naming the file."""
    old, new = damage
    data = _npy_bytes(PADDED)
    assert old in data
    path = _write(tmp_path, "padded.npy", data.replace(old, new))
    with pytest.raises(ValueError, match=r"Could not read '.*padded.npy'"):
        skpool.load_predictions(path, ids=["a", "b"])


@pytest.mark.parametrize(
    "shape", [(10**12, 4), (2**27, 4), (3, 2)], ids=["29-TiB", "4-GiB", "short"]
)
def test_npy_header_larger_than_file_raises(tmp_path, shape):
    """A header announcing more data than the file contains raises before allocating."""
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    path = _write(tmp_path, "padded.npy", _npy_bytes(np.zeros(4), header))
    with pytest.raises(ValueError, match=r"announces an array of shape .* truncated"):
        skpool.load_predictions(path, ids=range(shape[0]))


def test_npz_member_larger_than_archive_raises(tmp_path):
    """A .npz member whose header announces a huge array names the video."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    path = tmp_path / "predictions.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ok.mp4.npy", _npy_bytes(np.array([0.5])))
        archive.writestr("huge.mp4.npy", _npy_bytes(np.zeros(2), header))
    with pytest.raises(ValueError, match=r"video 'huge.mp4' from '.*predictions.npz'"):
        skpool.load_predictions(path)


# Pickled .npy, read with allow_pickle=True ----------------------------------------


def test_truncated_pickle_every_length_raises(tmp_path):
    """A pickled dict cut at any byte raises ValueError, not an unpickling error."""
    data = harness.seed_bytes("pickled_dict.npy")
    path = tmp_path / "pickled.npy"
    for length in range(len(data)):
        path.write_bytes(data[:length])
        with pytest.raises(ValueError, match=r"Could not read '.*pickled.npy'"):
            skpool.load_predictions(path, allow_pickle=True)


@pytest.mark.parametrize(
    ("old", "new", "error_name"),
    [
        (b"_reconstruct", b"_Reconstruct", "AttributeError"),
        (b"numpy._core.multiarray", b"numpy._core.multiarrax", "ModuleNotFoundError"),
    ],
    ids=["missing-attribute", "missing-module"],
)
def test_damaged_pickle_raises_value_error(tmp_path, old, new, error_name):
    """Any exception from unpickling a damaged file becomes a ValueError."""
    data = harness.seed_bytes("pickled_dict.npy")
    assert old in data
    path = _write(tmp_path, "pickled.npy", data.replace(old, new, 1))
    with pytest.raises(
        ValueError, match=rf"Could not read '.*pickled.npy': {error_name}"
    ):
        skpool.load_predictions(path, allow_pickle=True)


def test_pickled_dict_reads_values():
    """The intact pickled seed reads with its values when pickle is allowed."""
    videos = skpool.load_predictions(CORPUS / "pickled_dict.npy", allow_pickle=True)
    assert videos.ids.tolist() == ["a.mp4", "b c.mp4", "vidéo.mp4"]
    assert_array_equal(videos[1], [0.5])


# .npz archives --------------------------------------------------------------------


def _damaged_npz(tmp_path, offset, value):
    """Return a stored .npz with one byte of its first central directory entry set.

    zipfile takes a member's flags, compression method and name from the
    central directory, at offsets 8, 10 and 46 of its entry.
    """
    data = bytearray(harness.seed_bytes("stored.npz"))
    entry = data.find(b"PK\x01\x02")
    data[entry + offset] = value
    return _write(tmp_path, "predictions.npz", bytes(data))


@pytest.mark.parametrize(
    ("offset", "value"),
    [
        # Flag bit 0 claims encryption (RuntimeError).
        pytest.param(8, 0x01, id="encrypted-flag"),
        # Method 99 is not supported (NotImplementedError).
        pytest.param(10, 99, id="unknown-compression"),
    ],
)
def test_damaged_npz_entry_raises_value_error(tmp_path, offset, value):
    """zipfile's RuntimeError and NotImplementedError become ValueError."""
    path = _damaged_npz(tmp_path, offset, value)
    with pytest.raises(ValueError, match=r"'.*predictions.npz'"):
        skpool.load_predictions(path)


def test_npz_name_not_utf8_raises(tmp_path):
    """A member name flagged UTF-8 that is not UTF-8 raises ValueError."""
    data = bytearray(harness.seed_bytes("stored.npz"))
    entry = data.find(b"PK\x01\x02")
    # Flag bit 11 (UTF-8 names) is bit 3 of the flags' high byte.
    data[entry + 9] |= 0x08
    data[entry + 46] = 0xA0
    path = _write(tmp_path, "predictions.npz", bytes(data))
    with pytest.raises(ValueError, match=r"as a .npz archive"):
        skpool.load_predictions(path)


def test_npz_bad_offset_raises(tmp_path):
    """A central directory offset past the file start (OSError) raises ValueError."""
    data = bytearray(harness.seed_bytes("deflated.npz"))
    end = data.rfind(b"PK\x05\x06")
    # The end record's last fields: central directory size, then offset.
    data[end + 12 : end + 16] = (len(data) * 4).to_bytes(4, "little")
    path = _write(tmp_path, "predictions.npz", bytes(data))
    with pytest.raises(ValueError, match=r"'.*predictions.npz'"):
        skpool.load_predictions(path)


# JSON metadata --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'\xfb"a.mp4": {"label": "FAKE"}}', id="not-utf8"),
        pytest.param(
            '{"vidéo.mp4": {"label": "FAKE"}}'.encode("latin-1"), id="latin-1"
        ),
        pytest.param(b"[" * 100_000, id="deeply-nested"),
        pytest.param(b"", id="empty"),
        pytest.param(b'{"a.mp4": {"label": "FA', id="truncated"),
    ],
)
def test_damaged_metadata_raises_value_error(tmp_path, data):
    """UnicodeDecodeError, RecursionError and JSON errors become one ValueError."""
    path = _write(tmp_path, "metadata.json", data)
    with pytest.raises(ValueError, match=r"Could not parse '.*metadata.json' as JSON"):
        skpool.load_dfdc_labels(path)


def test_metadata_unicode_ids(tmp_path):
    """Video ids with accents and spaces keep their labels."""
    path = tmp_path / "metadata.json"
    content = {"vidéo 1.mp4": {"label": "FAKE"}, "b c.mp4": {"label": "REAL"}}
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    assert_array_equal(
        skpool.load_dfdc_labels(path, ["b c.mp4", "vidéo 1.mp4"]), [0, 1]
    )


# Parquet --------------------------------------------------------------------------


def _parquet_with_metadata(tmp_path, pandas_metadata):
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    table = pyarrow.Table.from_pandas(
        pd.DataFrame(
            {"video": ["a", "a", "b"], "frame": [0, 1, 0], "score": [0.2, 0.4, 0.9]}
        )
    )
    table = table.replace_schema_metadata({b"pandas": pandas_metadata})
    path = tmp_path / "predictions.parquet"
    parquet.write_table(table, path)
    return path


@pytest.mark.parametrize(
    "pandas_metadata",
    [b'{"columns": []}', b"{}", b"not json", b'{"index_columns": 5}'],
    ids=["no-index-columns", "empty", "not-json", "wrong-type"],
)
def test_parquet_damaged_pandas_metadata_reads(tmp_path, pandas_metadata):
    """Damaged pandas metadata, a KeyError in pyarrow, does not stop reading."""
    path = _parquet_with_metadata(tmp_path, pandas_metadata)
    videos = skpool.load_predictions(path)
    assert videos.ids.tolist() == ["a", "b"]
    assert_array_equal(videos[0], [0.2, 0.4])
    assert_array_equal(videos[1], [0.9])


def test_parquet_invalid_utf8_raises(tmp_path):
    """A string column with invalid UTF-8 raises ValueError, not UnicodeDecodeError."""
    pytest.importorskip("pyarrow")
    data = bytearray(harness.seed_bytes("predictions.parquet"))
    position = data.find(b"a.mp4")
    assert position > 0
    data[position] = 0xC1
    path = _write(tmp_path, "predictions.parquet", bytes(data))
    with pytest.raises(ValueError, match=r"'.*predictions.parquet'"):
        skpool.load_predictions(path)


# The short fuzz round -------------------------------------------------------------


def test_fuzz_readers_short():
    """A short reproducible round of damaged files meets the reader contract."""
    harness.fuzz(examples=300, names=sorted(harness.READERS), derandomize=True)


PREDICTION_SEEDS = [
    "predictions.csv",
    "predictions.csv.gz",
    "predictions.parquet",
    "stored.npz",
    "deflated.npz",
]


@pytest.mark.parametrize("name", PREDICTION_SEEDS)
def test_cli_damaged_file_one_line_error(tmp_path, capsys, name):
    """skpool predict on a damaged file exits 1 with one error line, no traceback."""
    data = harness.seed_bytes(name)
    path = _write(tmp_path, name, data[: len(data) // 2])
    out = tmp_path / "submission.csv"
    status = main(["predict", str(path), "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err.startswith("skpool: error: ")
    assert len(captured.err.strip().splitlines()) == 1
    assert name in captured.err
    assert not out.exists()
