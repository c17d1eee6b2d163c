"""PNG files and labels without any imaging library: zlib + struct, and a 5x7 pixel font.

``encode_png(rgb)`` / ``write_png(path, rgb)`` write an 8-bit RGB (or gray)
image from a ``uint8`` array of shape ``(H, W, 3)`` (or ``(H, W)``); the file
is written atomically. ``decode_png(data)`` reads 8-bit gray/RGB/RGBA PNGs
back (every filter type, no interlace): enough for tests and for pictures
this package writes. ``draw_text(image, x, y, text, color, scale)`` writes
upper-case labels in a 5x7 pixel font (lower case is drawn as upper case; an
unknown character as ``?``); ``text_size(text, scale)`` measures them.

Used by ``tenfold conformance --report`` (the heat map PNG) and available to
any command that draws pictures (``tenfold show``), so that none of them needs
matplotlib or Pillow.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np

from tenfold.spec.checkpoints import atomic_write
from tenfold.spec.errors import ShapeError, TenfoldError, expected

SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: 5x7 glyphs: 7 rows of 5 bits (most significant bit on the left), as hex bytes.
_GLYPHS = {
    'A': "0e11111f111111", 'B': "1e11111e11111e", 'C': "0e11101010110e", 'D': "1c12111111121c",
    'E': "1f10101e10101f", 'F': "1f10101e101010", 'G': "0e11101711110f", 'H': "1111111f111111",
    'I': "0e04040404040e", 'J': "0702020202120c", 'K': "11121418141211", 'L': "1010101010101f",
    'M': "111b1515111111", 'N': "11111915131111", 'O': "0e11111111110e", 'P': "1e11111e101010",
    'Q': "0e11111115120d", 'R': "1e11111e141211", 'S': "0f10100e01011e", 'T': "1f040404040404",
    'U': "1111111111110e", 'V': "11111111110a04", 'W': "1111111515150a", 'X': "11110a040a1111",
    'Y': "1111110a040404", 'Z': "1f01020408101f", '0': "0e11131519110e", '1': "040c040404040e",
    '2': "0e11010204081f", '3': "1f02040201110e", '4': "02060a121f0202", '5': "1f101e0101110e",
    '6': "0608101e11110e", '7': "1f010204080808", '8': "0e11110e11110e", '9': "0e11110f01020c",
    '-': "0000001f000000", '.': "00000000000c0c", '/': "00010204081000", ':': "000c0c000c0c00",
    '_': "0000000000001f", '(': "02040808080402", ')': "08040202020408", '=': "00001f001f0000",
    '<': "02040810080402", '>': "08040201020408", '+': "0004041f040400", ',': "000000000c0408",
    '%': "18190204081303", '*': "0004150e150400", '?': "0e110102040004", '!': "04040404040004",
    "'": "04040800000000", ' ': "00000000000000",
}
GLYPH_W, GLYPH_H, ADVANCE = 5, 7, 6  # a glyph's size and the horizontal step per character


def _glyph(ch: str) -> np.ndarray:
    bits = bytes.fromhex(_GLYPHS.get(ch.upper(), _GLYPHS["?"]))
    return np.array([[(row >> (GLYPH_W - 1 - i)) & 1 for i in range(GLYPH_W)] for row in bits], dtype=bool)


def text_size(text: str, scale: int = 1) -> tuple[int, int]:
    """``(width, height)`` in pixels of ``text`` drawn at ``scale``."""
    return (max(len(text) * ADVANCE - 1, 0) * scale, GLYPH_H * scale)


def draw_text(image: np.ndarray, x: int, y: int, text: str, color: tuple[int, ...], scale: int = 1) -> None:
    """Draw ``text`` with its top-left corner at ``(x, y)`` into ``image`` (H, W, C), clipped to the image."""
    h, w = image.shape[:2]
    for i, ch in enumerate(text):
        mask = np.kron(_glyph(ch), np.ones((scale, scale), dtype=bool))  # (7*scale, 5*scale)
        x0, y0 = x + i * ADVANCE * scale, y
        ys, xs = np.nonzero(mask)
        ys, xs = ys + y0, xs + x0
        keep = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
        image[ys[keep], xs[keep]] = color


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(image: np.ndarray) -> bytes:
    """The PNG bytes of a ``uint8`` image, ``(H, W)`` gray or ``(H, W, 3)`` RGB."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TenfoldError(expected("encode_png", "a uint8 image", f"dtype {image.dtype}"))
    if image.ndim == 2:
        color_type, channels = 0, 1
    elif image.ndim == 3 and image.shape[2] == 3:
        color_type, channels = 2, 3
    else:
        raise ShapeError(expected("encode_png", "an image of shape (H, W) or (H, W, 3)", image.shape))
    h, w = image.shape[:2]
    if h < 1 or w < 1:
        raise ShapeError(expected("encode_png", "a non-empty image", image.shape))
    rows = np.ascontiguousarray(image).reshape(h, w * channels)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()  # filter type 0 on every row
    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write :func:`encode_png` of ``image`` to ``path`` atomically."""
    data = encode_png(image)
    return atomic_write(path, lambda fh: fh.write(data))


def _paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    p = a.astype(np.int16) + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c)).astype(np.uint8)


def decode_png(data: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced gray, RGB or RGBA PNG into ``(H, W)`` or ``(H, W, C)`` ``uint8``."""
    if not data.startswith(SIGNATURE):
        raise TenfoldError(expected("decode_png", "PNG data (signature 89 50 4E 47 0D 0A 1A 0A)", data[:8]))
    pos, idat, header = len(SIGNATURE), b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] != zlib.crc32(kind + body) & 0xFFFFFFFF:
            raise TenfoldError(expected("decode_png", f"a valid CRC on chunk {kind!r}", "a mismatch"))
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if header is None:
        raise TenfoldError(expected("decode_png", "an IHDR chunk", "none"))
    w, h, depth, color_type, _, _, interlace = header
    channels = {0: 1, 2: 3, 6: 4}.get(color_type)
    if depth != 8 or channels is None or interlace:
        raise TenfoldError(expected("decode_png", "8-bit gray, RGB or RGBA without interlace",
                                    f"depth {depth}, color type {color_type}, interlace {interlace}"))
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * channels)
    out = np.zeros((h, w * channels), np.uint8)
    prev = np.zeros(w * channels, np.uint8)
    for r in range(h):
        kind, line = raw[r, 0], raw[r, 1:].copy()
        if kind == 2:
            line = line + prev
        elif kind in (1, 3, 4):  # these depend on the reconstructed left neighbour: one pixel at a time
            for i in range(line.size):
                left = line[i - channels] if i >= channels else np.uint8(0)
                up_left = prev[i - channels] if i >= channels else np.uint8(0)
                pred = {1: left, 3: np.uint8((int(left) + int(prev[i])) // 2),
                        4: _paeth(np.array(left), np.array(prev[i]), np.array(up_left))}[int(kind)]
                line[i] = np.uint8((int(line[i]) + int(pred)) & 0xFF)
        out[r] = prev = line
    return out.reshape(h, w) if channels == 1 else out.reshape(h, w, channels)


__all__ = ["ADVANCE", "GLYPH_H", "GLYPH_W", "SIGNATURE", "decode_png", "draw_text", "encode_png", "text_size",
           "write_png"]
