"""``tenfold run-onnx MODEL.onnx IMAGES...``: classify images with an exported model in onnxruntime.

It needs only NumPy and onnxruntime: the input size, layout, channel order
and normalisation come from the model's ``metadata_props``
(:class:`~tenfold.spec.contracts.ExportMetadata`, written by ``tenfold
export`` for every model: ViT, FReLU, SAN). Images may be ``.npy`` arrays (HWC or CHW, uint8 in
[0, 255] or float in [0, 1]), binary PPM/PGM files, or any format Pillow
reads when Pillow is installed (pixel ranges: see :func:`load_image`). Each image is resized to the model's size
(bilinear, half-pixel centres, as ``tf.image.resize`` in the official input
pipeline), normalised, and the top-k classes are printed with their
softmax probabilities.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from tenfold.spec.contracts import ExportMetadata
from tenfold.spec.errors import TenfoldError, expected


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="an .onnx file written by tenfold export")
    parser.add_argument("images", nargs="+", help=".npy, .ppm/.pgm, or (with Pillow) .png/.jpg ... files")
    parser.add_argument("--top", type=int, default=5, help="classes to print per image (default 5)")
    parser.add_argument("--provider", choices=("auto", "cpu", "cuda"), default="auto",
                        help="onnxruntime provider (default: CUDA when available, else CPU)")
    parser.add_argument("--labels", help="text file with one class name per line")


def _bad(path: Path, what: str, got: str) -> TenfoldError:
    return TenfoldError(expected("run-onnx", what, f"{path}: {got}"))


def _read_pnm(path: Path) -> np.ndarray:
    data = path.read_bytes()
    tokens, pos = [], 0
    try:
        while len(tokens) < 4:  # magic, width, height, maxval (comments skipped)
            while data[pos:pos + 1].isspace():
                pos += 1
            if data[pos:pos + 1] == b"#":
                pos = data.index(b"\n", pos) + 1
                continue
            end = pos
            while end < len(data) and not data[end:end + 1].isspace():
                end += 1
            if end == pos:
                raise ValueError("header ends early")
            tokens.append(data[pos:end])
            pos = end
        magic, w, h, maxval = tokens[0], int(tokens[1]), int(tokens[2]), int(tokens[3])
    except ValueError:
        raise _bad(path, "a binary 8-bit PPM (P6) or PGM (P5)", "a malformed header") from None
    pos += 1
    if magic not in (b"P5", b"P6") or not 1 <= maxval <= 255 or w < 1 or h < 1:
        raise _bad(path, "a binary 8-bit PPM (P6) or PGM (P5)", f"{magic.decode(errors='replace')!r}, maxval {maxval}")
    c = 3 if magic == b"P6" else 1
    if len(data) - pos < w * h * c:
        raise _bad(path, f"{w * h * c} bytes of {w}x{h} pixels", f"{max(len(data) - pos, 0)} (a truncated file)")
    img = np.frombuffer(data, np.uint8, count=w * h * c, offset=pos).reshape(h, w, c)
    return img.astype(np.float64) * (255.0 / maxval)


def _read_npy(path: Path) -> np.ndarray:
    with open(path, "rb") as fh:  # our handle, closed on every path
        try:
            a = np.load(fh, allow_pickle=False)
        except (ValueError, EOFError, OSError) as err:
            reason = "object arrays, which tenfold never unpickles" if "bject" in str(err) or "pickle" in str(err) \
                else f"{type(err).__name__}: {str(err).split('. ')[0][:200]}"
            raise _bad(path, "a readable .npy image", reason) from None
    if not isinstance(a, np.ndarray):
        raise _bad(path, "a single .npy array", "an .npz archive")
    return a


def _pixels(path: Path, a: np.ndarray) -> np.ndarray:
    """Validated pixel values as float64 in [0, 255] (see :func:`load_image`)."""
    what = "pixels as integers in [0, 255] or floats in [0, 1] (or [0, 255])"
    if a.dtype.kind not in "iuf":
        raise _bad(path, what, f"dtype {a.dtype}")
    if a.size == 0:
        raise _bad(path, "a non-empty image", f"shape {a.shape}")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise _bad(path, what, "NaN or infinite values")
    lo, hi = a.min(), a.max()
    if lo < 0 or hi > 255:
        hint = "; rescale to 8 bits first" if a.dtype.kind in "iu" else \
            "; pass raw pixels, the model's metadata says how to normalise them" if lo < 0 else ""
        raise _bad(path, what, f"values in [{lo}, {hi}] (dtype {a.dtype}){hint}")
    scale = 255.0 if a.dtype.kind == "f" and hi <= 1.0 else 1.0
    return a.astype(np.float64) * scale


def load_image(path: str | Path) -> np.ndarray:
    """An image as float64 HWC RGB in [0, 255].

    ``.npy`` arrays are HWC or CHW with 1 or 3 channels (or HW): integers in
    [0, 255], or floats in [0, 1] (scaled by 255; floats above 1 are taken as
    [0, 255]). Anything else (other dtypes, values outside these ranges such
    as a 16-bit image, NaN, strings) is refused, never rescaled silently.

    Raises:
        TenfoldError: For a missing or unreadable file, a format it cannot
            read, or pixels outside the documented ranges.
    """
    path = Path(path)
    if not path.is_file():
        raise _bad(path, "an image file", "no such file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        a = _read_npy(path)
        if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[2] not in (1, 3):
            a = a.transpose(1, 2, 0)  # CHW -> HWC
        a = _pixels(path, a)
    elif suffix in (".ppm", ".pgm", ".pnm"):
        a = _read_pnm(path)
    else:
        try:
            from PIL import Image
        except ImportError:
            raise TenfoldError(expected("run-onnx", ".npy or .ppm/.pgm images (install Pillow for other formats)",
                                        str(path))) from None
        try:
            with Image.open(path) as im:  # closed on every path: no leaked handle
                a = np.asarray(im.convert("RGB"), np.float64)
        except (OSError, ValueError) as err:  # PIL.UnidentifiedImageError is an OSError
            raise _bad(path, "an image Pillow can read", f"{type(err).__name__}: {err}") from None
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3):
        raise TenfoldError(expected("run-onnx", "an HWC image with 1 or 3 channels", f"{path}: shape {a.shape}"))
    return np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    src = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0, n_in - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    w = np.zeros((n_out, n_in))
    w[np.arange(n_out), lo] += 1.0 - (src - lo)
    w[np.arange(n_out), hi] += src - lo
    return w


def preprocess(img: np.ndarray, height: int, width: int, meta: ExportMetadata) -> np.ndarray:
    """HWC RGB [0, 255] image -> the model's CHW float32 input, as its metadata describes it.

    Resized to ``height`` x ``width``, channels reordered for a BGR model,
    then ``x = (pixel / scale - mean) / std`` per channel.
    """
    h, w, _ = img.shape
    out = np.einsum("ai,bj,ijc->abc", _resize_matrix(h, height), _resize_matrix(w, width), img,
                    optimize=True)  # (H', W', C); optimize: two small matrix products, not a 4-deep loop
    if meta.color == "BGR":
        out = out[:, :, ::-1]
    out = (out / meta.scale - np.asarray(meta.mean)) / np.asarray(meta.std)
    return out.transpose(2, 0, 1).astype(np.float32)  # (C, H', W')


def run(args: argparse.Namespace) -> int:
    from tenfold.cli import error_line

    from .runtime import runner

    try:
        run_model = runner(args.model, args.provider)
        meta = ExportMetadata.from_props(run_model.session.get_modelmeta().custom_metadata_map, "run-onnx")
        if meta.layout != "NCHW" or len(meta.input_shape) != 4 or min(meta.input_shape[2:]) < 1:
            raise TenfoldError(expected("run-onnx", "a model with a fixed-size NCHW input in its metadata",
                                        f"layout {meta.layout}, shape {meta.input_shape}"))
        _, _, h, w = meta.input_shape
        labels = Path(args.labels).read_text().splitlines() if args.labels else None
        batch = np.stack([preprocess(load_image(p), h, w, meta) for p in args.images])
        logits = run_model(batch)[0].astype(np.float64)
    except (TenfoldError, OSError) as err:
        print(error_line("run-onnx", err), file=sys.stderr)
        return 2
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    print(f"model {args.model} ({meta.method} from {meta.source_backend or '?'}), provider {run_model.provider}")
    for path, p in zip(args.images, probs, strict=True):
        top = np.argsort(-p)[: args.top]
        names = [labels[i] if labels and i < len(labels) else f"class {i}" for i in top]
        print(f"{path}: " + ", ".join(f"{n} {100 * p[i]:.2f}%" for n, i in zip(names, top, strict=True)))
    return 0
