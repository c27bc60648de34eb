"""Reader for the IDX format that MNIST and Fashion-MNIST are published in.

An IDX file is a 4-byte magic number, then one big-endian uint32 per dimension, then the data
in C order. The magic number is two zero bytes, a type code and the number of dimensions, so
MNIST images start with 0x00000803 (uint8, 3 dims) and labels with 0x00000801 (uint8, 1 dim).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

# Type code (third magic byte) → big-endian dtype, from the format's definition.
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


class IdxFormatError(ValueError):
    """An IDX file is malformed: bad magic number, truncated, or of an unexpected shape."""


def parse_idx(data: bytes, source: str = "<bytes>", expected_ndim: int | None = None) -> np.ndarray:
    """Parses the bytes of one IDX file (not gzipped).

    Args:
        data: The raw file content.
        source: A name for the data, used in error messages.
        expected_ndim: If given, the number of dimensions the file must declare
            (3 for an image file, 1 for a label file).

    Returns:
        A read-only array in native byte order with the shape the header declares.

    Raises:
        IdxFormatError: If the header is invalid or the data is shorter or longer than declared.
    """
    if len(data) < 4:
        raise IdxFormatError(f"{source}: only {len(data)} bytes; an IDX file starts with a 4-byte magic number.")
    magic = int.from_bytes(data[:4], "big")
    type_code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or type_code not in _IDX_DTYPES or ndim == 0:
        raise IdxFormatError(
            f"{source}: bad magic number 0x{magic:08X}; an IDX file starts with 0x0000TTDD "
            "(TT = type code 08/09/0B/0C/0D/0E, DD = number of dimensions). "
            "Is this really an IDX file, and is it gzipped twice or not at all?"
        )
    if expected_ndim is not None and ndim != expected_ndim:
        raise IdxFormatError(
            f"{source}: declares {ndim} dimension(s) (magic 0x{magic:08X}), expected {expected_ndim} "
            f"(magic 0x{0x800 + expected_ndim:08X}). Are the image and label files swapped?"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IdxFormatError(f"{source}: truncated inside the header ({len(data)} of {header_size} bytes).")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[type_code]
    expected_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found_bytes = len(data) - header_size
    if found_bytes != expected_bytes:
        problem = "truncated" if found_bytes < expected_bytes else "has trailing bytes"
        raise IdxFormatError(
            f"{source}: {problem}: the header declares shape {shape} = {expected_bytes:,} bytes of data, "
            f"but the file holds {found_bytes:,}. Download the file again."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    if dtype.byteorder == ">":
        array = array.astype(dtype.newbyteorder("="))
    array.flags.writeable = False
    return array


def read_idx(path: str | Path, expected_ndim: int | None = None) -> np.ndarray:
    """Reads an IDX file from disk, gzipped (`.gz`, detected by content) or raw.

    Args:
        path: The file to read.
        expected_ndim: If given, the number of dimensions the file must declare.

    Returns:
        The array the file holds (see `parse_idx`).

    Raises:
        FileNotFoundError: If the file does not exist.
        IdxFormatError: If the file is corrupt, truncated, or not IDX.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise IdxFormatError(
                f"{path}: the gzip stream is damaged or truncated ({error}). Download it again."
            ) from error
    return parse_idx(raw, source=str(path), expected_ndim=expected_ndim)
