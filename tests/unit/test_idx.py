"""The IDX reader, on files the tests write byte by byte."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from core.data.idx import IdxFormatError, parse_idx, read_idx


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def test_reads_uint8_images_gzipped(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(images)))
    result = read_idx(path, expected_ndim=3)
    np.testing.assert_array_equal(result, images)
    assert result.dtype == np.uint8
    assert not result.flags.writeable


def test_reads_raw_labels_and_big_endian_int32(tmp_path):
    labels = np.array([7, 2, 1, 0], dtype=np.uint8)
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(idx_bytes(labels))
    np.testing.assert_array_equal(read_idx(path, expected_ndim=1), labels)
    values = np.array([[1, -2], [300000, 4]], dtype=np.int32)
    parsed = parse_idx(idx_bytes(values, type_code=0x0C))
    np.testing.assert_array_equal(parsed, values)
    assert parsed.dtype.byteorder in ("=", "<", "|")


def test_truncated_file_is_a_clear_error(tmp_path):
    data = idx_bytes(np.zeros((10, 28, 28), np.uint8))
    path = tmp_path / "cut-idx3-ubyte"
    path.write_bytes(data[:-100])
    with pytest.raises(IdxFormatError, match=r"truncated.*7,840 bytes.*7,740"):
        read_idx(path)


def test_truncated_gzip_stream_is_a_clear_error(tmp_path):
    compressed = gzip.compress(idx_bytes(np.ones((50, 28, 28), np.uint8)))
    path = tmp_path / "cut.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(IdxFormatError, match="damaged or truncated"):
        read_idx(path)


def test_bad_magic_number_is_a_clear_error(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(IdxFormatError, match="bad magic number 0x89504E47"):
        read_idx(path)


def test_swapped_image_and_label_files_are_named(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(IdxFormatError, match=r"expected 3.*swapped"):
        read_idx(path, expected_ndim=3)


def test_header_shorter_than_declared(tmp_path):
    with pytest.raises(IdxFormatError, match="header"):
        parse_idx(struct.pack(">BBBB", 0, 0, 8, 3) + b"\x00\x00\x00\x01")
    with pytest.raises(IdxFormatError, match="only 2 bytes"):
        parse_idx(b"\x00\x00")
