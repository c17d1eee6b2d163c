"""SAN to ONNX from PyTorch or TensorFlow, checked in onnxruntime against numpy_ref.

Paper: Zhao, Jia, Koltun, CVPR 2020; networks of :mod:`tenfold.spec.san.nets`.
The official SAN has no ONNX path at all (its operators are CUDA/CuPy
kernels). Both backends export their float32 model through the generic
layer: :func:`tenfold.export.torch_onnx.export_torch` (torch.export-based
exporter, one file; inside export the ``SAM`` switches to its graph-friendly
path: footprints as the k^2 shifted slices of the padded map, one set per
operator) or
:func:`tenfold.export.tf_onnx.export_tf` (tf2onnx, opset <= 18; footprints by
pad + slices, no ``extract_patches``). The ONNX input is NCHW ``input`` with a
dynamic batch and fixed ``H x W`` (the position encoding and the padded
footprints are specialised to the size); the output ``output`` holds logits.
``metadata_props`` carry :class:`tenfold.spec.contracts.ExportMetadata`
(ImageNet mean/std of the official ``tool/train.py``).

float32 only: onnxruntime's CPU provider has no float64 ``Conv``.

``tenfold export san10-pair --backend torch --out san10_pair.onnx`` (and
``san10-patch``, ``san15-pair``, ``san15-patch``, ``san19-pair``,
``san19-patch``, ``san-tiny-pair``, ``san-tiny-patch``): weights from an official checkpoint
(``--weights model_best.pth``, read with ``torch.load(weights_only=True)``),
an ``.npz`` of canonical names, or seeded random ones (BatchNorm statistics
calibrated on a random batch so that eval-mode logits stay of unit scale).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tenfold.spec.contracts import ExportMetadata
from tenfold.spec.errors import CheckpointError, ExportError, TenfoldError, expected
from tenfold.spec.san import NET_TOLERANCES
from tenfold.spec.san import nets as spec

BACKENDS = ("torch", "tf")
#: Default opsets: the dynamo exporter's lowest native one, and the highest tf2onnx 1.17 supports.
TORCH_OPSET = 18
TF_OPSET = 18
ONNX_TOLERANCE = NET_TOLERANCES.get("onnx", "float32")


def san_metadata(config: spec.SANConfig, size: tuple[int, int], backend: str, network: str = "custom",
                 weights: str | None = None) -> dict[str, str]:
    """``metadata_props`` of a SAN export (:class:`ExportMetadata`; ImageNet mean/std on [0, 1] pixels)."""
    meta = ExportMetadata(method="san", config=config.to_dict(), input_shape=(-1, config.in_channels, *size),
                          mean=spec.MEAN, std=spec.STD, scale=255.0, source_backend=backend,
                          extra={"network": network, "weights": weights or "random init (no weights given)",
                                 "num_classes": str(config.num_classes)})
    return meta.to_props()


def _check_shape(where: str, shape: tuple[int, ...], config: spec.SANConfig) -> tuple[int, ...]:
    shape = tuple(int(d) for d in shape)
    if len(shape) != 4 or shape[1] != config.in_channels or min(shape) < 1:
        raise ExportError(expected(where, f"an NCHW input shape (N, {config.in_channels}, H, W)", shape))
    try:
        spec.check_input(where, shape, config)
    except TenfoldError as err:
        raise ExportError(str(err)) from None
    return shape


def onnx_model_torch(model, input_shape: tuple[int, ...], opset: int = TORCH_OPSET,
                     path: str | os.PathLike | None = None, metadata: Mapping[str, str] | None = None):
    """Export a tenfold PyTorch ``SAN`` (any dtype; exported as a float32 copy) to a checked ONNX model.

    Args:
        model: :class:`tenfold.torch_backend.san.SAN`.
        input_shape: NCHW example shape; the batch is dynamic (an example batch of 1 is exported
            with 2, since torch.export specialises size-1 dimensions), ``H x W`` fixed.
        opset: ONNX opset (>= 18 for the dynamo exporter).
        path: Also write the model there (atomically).
        metadata: ``metadata_props`` (default: :func:`san_metadata`).

    Returns:
        The ``onnx.ModelProto`` (input ``input``, output ``output``).

    Raises:
        ExportError: Bad shape or opset, or a model the exporter or checker rejects.
    """
    import torch

    from tenfold.torch_backend import san as tb

    from .torch_onnx import export_torch

    shape = _check_shape("onnx_model_torch", input_shape, model.config)
    if opset < 18:
        raise ExportError(expected("onnx_model_torch", "opset >= 18 (the dynamo exporter's lowest)", opset))
    f32 = tb.load_params(tb.SAN(model.config, torch.float32), tb.get_params(model)).eval()
    x = torch.zeros((max(shape[0], 2), *shape[1:]))
    meta = metadata or san_metadata(model.config, shape[2:], "torch")
    return export_torch(f32, path, x, opset, meta)


def onnx_model_tf(model, input_shape: tuple[int, ...], opset: int = TF_OPSET,
                  path: str | os.PathLike | None = None, metadata: Mapping[str, str] | None = None):
    """Export a tenfold Keras ``SAN`` (NHWC) to a checked float32 ONNX model taking NCHW.

    Args:
        model: :class:`tenfold.tf_backend.san.SAN`.
        input_shape: NCHW shape; the batch is dynamic, ``H x W`` fixed.
        opset: ONNX opset, at most 18 (tf2onnx 1.17).
        path, metadata: As :func:`onnx_model_torch`.

    Raises:
        ExportError: Bad shape or opset, or a model the converter or checker rejects.
    """
    from tenfold.tf_backend import san as tfb

    from .tf_onnx import MAX_OPSET, export_tf

    shape = _check_shape("onnx_model_tf", input_shape, model.net_config)
    if not 13 <= opset <= MAX_OPSET:
        raise ExportError(expected("onnx_model_tf", f"opset in [13, {MAX_OPSET}] (tf2onnx 1.17)", opset))
    f32 = tfb.load_params(tfb.SAN(model.net_config, dtype="float32"), tfb.get_params(model))
    meta = metadata or san_metadata(model.net_config, shape[2:], "tf")
    return export_tf(f32, path, np.zeros(shape, np.float32), opset, meta)


def verify(proto, params: Mapping[str, np.ndarray], config: spec.SANConfig, make_input: Callable[[int], np.ndarray],
           batch_sizes: tuple[int, ...] = (1, 2), provider: str = "auto"):
    """Run an export in onnxruntime against the float64 NumPy reference at two or more batch sizes.

    The absolute part of the spec's ONNX tolerance is scaled by ``max(1, max |logit|)``
    of the first batch (random weights can give logits far from unit scale).

    Returns:
        The :class:`tenfold.export.check.CheckReport`.

    Raises:
        ExportError: If any logit is outside the tolerance.
    """
    from tenfold.numpy_ref import san as ref
    from tenfold.spec.tolerance import Tolerance

    from .check import check_against_reference

    p64 = {k: np.asarray(v, np.float64) if np.asarray(v).dtype.kind == "f" else np.asarray(v)
           for k, v in params.items()}

    def reference(x: np.ndarray) -> np.ndarray:
        return ref.forward(x, p64, config)

    scale = max(1.0, float(np.abs(reference(np.asarray(make_input(batch_sizes[0]), np.float64))).max()))
    tol = Tolerance(ONNX_TOLERANCE.atol * scale, ONNX_TOLERANCE.rtol)
    return check_against_reference(proto, reference, make_input, tol, batch_sizes, provider, "san onnx check")


def random_params(config: spec.SANConfig, seed: int = 0, batch: int = 2) -> dict[str, np.ndarray]:
    """Seeded random weights with BatchNorm statistics calibrated on a random batch at the smallest input size.

    (:func:`tenfold.numpy_ref.san.calibrate`: eval-mode activations stay of unit
    scale through every block; raw random statistics let patchwise logits overflow.)
    """
    from tenfold.numpy_ref import san as ref

    rng = np.random.default_rng(seed)
    params = ref.init_params(config, rng)
    s = config.min_input_size
    return ref.calibrate(params, config, rng.normal(size=(batch, config.in_channels, s, s)))


def read_weights(path: str | os.PathLike, config: spec.SANConfig) -> dict[str, np.ndarray]:
    """Canonical params from an ``.npz`` (``allow_pickle=False``) or an official ``.pth`` (``weights_only=True``)."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        from tenfold.spec.checkpoints import load_npz

        params = load_npz(path)
    elif path.suffix.lower() in (".pth", ".pt", ".bin"):
        from tenfold.torch_backend.checkpoints import read_state_dict, to_numpy

        params = to_numpy(read_state_dict(path))
    else:
        raise CheckpointError(expected("read_weights", "an .npz of canonical names or an official .pth", str(path)))
    from tenfold.spec.contracts import check_params

    shapes = spec.param_shapes(config)
    check_params(params, shapes, f"read_weights({path.name})",
                 optional=tuple(k for k in shapes if k.endswith("num_batches_tracked")))
    return params


