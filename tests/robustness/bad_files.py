"""Hostile and awkward files, built in memory: images, zips and model files."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image

from tests.unit.test_image_folder import make_zip


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def seven(side: int = 64) -> np.ndarray:
    """A thick 7, white on black: (side, side) uint8."""
    pixels = np.zeros((side, side), dtype=np.uint8)
    pixels[side // 5: side // 5 + side // 10, side // 4: 3 * side // 4] = 255  # the bar
    for row in range(side // 5, 4 * side // 5):  # the stroke down
        column = 3 * side // 4 - (row - side // 5) // 2
        pixels[row, max(0, column - side // 16): column + side // 16] = 255
    return pixels


def digit_png(side: int = 64, dark_on_light: bool = False) -> bytes:
    """A thick 7 on a plain background: a good image that every upload path accepts."""
    pixels = seven(side)
    if dark_on_light:
        pixels = 255 - pixels
    return png(Image.fromarray(pixels, mode="L"))


def truncated_png() -> bytes:
    data = digit_png(128)
    return data[: len(data) // 2]


def text_as_png() -> bytes:
    return b"This is a shopping list, not a picture.\nmilk\neggs\n" * 20


def bomb_png(side: int = 30_000) -> bytes:
    """A real decompression bomb: a side×side 8-bit grey PNG of zeros, about 1 MB compressed."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    parts = [compressor.compress(row * 1000) for _ in range(side // 1000)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def png_16bit() -> bytes:
    pixels = (np.asarray(Image.open(io.BytesIO(digit_png())), dtype=np.uint16) * 257).astype(np.uint16)
    return png(Image.fromarray(pixels))  # uint16 → mode I;16


def cmyk_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(digit_png())).convert("CMYK").save(buffer, format="JPEG")
    return buffer.getvalue()


def palette_png() -> bytes:
    return png(Image.open(io.BytesIO(digit_png())).convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE))


def alpha_png() -> bytes:
    """White ink whose transparency is in the alpha channel, on a transparent background."""
    grey = Image.open(io.BytesIO(digit_png()))
    rgba = Image.new("RGBA", grey.size, (255, 255, 255, 0))
    rgba.putalpha(grey)
    return png(rgba)


def animated_gif() -> bytes:
    first = Image.open(io.BytesIO(digit_png())).convert("P")
    second = Image.new("P", first.size, 0)
    buffer = io.BytesIO()
    first.save(buffer, format="GIF", save_all=True, append_images=[second], duration=200, loop=0)
    return buffer.getvalue()


def svg() -> bytes:
    return (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">'
            b'<path d="M4 4 H24 L10 24" stroke="white" stroke-width="3"/></svg>')


BAD_IMAGES = {  # name → (file name, bytes factory, words the message must contain)
    "truncated PNG": ("seven.png", truncated_png, "damaged or truncated"),
    "text renamed .png": ("notes.png", text_as_png, "not an image file"),
    "empty file": ("empty.png", lambda: b"", "empty"),
    "30000×30000 PNG": ("bomb.png", bomb_png, "decompression bomb"),
    "SVG": ("drawing.svg", svg, "Export it as a PNG"),
}
AWKWARD_IMAGES = {  # these simply work
    "16-bit PNG": ("deep.png", png_16bit),
    "CMYK JPEG": ("print.jpg", cmyk_jpeg),
    "palette PNG": ("palette.png", palette_png),
    "alpha PNG": ("alpha.png", alpha_png),
    "animated GIF": ("moving.gif", animated_gif),
}


def tiny_png(value: int, side: int = 8) -> bytes:
    return png(Image.fromarray(np.full((side, side), value, dtype=np.uint8), mode="L"))


def class_zip(classes: tuple[str, ...] = ("cats", "dogs"), per_class: int = 12, prefix: str = "") -> bytes:
    """A good zip of class folders, each class a different grey level."""
    return make_zip({f"{prefix}{name}/{index}.png": tiny_png(40 + 80 * position + index)
                   for position, name in enumerate(classes) for index in range(per_class)})


def zip_slip() -> bytes:
    return make_zip({"cats/1.png": tiny_png(10), "../../evil/2.png": tiny_png(20), "dogs/3.png": tiny_png(30)})


def zip_bomb(megabytes: int = 700) -> bytes:
    """Tiny compressed, huge uncompressed: one member of zeros (about 0.7 MB zipped)."""
    buffer = io.BytesIO()
    zeros = b"\x00" * 2**20
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cats/1.png", tiny_png(10))
        with archive.open("dogs/huge.png", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(zeros)
    return buffer.getvalue()


def no_class_folders() -> bytes:
    return make_zip({f"{index}.png": tiny_png(index * 10) for index in range(10)})


def one_class_only() -> bytes:
    return class_zip(("cats",))


def mixed_non_images() -> bytes:
    files = {f"{name}/{index}.png": tiny_png(40 + 100 * position) for position, name in enumerate(("cats", "dogs"))
             for index in range(10)}
    files.update({"cats/readme.txt": b"hello", "dogs/.DS_Store": b"\x00\x01", "__MACOSX/cats/._1.png": b"junk",
                  "dogs/notes.pdf": b"%PDF-1.4", "cats/fake.png": b"not a png"})
    return make_zip(files)


def deep_nesting(levels: int = 40) -> bytes:
    deep = "/".join(f"d{level}" for level in range(levels))
    return make_zip({f"cats/{deep}/1.png": tiny_png(10), "dogs/2.png": tiny_png(200)})


def many_tiny_files(count: int = 10_000) -> bytes:
    return make_zip({f"{'dark' if index % 2 else 'light'}/{index}.png": tiny_png(30 if index % 2 else 220, 4)
                   for index in range(count)})


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_16bit_alpha(side: int = 64) -> bytes:
    """A 16-bit grey + alpha PNG (colour type 4), written by hand: Pillow cannot write one."""
    import struct
    import zlib

    # The 7 of digit_png. (It was a centred stem under a bar: a T, which the digit check rightly calls no digit.)
    grey = (seven(side).astype(np.uint32) * 257).astype(">u2")  # 0-255 → 0-65535
    alpha = np.where(grey > 0, 65535, 30000).astype(">u2")  # transparent-ish paper, opaque ink
    pixels = np.stack([grey, alpha], axis=-1).reshape(side, side * 2)
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)
    header = struct.pack(">IIBBBBB", side, side, 16, 4, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(raw))
            + _png_chunk(b"IEND", b""))


def one_by_one_png() -> bytes:
    return png(Image.fromarray(np.full((1, 1), 255, dtype=np.uint8), mode="L"))


def one_by_100000_png() -> bytes:
    return png(Image.fromarray(np.full((1, 100_000), 255, dtype=np.uint8), mode="L"))


def polyglot_png_zip() -> bytes:
    """A valid PNG of a 7 that is also a valid zip of class folders (the zip appended after IEND)."""
    return digit_png(dark_on_light=True) + class_zip()


def pixel_bomb_zip(per_class: int = 2, side: int = 3000, rgba: bool = False) -> bytes:
    """Blank giant images that are tiny on the wire: each declares side² pixels in a few KB (or, as RGBA
    like the issue's, four bytes a pixel once decoded)."""
    bomb = png(Image.new("RGBA", (side, side))) if rgba else bomb_png(side)
    return make_zip({f"{name}/{index}.png": bomb for name in ("cats", "dogs") for index in range(per_class)})
