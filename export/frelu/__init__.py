"""ONNX export of the FReLU networks from PyTorch and from TensorFlow, BatchNorm folded.

Paper: Ma, Zhang, Sun, ECCV 2020; networks of :mod:`tenfold.spec.frelu.nets`.
Both exporters take the model, fold every BatchNorm into its convolution
(:func:`tenfold.numpy_ref.frelu.nets.fold_batchnorm`), export a float32 graph
with an NCHW input ``x`` of dynamic batch and an output ``logits``, run the
full ONNX checker and stamp tenfold metadata. :func:`verify` runs the file in
onnxruntime against the float64 NumPy reference.

* PyTorch: ``torch.onnx.export(dynamo=True, external_data=False,
  dynamic_shapes=...)`` (the torch.export-based exporter; one file). The
  example batch is 2, since torch.export specialises a size-1 dimension.
* TensorFlow: ``tf2onnx.convert.from_function`` at opset <= 18 (tf2onnx 1.17's
  limit) on a ``tf.function`` that takes NCHW and transposes to the Keras
  model's NHWC.

float32 only: onnxruntime's CPU provider has no float64 ``Conv``.
Run ``tenfold export frelu-resnet50 --backend torch --out FILE.onnx`` (or
``python -m tenfold.export.frelu --preset resnet50 ...``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tenfold import __version__
from tenfold.numpy_ref.frelu import nets as ref_nets
from tenfold.spec import frelu as spec
from tenfold.spec.checkpoints import check_writable, load_npz
from tenfold.spec.contracts import ExportMetadata
from tenfold.spec.errors import ExportError, expected
from tenfold.spec.frelu import nets as nets
from tenfold.spec.tolerance import Tolerance

if TYPE_CHECKING:  # onnx loads when an export runs, so that ``tenfold export frelu --help`` needs no onnx
    import onnx

INPUT_NAME = "x"
OUTPUT_NAME = "logits"
#: Default opsets: the dynamo exporter's lowest native one, and the highest tf2onnx 1.17 supports.
TORCH_OPSET = 18
TF_OPSET = 18  # tenfold.export.tf_onnx.MAX_OPSET (not imported here: it needs onnx)


def _metadata(config: nets.NetConfig, shape: tuple[int, ...], backend: str) -> dict[str, str]:
    """:class:`~tenfold.spec.contracts.ExportMetadata` of a FReLU export: the official input convention
    (BGR pixels in [0, 255], no normalisation), NCHW, dynamic batch, logits out."""
    meta = ExportMetadata(method="frelu", config=config.to_dict(), input_shape=(-1, *shape[1:]), input_name=INPUT_NAME,
                          output_name=OUTPUT_NAME, mean=(0.0,) * shape[1], std=(1.0,) * shape[1], scale=1.0,
                          color="BGR", source_backend=backend,
                          extra={"network": type(config).__name__, "num_classes": str(config.num_classes),
                                 "batchnorm": "folded" if config.folded else "unfolded", "version": __version__})
    return meta.to_props()


def _check_shape(where: str, input_shape: tuple[int, ...], config: nets.NetConfig) -> tuple[int, ...]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 4 or shape[1] != config.in_channels or min(shape) < 1:
        raise ExportError(expected(where, f"an NCHW input shape (N, {config.in_channels}, H, W)", shape))
    return shape


def _folded(params: dict[str, np.ndarray], config: nets.NetConfig, fold: bool):
    params = {k: v.astype(np.float64) for k, v in params.items()}
    return ref_nets.fold_batchnorm(params, config) if fold and not config.folded else (params, config)


def onnx_model_torch(model, input_shape: tuple[int, ...] = (2, 3, 224, 224), opset: int = TORCH_OPSET,
                     fold: bool = True, path: str | os.PathLike | None = None) -> onnx.ModelProto:
    """Export a tenfold PyTorch FReLU network to a checked float32 ONNX model.

    The folded float32 copy goes through the generic
    :func:`tenfold.export.torch_onnx.export_torch` (dynamo exporter, one file,
    dynamic batch). torch.export specialises a size-1 dimension, so an example
    batch of 1 is exported with 2.

    Args:
        model: ``FReLUResNet`` or ``ShuffleNetV2FReLU`` (any dtype; exported as float32).
        input_shape: NCHW example shape; the batch is dynamic.
        opset: ONNX opset (18 or higher for the dynamo exporter).
        fold: Fold BatchNorm into the convolutions first.
        path: Also write the model there (atomically).

    Returns:
        The ``onnx.ModelProto`` (input ``x``, output ``logits``).

    Raises:
        ExportError: On a bad shape or opset, or a model the checker rejects.
    """
    import torch

    from tenfold.torch_backend.frelu import nets as tb

    if path is not None:
        check_writable(path, "onnx_model_torch")  # before folding and exporting
    shape = _check_shape("onnx_model_torch", input_shape, model.config)
    if opset < 18:
        raise ExportError(expected("onnx_model_torch", "opset >= 18 (the dynamo exporter's lowest)", opset))
    params, config = _folded(tb.get_params(model), model.config, fold)
    export = tb.load_params(tb.build(config, torch.float32), params).eval()
    from .. import torch_onnx

    x = torch.zeros((max(shape[0], 2), *shape[1:]))
    return torch_onnx.export_torch(export, path, x, opset, _metadata(config, shape, "torch"), INPUT_NAME, OUTPUT_NAME)


def onnx_model_tf(model, input_shape: tuple[int, ...] = (2, 3, 224, 224), opset: int = TF_OPSET,
                  fold: bool = True, path: str | os.PathLike | None = None) -> onnx.ModelProto:
    """Export a tenfold Keras FReLU network (NHWC) to a checked float32 ONNX model taking NCHW.

    The folded float32 copy goes through the generic
    :func:`tenfold.export.tf_onnx.export_tf` (tf2onnx, NCHW input transposed
    to the model's NHWC, dynamic batch).

    Args:
        model: ``FReLUResNet`` or ``ShuffleNetV2FReLU`` of :mod:`tenfold.tf_backend.frelu`.
        input_shape: NCHW shape; the batch is dynamic, H and W fixed.
        opset: ONNX opset, at most 18 (tf2onnx 1.17).
        fold: Fold BatchNorm into the convolutions first.
        path: Also write the model there (atomically).

    Raises:
        ExportError: On a bad shape or opset, or a model the checker rejects.
    """
    from tenfold.tf_backend.frelu import nets as tfb

    if path is not None:
        check_writable(path, "onnx_model_tf")
    shape = _check_shape("onnx_model_tf", input_shape, model.config)
    if not 13 <= opset <= TF_OPSET:
        raise ExportError(expected("onnx_model_tf", f"opset in [13, {TF_OPSET}] (tf2onnx 1.17)", opset))
    params, config = _folded(tfb.get_params(model), model.config, fold)
    export = tfb.load_params(tfb.build(config, "float32"), params)
    from .. import tf_onnx

    x = np.zeros(shape, np.float32)
    return tf_onnx.export_tf(export, path, x, opset, _metadata(config, shape, "tf"), INPUT_NAME, OUTPUT_NAME)


def verify(proto: onnx.ModelProto | str | os.PathLike, params: dict[str, np.ndarray], config: nets.NetConfig,
           make_input, batch_sizes: tuple[int, ...] = (1, 3), provider: str = "auto") -> float:
    """Run the export in onnxruntime against the float64 NumPy reference (generic check, two batch sizes).

    ``params``/``config`` are the network the model was exported from (folded
    or not: folding is exact in float64). Random weights with uncalibrated
    BatchNorm statistics give large logits, so the absolute part of
    ``spec.frelu.nets.TOLERANCES.onnx["float32"]`` is scaled by ``max(1, max |logit|)`` of the
    first batch.

    Args:
        make_input: ``make_input(batch) -> NCHW float32 array``.

    Returns:
        The largest absolute error divided by that scale.

    Raises:
        ExportError: If any logit is outside the scaled tolerance.
    """
    from ..check import check_against_reference

    def reference(x: np.ndarray) -> np.ndarray:
        return ref_nets.forward(x, params, config)

    scale = max(1.0, float(np.abs(reference(np.asarray(make_input(batch_sizes[0]), np.float64))).max()))
    tol = Tolerance(spec.nets.TOLERANCES.onnx["float32"].atol * scale, spec.nets.TOLERANCES.onnx["float32"].rtol)
    report = check_against_reference(proto, reference, make_input, tol, batch_sizes, provider, "frelu onnx check")
    return report.max_abs_err / scale


def build_model(config: nets.NetConfig, backend: str, weights: str | os.PathLike | None = None, seed: int = 0):
    """A float32 model of ``backend`` with weights from an ``.npz`` of canonical names, or seeded random ones.

    Random weights come from :func:`tenfold.numpy_ref.frelu.nets.init_params`
    (BatchNorm statistics away from the identity, so folding is exercised).
    """
    if weights is not None:
        params = load_npz(weights, "tenfold export frelu --weights")
    else:
        params = ref_nets.init_params(config, np.random.default_rng(seed))
    if backend == "torch":
        import torch

        from tenfold.torch_backend.frelu import nets as tb

        return tb.load_params(tb.build(config, torch.float32), params).eval(), params
    if backend == "tf":
        from tenfold.tf_backend.frelu import nets as tfb

        return tfb.load_params(tfb.build(config, "float32"), params), params
    raise ExportError(expected("build_model", "backend 'torch' or 'tf'", repr(backend)))


def export_torch(model, path: str | os.PathLike, input_shape: tuple[int, ...] = (2, 3, 224, 224),
                 opset: int = TORCH_OPSET) -> Path:
    """:func:`onnx_model_torch`, written atomically to ``path`` (one file)."""
    onnx_model_torch(model, input_shape, opset, path=path)
    return Path(path)


def export_tf(model, path: str | os.PathLike, input_shape: tuple[int, ...] = (2, 3, 224, 224),
              opset: int = TF_OPSET) -> Path:
    """:func:`onnx_model_tf`, written atomically to ``path``."""
    onnx_model_tf(model, input_shape, opset, path=path)
    return Path(path)


def input_convention(config: nets.NetConfig, size: tuple[int, int] = (224, 224)) -> ExportMetadata:
    """The :class:`ExportMetadata` a FReLU export of ``config`` carries for ``size`` images (BGR pixels in
    [0, 255], no normalisation): what ``tenfold run-onnx`` and ``tenfold verify`` apply to images."""
    return ExportMetadata.from_props(_metadata(config, (1, config.in_channels, *size), ""))


def verify_spec():
    """What ``tenfold verify --method frelu`` needs (:class:`tenfold.export.verify.MethodSpec`).

    Config: ``--preset`` (a name of :data:`tenfold.spec.frelu.nets.PRESETS`) with ``--config``
    overrides, else the file's metadata, else ResNet-50-FReLU. Weights: an ``.npz`` of canonical
    names, with BatchNorm folded or not (an export folds it; either weights verify it). Random
    images are 224 x 224 (32 x 32 for the CIFAR stem) unless the file fixes the size.
    """
    from tenfold.spec.checkpoints import load_npz as read_npz
    from tenfold.spec.contracts import check_params

    from ..verify import MethodSpec, config_diff, tuples

    def config_from(preset, overrides, meta):
        if preset:
            if preset not in nets.PRESETS:
                raise ExportError(expected("verify --preset", "one of " + ", ".join(nets.PRESETS), repr(preset)))
            return nets.PRESETS[preset]().replace(**overrides)
        if meta is not None:
            kind = meta.extra.get("network") or ("ShuffleNetV2FReLUConfig" if "stage_repeats" in meta.config
                                                 else "ResNetFReLUConfig")
            cls = nets.ShuffleNetV2FReLUConfig if kind == "ShuffleNetV2FReLUConfig" else nets.ResNetFReLUConfig
            return cls.from_dict(tuples(meta.config)).replace(**overrides)
        return nets.ResNetFReLUConfig(**overrides)

    def weights(path, config):
        params = {k: np.asarray(v, np.float64) for k, v in read_npz(path, "verify --weights").items()}
        other = config.replace(folded=not config.folded)
        if set(params) == set(nets.param_shapes(other)) and set(params) != set(nets.param_shapes(config)):
            config = other  # BatchNorm folded in the file and not in the config, or the other way round
        check_params(params, nets.param_shapes(config), f"verify --weights {Path(path).name}")
        return config, params

    def default_size(config):
        return (32, 32) if getattr(config, "stem", "imagenet") == "cifar" else (224, 224)

    return MethodSpec(
        method="frelu", presets=tuple(nets.PRESETS), config_from=config_from, read_weights=weights,
        reference=lambda x, params, config: ref_nets.forward(x, params, config),
        tolerance=spec.nets.TOLERANCES.onnx["float32"],
        in_channels=lambda c: c.in_channels, num_classes=lambda c: c.num_classes, image_size=lambda c: None,
        default_size=default_size,
        convention=lambda c: input_convention(c, default_size(c)),
        same_config=lambda meta_config, c: config_diff(meta_config, c, ignore=("folded",)))


__all__ = ["build_model", "export_tf", "export_torch", "input_convention", "onnx_model_tf", "onnx_model_torch",
           "verify", "verify_spec"]


if __name__ == "__main__":
    from .cli import main

    sys.exit(main())