@dataclass
class SANExport:
    """Result of :func:`export_san`."""

    path: Path
    check: object | None
    seconds: float


def export_san(config: spec.SANConfig, params: Mapping[str, np.ndarray], path: str | os.PathLike,
               backend: str = "torch", size: int = 224, opset: int | None = None, check: bool = True,
               batch_sizes: tuple[int, ...] = (1, 2), network: str = "custom", weights_name: str | None = None,
               progress: Callable[[str], None] | None = print, seed: int = 0) -> SANExport:
    """Build the SAN in ``backend`` from canonical params, export it to ``path``, check it in onnxruntime.

    Args:
        config: The network.
        params: Canonical parameters (official names).
        path: The ``.onnx`` file (written atomically, one file).
        backend: ``"torch"`` or ``"tf"``.
        size: Input height and width (at least ``config.min_input_size``).
        opset: ONNX opset (default 18).
        check: Run onnxruntime against numpy_ref (float64) at ``batch_sizes``.
        network, weights_name: Recorded in the metadata.
        progress: Receives one line per stage (``None``: silent).
        seed: Seed of the check's random images.

    Raises:
        ExportError: Bad backend or size, or a failed export or check.
    """
    say = progress or (lambda _: None)
    if backend not in BACKENDS:
        raise ExportError(expected("export_san", "backend 'torch' or 'tf'", repr(backend)))
    start = time.perf_counter()
    path = Path(path)
    shape = _check_shape("export_san", (max(batch_sizes), config.in_channels, size, size), config)
    meta = san_metadata(config, (size, size), backend, network, weights_name)
    f32 = {k: np.asarray(v, np.float32) if np.asarray(v).dtype.kind == "f" else np.asarray(v)
           for k, v in params.items()}
    say(f"[{network} export] building the {backend} model ({spec.num_params(config) / 1e6:.2f}M params)")
    if backend == "torch":
        import torch

        from tenfold.torch_backend import san as tb

        model = tb.load_params(tb.SAN(config, torch.float32), f32).eval()
        say(f"[{network} export] torch.onnx.export (dynamo), opset {opset or TORCH_OPSET}, input (batch, "
            f"{config.in_channels}, {size}, {size})")
        onnx_model_torch(model, shape, opset or TORCH_OPSET, path, meta)
    else:
        from tenfold.tf_backend import san as tfb

        model = tfb.load_params(tfb.SAN(config, dtype="float32"), f32)
        say(f"[{network} export] tf2onnx, opset {opset or TF_OPSET}, input (batch, {config.in_channels}, {size}, "
            f"{size})")
        onnx_model_tf(model, shape, opset or TF_OPSET, path, meta)
    say(f"[{network} export] wrote {path} ({path.stat().st_size / 1e6:.1f} MB, float32); onnx.checker passed")
    report = None
    if check:
        rng = np.random.default_rng(seed)
        say(f"[{network} export] onnxruntime vs numpy_ref (float64) at batch sizes {list(batch_sizes)}")
        report = verify(path, f32, config, lambda b: rng.normal(size=(b, *shape[1:])).astype(np.float32),
                        batch_sizes)
        say(f"[{network} export] {report.summary()}")
    return SANExport(path, report, time.perf_counter() - start)


