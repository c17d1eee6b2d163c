"""``tenfold run-onnx MODEL.onnx IMAGES...``: classify images with an exported model in onnxruntime.

It needs only NumPy and onnxruntime: the input size, layout, channel order
and normalisation come from the model's ``metadata_props``
(:class:`~tenfold.spec.contracts.ExportMetadata`, written by ``tenfold
export`` for every model: ViT, FReLU, SAN). Images may be ``.npy`` arrays (HWC or CHW, uint8 in
[0, 255] or float in [0, 1]), binary PPM/PGM files, or any format Pillow
reads when Pillow is installed. Each image is resized to the model's size
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


def _read_pnm(path: Path) -> np.ndarray:
    data = path.read_bytes()
    tokens, pos = [], 0
    while len(tokens) < 4:  # magic, width, height, maxval (comments skipped)
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        tokens.append(data[pos:end])
        pos = end
    pos += 1
    magic, w, h, maxval = tokens[0], int(tokens[1]), int(tokens[2]), int(tokens[3])
    if magic not in (b"P5", b"P6") or maxval > 255:
        raise TenfoldError(expected("run-onnx", "a binary 8-bit PPM (P6) or PGM (P5)", f"{path}: {magic!r}"))
    c = 3 if magic == b"P6" else 1
    img = np.frombuffer(data, np.uint8, count=w * h * c, offset=pos).reshape(h, w, c)
    return img.astype(np.float64) * (255.0 / maxval)


def load_image(path: str | Path) -> np.ndarray:
    """An image as float64 HWC RGB in [0, 255]."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        a = np.load(path, allow_pickle=False)
        if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[2] not in (1, 3):
            a = a.transpose(1, 2, 0)  # CHW -> HWC
        a = a.astype(np.float64) * (1.0 if a.dtype == np.uint8 or a.max(initial=0) > 1.0 else 255.0)
    elif suffix in (".ppm", ".pgm", ".pnm"):
        a = _read_pnm(path)
    else:
        try:
            from PIL import Image
        except ImportError:
            raise TenfoldError(expected("run-onnx", ".npy or .ppm/.pgm images (install Pillow for other formats)",
                                        str(path))) from None
        a = np.asarray(Image.open(path).convert("RGB"), np.float64)
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
    out = np.einsum("ai,bj,ijc->abc", _resize_matrix(h, height), _resize_matrix(w, width), img)  # (H', W', C)
    if meta.color == "BGR":
        out = out[:, :, ::-1]
    out = (out / meta.scale - np.asarray(meta.mean)) / np.asarray(meta.std)
    return out.transpose(2, 0, 1).astype(np.float32)  # (C, H', W')


def run(args: argparse.Namespace) -> int:
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
    except (TenfoldError, OSError) as err:
        print(f"tenfold run-onnx: {err}", file=sys.stderr)
        return 2
    logits = run_model(batch)[0].astype(np.float64)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    print(f"model {args.model} ({meta.method} from {meta.source_backend or '?'}), provider {run_model.provider}")
    for path, p in zip(args.images, probs, strict=True):
        top = np.argsort(-p)[: args.top]
        names = [labels[i] if labels and i < len(labels) else f"class {i}" for i in top]
        print(f"{path}: " + ", ".join(f"{n} {100 * p[i]:.2f}%" for n, i in zip(names, top, strict=True)))
    return 0
