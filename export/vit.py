"""ViT to ONNX from either backend, checked against numpy_ref, optionally quantized.

Paper: Dosovitskiy et al., ICLR 2021. Official code: google-research/vision_transformer.

The ONNX model takes normalised float32 NCHW images ``(N, C, S, S)`` with a
dynamic batch and returns ``(N, num_classes)`` logits. ``metadata_props``
record what a deployer needs to feed it (see :func:`vit_metadata`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tenfold import __version__
from tenfold.numpy_ref import vit as ref
from tenfold.spec import vit as spec
from tenfold.spec.contracts import ExportMetadata
from tenfold.spec.errors import ExportError, expected

if TYPE_CHECKING:  # onnx and onnxruntime load when an export runs, not for ``--help``
    from .check import CheckReport
    from .quantize import QuantReport

BACKENDS = ("torch", "tf")


def vit_metadata(config: spec.ViTConfig, backend: str, weights: str | None = None) -> dict[str, str]:
    """``metadata_props`` of a ViT export (:class:`~tenfold.spec.contracts.ExportMetadata`): NCHW RGB input,
    ``x = (rgb / 255 - 0.5) / 0.5``, logits out, with the config and provenance."""
    s, c = config.image_size, config.in_channels
    meta = ExportMetadata(method="vit", config=config.to_dict(), input_shape=(-1, c, s, s), mean=spec.MEAN,
                          std=spec.STD, scale=255.0, color="RGB", source_backend=backend,
                          extra={"weights": weights or "random init (no weights given)",
                                 "num_classes": str(config.num_classes), "version": __version__})
    return meta.to_props()


@dataclass
class ViTExport:
    """Result of :func:`export_vit`."""

    path: Path
    check: CheckReport | None
    quantized: QuantReport | None
    seconds: float


def _say(progress: Callable[[str], None] | None, verbose: bool, text: str) -> None:
    if verbose and progress is not None:
        progress(text)


def export_vit(config: spec.ViTConfig, params: Mapping[str, np.ndarray], path: str | os.PathLike,
               backend: str = "torch", opset: int = 18, check: bool = True, batch_sizes: tuple[int, ...] = (1, 3),
               quantize: str | None = None, weights_name: str | None = None, verbose: bool = True,
               progress: Callable[[str], None] | None = print, seed: int = 0) -> ViTExport:
    """Build the ViT in ``backend`` from canonical params, export it, check it, optionally quantize it.

    Args:
        config: The model configuration.
        params: Canonical params (official ``.npz`` layout).
        path: Destination ``.onnx`` file (written atomically).
        backend: ``"torch"`` (torch.export-based exporter) or ``"tf"`` (tf2onnx, opset <= 18).
        opset: ONNX opset.
        check: Run the onnxruntime-vs-numpy_ref check (recommended; failing it raises).
        batch_sizes: Batch sizes of the check (at least two).
        quantize: ``None`` or ``"int8"`` (writes ``<stem>.int8.onnx`` beside ``path``).
        weights_name: Where the weights came from, for the metadata.
        verbose, progress: Progress lines, one per stage.
        seed: Seed of the check's random images.

    Raises:
        TenfoldError: If ``path`` cannot be written (checked before any work).
        ExportError: If the export, the check or the quantization fails, or
            ``opset`` cannot be honoured.
    """
    from tenfold.spec.checkpoints import check_writable

    from .check import check_against_reference
    from .quantize import quantize_int8

    config = spec.ViTConfig.coerce(config, "export_vit")
    check_writable(path, "export_vit")
    if backend not in BACKENDS:
        raise ExportError(expected("export_vit", "backend 'torch' or 'tf'", repr(backend)))
    if quantize not in (None, "int8"):
        raise ExportError(expected("export_vit", "quantize None or 'int8'", repr(quantize)))
    start = time.perf_counter()
    path = Path(path)
    meta = vit_metadata(config, backend, weights_name)
    s, c = config.image_size, config.in_channels
    example = np.zeros((2, c, s, s), np.float32)
    f32 = {k: np.asarray(v, np.float32) for k, v in params.items()}
    _say(progress, verbose, f"[vit export] building the {backend} model ({spec.num_params(config) / 1e6:.2f}M params)")
    if backend == "torch":
        import torch

        from tenfold.torch_backend import vit as tb

        from .torch_onnx import export_torch

        model = tb.load_params(tb.ViT(config).eval(), f32)
        _say(progress, verbose, f"[vit export] exporting with torch.onnx.export (dynamo), opset {opset}")
        export_torch(model, path, torch.from_numpy(example), opset=opset, metadata=meta)
    else:
        from tenfold.tf_backend import vit as tfb

        from .tf_onnx import export_tf

        model = tfb.load_params(tfb.ViT(config), f32)
        _say(progress, verbose, f"[vit export] exporting with tf2onnx, opset {opset}")
        export_tf(model, path, example, opset=opset, metadata=meta)
    _say(progress, verbose, f"[vit export] wrote {path} ({path.stat().st_size / 1e6:.2f} MB), onnx.checker full check "
                            "passed")
    report = None
    rng = np.random.default_rng(seed)
    if check:
        _say(progress, verbose, f"[vit export] checking in onnxruntime against numpy_ref at batch sizes "
                                f"{list(batch_sizes)}")
        params64 = {k: np.asarray(v, np.float64) for k, v in f32.items()}
        report = check_against_reference(path, lambda x: ref.vit(x, params64, config),
                                         lambda b: rng.standard_normal((b, c, s, s)).astype(np.float32),
                                         spec.TOLERANCES.onnx["float32"], batch_sizes, where="export_vit check")
        _say(progress, verbose, f"[vit export] {report.summary()}")
    quant = None
    if quantize == "int8":
        qpath = path.with_name(path.stem + ".int8.onnx")
        _say(progress, verbose, f"[vit export] quantizing to int8 (dynamic) -> {qpath}")
        quant = quantize_int8(path, qpath, rng.standard_normal((8, c, s, s)).astype(np.float32))
        _say(progress, verbose, f"[vit export] {quant.summary()}")
    return ViTExport(path, report, quant, time.perf_counter() - start)


# -- weights files and the command line -------------------------------------------------------

def read_weights(path: str | os.PathLike, config: spec.ViTConfig, fit_head: bool = True,
                 resize: str | None = "official") -> tuple[spec.ViTConfig, dict[str, np.ndarray]]:
    """Read an official ``.npz`` or a timm state_dict (``.pth``/``.pt``/``.bin``, ``.safetensors``) without pickle.

    With ``fit_head``, the number of classes, the pre-logits layer and the
    classifier are read off the file (:func:`tenfold.spec.vit.checkpoint.fit_config`).

    Returns:
        ``(config, canonical params)``.

    Raises:
        CheckpointError: For an unknown format or a file that does not fit.
    """
    from tenfold.spec import checkpoints
    from tenfold.spec.errors import CheckpointError
    from tenfold.spec.vit import checkpoint as ckpt

    path = Path(path)
    suffix = path.suffix.lower()
    where = f"read_weights({path.name})"
    if suffix == ".npz":
        arrays = checkpoints.load_npz(path, "read_weights")  # one read; a bad file is a CheckpointError
        if fit_head:
            config = ckpt.fit_config(config, {k: v.shape for k, v in arrays.items()})
        return config, ckpt.from_npz_arrays(arrays, config, resize, where)
    if suffix not in (".pth", ".pt", ".bin", ".safetensors"):
        raise CheckpointError(expected("read_weights", "an official .npz or a timm .pth/.pt/.bin/.safetensors file",
                                       str(path)))
    if not path.is_file():
        raise CheckpointError(expected("read_weights", "an existing weights file", f"{path} (no such file)"))
    if suffix in (".pth", ".pt", ".bin"):
        from tenfold.torch_backend.checkpoints import load_file as load_torch_file

        sd = load_torch_file(path, "read_weights", "a readable torch state_dict (weights_only=True)")
        sd = sd.get("state_dict", sd.get("model", sd)) if isinstance(sd, dict) else sd
        if not isinstance(sd, dict):
            raise CheckpointError(expected("read_weights", "a state_dict (a dict of tensors)",
                                           f"{path} ({type(sd).__name__})"))
        arrays = {k: (v.float() if v.is_floating_point() else v).numpy() for k, v in sd.items()
                  if hasattr(v, "numpy")}  # complex or integer tensors stay as they are: check_params names them
    else:
        try:
            from safetensors.numpy import load_file
        except ImportError:
            raise CheckpointError(expected("read_weights", "the safetensors package for a .safetensors file",
                                           "it is not installed")) from None
        try:
            arrays = load_file(str(path))
        except Exception as err:  # safetensors raises its own SafetensorError
            raise CheckpointError(expected("read_weights", "a readable .safetensors file",
                                           f"{path} ({type(err).__name__}: {_first_line(err)})")) from None
    if fit_head:
        config = ckpt.fit_config(config, {k: v.shape for k, v in arrays.items()})
    return config, ckpt.from_timm(arrays, config, resize, where=where)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else ""


#: ``tenfold export vit``.
NAMES = {"vit": {}}


def add_arguments(parser) -> None:
    """Options of ``tenfold export vit``."""
    parser.add_argument("--preset", default="B/16", help="official model (Ti/16, S/16, S/32, B/8, B/16, B/32, "
                        "L/16, L/32, H/14) or 'tiny' (default B/16)")
    parser.add_argument("--weights", help="official .npz or timm .pth/.safetensors (default: random init)")
    parser.add_argument("--backend", choices=BACKENDS, default="torch", help="exporting backend (default torch)")
    parser.add_argument("--opset", type=int, default=18, help="ONNX opset (default 18; tf2onnx allows <= 18)")
    parser.add_argument("--quantize", choices=("int8",), help="also write an int8 dynamic-quantized model")
    parser.add_argument("--out", required=True, help="output .onnx file")
    parser.add_argument("--image-size", type=int, help="image size (the position embedding is resized to it)")
    parser.add_argument("--num-classes", type=int, help="classes (default: from the weights, else 1000)")
    parser.add_argument("--gelu", choices=spec.GELUS, help="GELU form (default tanh, the official one; timm "
                        "weights were trained with exact)")
    parser.add_argument("--resize", choices=spec.RESIZE_METHODS, default="official",
                        help="position-embedding resize method (default official)")
    parser.add_argument("--batch-sizes", default="1,2", help="batch sizes of the onnxruntime check (default 1,2)")
    parser.add_argument("--no-check", action="store_true", help="skip the onnxruntime-vs-numpy_ref check")
    parser.add_argument("--seed", type=int, default=0, help="seed of random weights and check images")


def run(args) -> int:
    """Run ``tenfold export vit`` (see :func:`add_arguments`); returns the exit status."""
    import sys

    from tenfold import progress
    from tenfold.cli import error_line
    from tenfold.spec.checkpoints import check_writable
    from tenfold.spec.errors import TenfoldError

    say = progress.Steps("vit export", stream=sys.stdout)
    try:
        check_writable(args.out, "export vit --out")  # before reading weights or building anything
        overrides = {k: v for k, v in (("image_size", args.image_size), ("num_classes", args.num_classes),
                                       ("gelu", args.gelu)) if v is not None}
        config = spec.ViTConfig.preset(args.preset)
        weights_name = None
        if args.weights:
            say(f"reading weights {args.weights}")
            base = config.replace(**{k: v for k, v in overrides.items() if k != "num_classes"})
            config, params = read_weights(args.weights, base, fit_head=args.num_classes is None, resize=args.resize)
            weights_name = Path(args.weights).name
        else:
            config = config.replace(**overrides)
            say(f"no --weights: random init (seed {args.seed}), for a trial of the pipeline only")
            params = ref.init_params(config, np.random.default_rng(args.seed))
        try:
            sizes = tuple(int(b) for b in args.batch_sizes.split(","))
        except ValueError:
            raise TenfoldError(expected("export vit --batch-sizes", "comma-separated integers such as 1,2",
                                        repr(args.batch_sizes))) from None
        result = export_vit(config, params, args.out, backend=args.backend, opset=args.opset,
                            check=not args.no_check, batch_sizes=sizes, quantize=args.quantize,
                            weights_name=weights_name, progress=say, seed=args.seed)
    except (TenfoldError, OSError) as err:
        say.close()
        print(error_line("export vit", err), file=sys.stderr)
        return 2
    say.close()
    print(f"[vit export] done in {result.seconds:.1f} s: {result.path}", flush=True)
    return 0


__all__ = ["NAMES", "ViTExport", "add_arguments", "export_vit", "read_weights", "run", "verify_spec", "vit_metadata"]


# -- tenfold verify --------------------------------------------------------------------------

def verify_spec():
    """What ``tenfold verify --method vit`` needs (:class:`tenfold.export.verify.MethodSpec`).

    Config: ``--preset`` (an official name or ``tiny``) with ``--config`` overrides, else the
    file's metadata, else ViT-B/16; a file with a fixed square input sets ``image_size``
    (the position embedding of the weights is resized to it, official method). Weights:
    :func:`read_weights` (official ``.npz`` or timm state dict; the head is read off the file).
    Files exported from timm need ``--config '{"gelu": "exact"}'`` (timm's GELU).
    """
    from .verify import MethodSpec, config_diff, tuples

    def config_from(preset, overrides, meta):
        if preset:
            return spec.ViTConfig.preset(preset, **overrides)
        if meta is not None:
            return spec.ViTConfig.from_dict(tuples(meta.config)).replace(**overrides)
        return spec.ViTConfig(**overrides)

    def weights(path, config):
        config, params = read_weights(path, config, fit_head=True, resize="official")
        return config, {k: np.asarray(v, np.float64) for k, v in params.items()}

    def adapt(config, hw):
        h, w = hw
        return config.replace(image_size=h) if h == w and h % config.patch_size == 0 else config

    return MethodSpec(
        method="vit", presets=spec.ViTConfig.PRESETS, config_from=config_from, read_weights=weights,
        reference=lambda x, params, config: ref.vit(x, params, config), tolerance=spec.TOLERANCES.onnx["float32"],
        in_channels=lambda c: c.in_channels, num_classes=lambda c: c.num_classes,
        image_size=lambda c: (c.image_size, c.image_size), default_size=lambda c: (c.image_size, c.image_size),
        convention=lambda c: ExportMetadata.from_props(vit_metadata(c, "")),
        same_config=lambda meta_config, c: config_diff(meta_config, c), adapt_to_file=adapt)