# -- the command line (a CliPlugin) ---------------------------------------------------------------

#: ``tenfold export san10-pair`` ... ``san19-patch`` (the released networks) and ``san-tiny-pair``,
#: ``san-tiny-patch`` (:meth:`SANConfig.tiny`: the structure at a test size, inputs from 16 x 16).
NAMES = {**{name: {"network": name} for name in spec.PRESETS},
         "san-tiny-pair": {"network": "san-tiny-pair"}, "san-tiny-patch": {"network": "san-tiny-patch"}}


def _config(network: str, relation: str | None, padding: str | None) -> spec.SANConfig:
    if network.startswith("san-tiny-"):
        config = spec.SANConfig.tiny("pairwise" if network.endswith("pair") else "patchwise")
    else:
        config = spec.PRESETS[network]()
    changes = {k: v for k, v in (("relation", relation), ("padding", padding)) if v is not None}
    return config.replace(**changes) if changes else config


def add_arguments(parser) -> None:
    """Options of ``tenfold export san*``."""
    parser.add_argument("--backend", choices=BACKENDS, default="torch", help="exporting framework (default torch)")
    parser.add_argument("--out", required=True, help="the .onnx file to write")
    parser.add_argument("--weights", help="official .pth (weights_only) or .npz of canonical names "
                        "(default: seeded random weights, calibrated)")
    parser.add_argument("--size", type=int, default=224, help="input height and width (default 224; >= 128 for "
                        "the released networks)")
    parser.add_argument("--relation", help="a paper relation instead of the official one (random weights only)")
    parser.add_argument("--padding", choices=("reflect", "zero"), help="footprint padding (default: reflect)")
    parser.add_argument("--opset", type=int, help="ONNX opset (default 18)")
    parser.add_argument("--batch-sizes", default="1,2", help="batch sizes of the onnxruntime check (default 1,2)")
    parser.add_argument("--no-check", action="store_true", help="skip the onnxruntime vs numpy_ref check")
    parser.add_argument("--seed", type=int, default=0, help="seed of random weights and check images")


def run(args) -> int:
    """Run ``tenfold export <network>``; returns the exit status (2 on any failure)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    network = args.network
    try:
        config = _config(network, args.relation, args.padding)
        if args.weights:
            print(f"[{network} export] reading {args.weights}", flush=True)
            params = read_weights(args.weights, config)
        else:
            print(f"[{network} export] no --weights: random init (seed {args.seed}), BatchNorm statistics calibrated "
                  "on a random batch; for a trial of the pipeline only", flush=True)
            params = random_params(config, args.seed)
        sizes = tuple(int(b) for b in args.batch_sizes.split(","))
        result = export_san(config, params, args.out, args.backend, args.size, args.opset, not args.no_check, sizes,
                            network, Path(args.weights).name if args.weights else None,
                            lambda t: print(t, flush=True), args.seed)
    except (TenfoldError, OSError, ValueError) as err:
        print(f"tenfold export {network}: {err}", file=sys.stderr)
        return 2
    print(f"[{network} export] done in {result.seconds:.1f} s: {result.path}", flush=True)
    return 0


# -- tenfold verify --------------------------------------------------------------------------

def verify_spec():
    """What ``tenfold verify --method san`` needs (:class:`tenfold.export.verify.MethodSpec`).

    Config: ``--preset`` (``san10-pair`` ... ``san19-patch``, ``san-tiny-pair``, ``san-tiny-patch``) with
    ``--config`` overrides, else the file's metadata, else SAN10 pairwise. Weights: an official
    ``.pth`` (``weights_only``; ``state_dict`` with ``module.`` keys) or an ``.npz`` of canonical names.
    Any input size from :attr:`SANConfig.min_input_size` works; random images are 224 x 224 unless the
    file fixes the size (the float64 reference takes a few seconds per 224 px image).
    """
    from tenfold.numpy_ref import san as ref

    from .verify import MethodSpec, config_diff, tuples

    def config_from(preset, overrides, meta):
        if preset:
            if preset not in NAMES:
                raise ExportError(expected("verify --preset", "one of " + ", ".join(NAMES), repr(preset)))
            return _config(preset, None, None).replace(**overrides)
        if meta is not None:
            return spec.SANConfig.from_dict(tuples(meta.config)).replace(**overrides)
        return spec.SANConfig(**overrides)

    def weights(path, config):
        params = read_weights(path, config)
        return config, {k: np.asarray(v, np.float64) if np.asarray(v).dtype.kind == "f" else np.asarray(v)
                        for k, v in params.items()}

    return MethodSpec(
        method="san", presets=tuple(NAMES), config_from=config_from, read_weights=weights,
        reference=lambda x, params, config: ref.forward(x, params, config), tolerance=ONNX_TOLERANCE,
        in_channels=lambda c: c.in_channels, num_classes=lambda c: c.num_classes, image_size=lambda c: None,
        default_size=lambda c: (max(224, c.min_input_size),) * 2,
        convention=lambda c: ExportMetadata.from_props(san_metadata(c, (224, 224), "")),
        same_config=lambda meta_config, c: config_diff(meta_config, c))


__all__ = ["BACKENDS", "NAMES", "SANExport", "add_arguments", "export_san", "onnx_model_tf", "onnx_model_torch",
           "random_params", "read_weights", "run", "san_metadata", "verify", "verify_spec"]
