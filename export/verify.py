"""``verify``: check any ONNX classifier file against tenfold's NumPy reference on the user's weights.

Whoever exported the file -- ``tenfold export``, ``torch.onnx.export`` on a
timm model, tf2onnx on a user's own Keras model -- :func:`verify` opens it in
onnxruntime (on the device asked for: CUDA when available with
``provider="auto"``), checks its signature against the method's spec, runs it
on real images (or a seeded random batch) and compares every logit with the
float64 ``numpy_ref`` forward on the same weights and the same float32 input:

* signature: ``onnx.checker`` (full check, when the ``onnx`` package is
  there), one float32 image input of rank 4 in the spec's layout (NCHW; an
  NHWC file is reported, and still run, transposed), the channel count and
  the image size of the config, a dynamic batch dimension (the file is also
  run at batch 1), one ``(N, num_classes)`` logits output, and tenfold's
  :class:`~tenfold.spec.contracts.ExportMetadata` when the file carries it
  (method and config must agree with what is verified);
* numerics: per output and batch size, the max absolute and relative error
  against the spec's ONNX tolerance ``|a - e| <= atol * s + rtol * |e|``, where
  ``s = max(1, max |e|)`` is the logit scale of the batch (float32 rounding
  grows with the size of the activations; a file of trained weights has
  logits of order 10, random BatchNorm statistics give thousands);
* top-1 agreement of onnxruntime with the reference; a disagreement fails
  only when the reference's top-two margin is larger than the tolerance
  (otherwise it is a tie within rounding, and is listed as such).

Images: a folder of ``.png``/``.jpg``/``.ppm``/``.pgm``/``.npy`` files or one
``.npy`` array of a batch (``(N, H, W, C)`` or ``(N, C, H, W)``, uint8 in
[0, 255] or float in [0, 1]); each is resized and normalised exactly as
``tenfold run-onnx`` does it, from the file's metadata, or from the method's
input convention when the file has none (ViT: RGB, ``(x/255 - 0.5)/0.5``;
FReLU: BGR pixels, no normalisation).

A method takes part through ``verify_spec()`` in its export module
(``tenfold.export.<id>``), returning a :class:`MethodSpec`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tenfold.spec.contracts import ExportMetadata
from tenfold.spec.errors import ConfigError, TenfoldError, expected
from tenfold.spec.tolerance import Tolerance

#: Methods whose export module offers ``verify_spec()`` today; :func:`methods` finds them all (a method
#: joins by adding ``verify_spec()`` to ``tenfold.export.<id>``, e.g. SAN once it lands).
METHODS = ("vit", "frelu", "san")
IMAGE_SUFFIXES = (".npy", ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".ppm", ".pgm", ".pnm", ".tif", ".tiff")


@dataclass(frozen=True)
class MethodSpec:
    """What :func:`verify` needs to know of one method (offered by ``tenfold.export.<id>.verify_spec()``).

    Attributes:
        method: The method id.
        presets: Preset names accepted by ``config_from``.
        config_from: ``config_from(preset, overrides, metadata) -> config``; ``preset`` may be
            ``None`` (then the config of the file's :class:`ExportMetadata` if there is one, else the
            method's default); ``overrides`` are field values applied on top.
        read_weights: ``read_weights(path, config) -> (config, float64 params)``; may adapt the config to
            the file (class count, BatchNorm folded or not).
        reference: ``reference(x, params, config) -> logits`` in float64 (``x``: float64 NCHW).
        tolerance: The spec's ONNX tolerance (float32).
        in_channels, num_classes: Of a config.
        image_size: ``image_size(config) -> (H, W) or None``: a size the model requires (None: any).
        default_size: The image size of a random batch when neither file nor metadata fix one.
        convention: ``convention(config) -> ExportMetadata``: the input convention of the method
            (layout, colour order, normalisation) for files without tenfold metadata.
        same_config: ``same_config(a, b) -> list of differing fields`` (a: the file's metadata, b: verified).
        adapt_to_file: ``adapt_to_file(config, (H, W)) -> config`` when the file fixes the image size.
    """

    method: str
    presets: tuple[str, ...]
    config_from: Callable[[str | None, Mapping[str, Any], ExportMetadata | None], Any]
    read_weights: Callable[[str | os.PathLike, Any], tuple[Any, dict[str, np.ndarray]]]
    reference: Callable[[np.ndarray, Mapping[str, np.ndarray], Any], np.ndarray]
    tolerance: Tolerance
    in_channels: Callable[[Any], int]
    num_classes: Callable[[Any], int]
    image_size: Callable[[Any], tuple[int, int] | None]
    default_size: Callable[[Any], tuple[int, int]]
    convention: Callable[[Any], ExportMetadata]
    same_config: Callable[[Mapping[str, Any], Any], list[str]]
    adapt_to_file: Callable[[Any, tuple[int, int]], Any] = lambda config, hw: config


def methods() -> tuple[str, ...]:
    """Every method id whose export module offers ``verify_spec()``."""
    import importlib
    import importlib.util

    from tenfold import spec

    found = []
    for m in spec.ALL_METHOD_IDS:
        name = f"tenfold.export.{m}"
        if importlib.util.find_spec(name) is not None and hasattr(importlib.import_module(name), "verify_spec"):
            found.append(m)
    return tuple(found)


def method_spec(method: str) -> MethodSpec:
    """The :class:`MethodSpec` of ``method`` (from ``tenfold.export.<method>.verify_spec()``)."""
    import importlib
    import importlib.util

    from tenfold import spec

    name = f"tenfold.export.{method}"
    module = importlib.import_module(name) if method in spec.ALL_METHOD_IDS and \
        importlib.util.find_spec(name) is not None else None
    if module is None or not hasattr(module, "verify_spec"):
        raise ConfigError(expected("verify", "a method with exported models (" + ", ".join(methods()) + ")",
                                   repr(method)))
    return module.verify_spec()


# -- the report --------------------------------------------------------------------------------

@dataclass
class Item:
    """One line of the signature part of the report: ``ok`` True (pass), False (fail) or None (note)."""

    name: str
    ok: bool | None
    detail: str


@dataclass
class OutputCheck:
    """Numerical comparison of one output at one batch size."""

    output: str
    batch: int
    max_abs_err: float
    max_rel_err: float
    scale: float
    tolerance: Tolerance
    ok: bool
    worst: str = ""


@dataclass
class VerifyReport:
    """Everything :func:`verify` found; :attr:`passed` is the verdict, :meth:`format` the text report."""

    path: str
    method: str
    provider: str = ""
    config: Any = None
    config_source: str = "-"
    weights: str = ""
    inputs_source: str = ""
    items: list[Item] = field(default_factory=list)
    outputs: list[OutputCheck] = field(default_factory=list)
    top1_agree: int = 0
    top1_total: int = 0
    top1_ties: int = 0
    top1_failures: int = 0
    seconds: float = 0.0

    def add(self, name: str, ok: bool | None, detail: str) -> None:
        self.items.append(Item(name, ok, detail))

    @property
    def failures(self) -> list[str]:
        out = [f"{i.name}: {i.detail}" for i in self.items if i.ok is False]
        out += [f"output {o.output} at batch {o.batch}: {o.worst}" for o in self.outputs if not o.ok]
        if self.top1_failures:
            out.append(f"top-1: {self.top1_failures} disagreement(s) beyond a tie within tolerance")
        return out

    @property
    def ran(self) -> bool:
        return bool(self.outputs)

    @property
    def passed(self) -> bool:
        return self.ran and not self.failures

    def format(self) -> str:
        """The report as text: header, signature checks, the error table, top-1 agreement, verdict."""
        mark = {True: "PASS", False: "FAIL", None: "note"}
        lines = [f"tenfold verify {self.path}",
                 f"  method {self.method}; config {self.config_source}; weights {self.weights or '-'}",
                 f"  onnxruntime provider {self.provider or '-'}; inputs: {self.inputs_source or '-'}",
                 "signature"]
        lines += [f"  {mark[i.ok]}  {i.name}: {i.detail}" for i in self.items]
        if self.outputs:
            lines.append("numerics against numpy_ref (float64), |a - e| <= atol * s + rtol * |e|, "
                         "s = max(1, max |e|)")
            lines.append(f"  {'output':<14} {'batch':>5} {'max abs err':>12} {'max rel err':>12} {'s':>9} "
                         f"{'atol':>8} {'rtol':>8}  result")
            for o in self.outputs:
                lines.append(f"  {o.output:<14} {o.batch:>5} {o.max_abs_err:>12.3e} {o.max_rel_err:>12.3e} "
                             f"{o.scale:>9.3g} {o.tolerance.atol:>8.1e} {o.tolerance.rtol:>8.1e}  "
                             f"{'PASS' if o.ok else 'FAIL ' + o.worst}")
            if self.top1_total:
                ties = f", {self.top1_ties} tie(s) within tolerance" if self.top1_ties else ""
                lines.append(f"  top-1 agreement with the reference: {self.top1_agree}/{self.top1_total} "
                             f"({100.0 * self.top1_agree / self.top1_total:.1f} %){ties}"
                             f"{'  FAIL' if self.top1_failures else ''}")
        fails = self.failures
        if not self.ran and not fails:
            fails = ["the model was not run"]
        verdict = "PASS" if not fails else f"FAIL ({len(fails)} problem{'s' if len(fails) > 1 else ''})"
        lines.append(f"result: {verdict} in {self.seconds:.2f} s")
        lines += [f"  - {f}" for f in fails]
        return "\n".join(lines)


# -- inputs ----------------------------------------------------------------------------------------

def _image_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise TenfoldError(expected("verify --images", "a folder with image files (" + ", ".join(IMAGE_SUFFIXES)
                                    + ")", f"{folder}: none"))
    return files


def _to_hwc255(a: np.ndarray, where: str) -> np.ndarray:
    """One image array (HWC or CHW, uint8 [0, 255] or float [0, 1]) as float64 HWC RGB in [0, 255]."""
    a = np.asarray(a)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[2] not in (1, 3):
        a = a.transpose(1, 2, 0)  # CHW -> HWC
    if a.ndim != 3 or a.shape[2] not in (1, 3) or not np.issubdtype(a.dtype, np.number):
        raise TenfoldError(expected(where, "HWC or CHW images with 1 or 3 channels", f"shape {a.shape}, {a.dtype}"))
    scale = 1.0 if a.dtype == np.uint8 or float(np.max(a, initial=0)) > 1.0 else 255.0
    a = a.astype(np.float64) * scale
    return np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a


def load_images(source: str | os.PathLike | np.ndarray) -> tuple[list[np.ndarray], str]:
    """Images as float64 HWC RGB [0, 255] arrays, and a description of where they came from.

    ``source``: a folder of image files, one image file, a ``.npy`` batch
    ``(N, H, W, C)`` / ``(N, C, H, W)``, or such an array.
    """
    from .run_cli import load_image

    if isinstance(source, np.ndarray):
        batch = source if source.ndim == 4 else source[None]
        return [_to_hwc255(a, "verify images") for a in batch], f"{len(batch)} images (array)"
    path = Path(source)
    if path.is_dir():
        files = _image_files(path)
        return [load_image(p) for p in files], f"{len(files)} images from {path}"
    if not path.is_file():
        raise TenfoldError(expected("verify --images", "a folder, an image file or a .npy batch", f"{path} (missing)"))
    if path.suffix.lower() == ".npy":
        try:
            a = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise TenfoldError(expected("verify --images", "a readable .npy array", f"{path}: {err}")) from None
        if a.ndim == 4:
            return [_to_hwc255(img, f"verify --images {path.name}") for img in a], f"{len(a)} images from {path}"
    return [load_image(path)], f"1 image from {path}"


def random_images(n: int, size: tuple[int, int], seed: int) -> list[np.ndarray]:
    """``n`` images of uniform random pixels, smoothed a little (float64 HWC RGB in [0, 255])."""
    rng = np.random.default_rng(seed)
    h, w = size
    coarse = rng.uniform(0, 255, (n, max(h // 4, 2), max(w // 4, 2), 3))
    from .run_cli import _resize_matrix

    out = []
    for c in coarse:
        smooth = np.einsum("ai,bj,ijc->abc", _resize_matrix(c.shape[0], h), _resize_matrix(c.shape[1], w), c,
                           optimize=True)  # (H, W, 3)
        out.append(np.clip(0.7 * smooth + 0.3 * rng.uniform(0, 255, (h, w, 3)), 0, 255))
    return out


# -- the check ---------------------------------------------------------------------------------------

def _dims(shape: Sequence[object]) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def _fixed(d: object) -> int | None:
    return d if isinstance(d, int) and d > 0 else None


def _onnx_check(path: Path, report: VerifyReport) -> None:
    try:
        import onnx
    except ImportError:
        report.add("onnx.checker", None, "skipped (the onnx package is not installed)")
        return
    try:
        onnx.checker.check_model(str(path), full_check=True)
        report.add("onnx.checker", True, "full check passed")
    except Exception as err:  # the checker raises several types
        report.add("onnx.checker", False, f"{type(err).__name__}: {str(err).strip().splitlines()[0][:300]}")


def _file_metadata(session, report: VerifyReport) -> ExportMetadata | None:
    props = dict(session.get_modelmeta().custom_metadata_map)
    if "tenfold.method" not in props:  # none, or only the generic exporters' provenance keys
        return None
    try:
        return ExportMetadata.from_props(props, "verify")
    except TenfoldError as err:
        report.add("metadata", False, f"tenfold metadata present but unreadable: {err}")
        return None


def verify(model: str | os.PathLike, weights: str | os.PathLike | None = None, method: str | None = None, *,
           params: Mapping[str, np.ndarray] | None = None, config: Any = None, preset: str | None = None,
           overrides: Mapping[str, Any] | None = None, images: str | os.PathLike | np.ndarray | None = None,
           num_random: int = 8, batch: int = 8, tolerance: Tolerance | None = None, layout: str | None = None,
           allow_static_batch: bool = False, provider: str = "auto", seed: int = 0) -> VerifyReport:
    """Verify an ONNX classifier against ``numpy_ref`` on given weights; never raises on a bad model.

    Args:
        model: The ``.onnx`` file.
        weights: A weights file the method reads (ViT: official ``.npz`` or a timm
            ``.pth``/``.safetensors``; FReLU: ``.npz`` of canonical names).
        method: ``"vit"`` or ``"frelu"``; default: the file's metadata.
        params, config: Canonical weights and their config, instead of ``weights``/``preset``.
        preset, overrides: The config: a preset name and field overrides (default: the
            file's metadata config, else the method's default).
        images: Real images (see :func:`load_images`); default ``num_random`` random ones.
        num_random: Size of the random batch.
        batch: Images per onnxruntime call.
        tolerance: Override the spec's ONNX tolerance.
        layout: The input layout the file must have (default: the metadata's, else NCHW).
        allow_static_batch: Accept a fixed batch dimension (a note instead of a failure).
        provider: onnxruntime provider: ``"auto"`` (CUDA when available), ``"cuda"``, ``"cpu"``.
        seed: Seed of the random images.

    Returns:
        A :class:`VerifyReport` (``report.passed``; ``print(report.format())``).

    Raises:
        TenfoldError: For bad arguments (unknown method or preset, unreadable
            weights or images) -- not for a bad model, which is a failed report.
    """
    from .runtime import runner

    start = time.perf_counter()
    path = Path(model)
    report = VerifyReport(str(path), method or "?")
    if not path.is_file():
        raise TenfoldError(expected("verify", "an existing .onnx file", f"{path} (no such file)"))
    _check_provider(provider)
    try:
        run = runner(path, provider)
    except Exception as err:  # an unreadable file (onnxruntime's own error types, or the runner's ExportError)
        report.add("load", False, f"onnxruntime cannot open the file: {type(err).__name__}: "
                                  f"{str(err).strip().splitlines()[0][:300]}")
        report.seconds = time.perf_counter() - start
        return report
    report.provider = run.provider
    session = run.session
    meta = _file_metadata(session, report)
    method = method or (meta.method if meta else None)
    if method is None:
        raise TenfoldError(expected("verify", "--method (the file carries no tenfold metadata)", "none"))
    report.method = method
    ms = method_spec(method)
    if meta is not None and meta.method != method:
        report.add("metadata", False, f"the file says method {meta.method!r}; verifying as {method!r}")
        meta = None

    # -- config and weights
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if config is None:
        config = ms.config_from(preset, dict(overrides or {}), meta)
        report.config_source = (f"preset {preset}" if preset else "the file's metadata" if meta else "default") + \
            (f" with {dict(overrides)}" if overrides else "")
    else:
        report.config_source = "given"
    shape = list(inputs[0].shape) if inputs else []
    if len(shape) == 4 and not preset and not (overrides or {}) and meta is None:
        hw = _spatial(shape, ms.in_channels(config))
        if hw is not None:
            config = ms.adapt_to_file(config, hw)
    if params is None:
        if weights is None:
            raise TenfoldError(expected("verify", "weights (a file, or params=)", "none"))
        config, params = ms.read_weights(weights, config)
        report.weights = Path(weights).name
    else:
        params = {k: np.asarray(v, np.float64) for k, v in params.items()}
        report.weights = "given params"
    report.config = config
    if meta is not None:
        diff = ms.same_config(meta.config, config)
        report.add("metadata", not diff, f"tenfold {meta.method} export from {meta.source_backend or '?'}"
                   + (f"; config differs from the verified one in {', '.join(diff)}" if diff else
                      ", config agrees with the verified one"))
    convention = meta if meta is not None else ms.convention(config)
    if meta is None:
        report.add("metadata", None, f"no tenfold metadata; using the {method} input convention "
                                     f"({convention.color}, x = (pixel / {convention.scale:g} - mean) / std)")

    _onnx_check(path, report)

    # -- signature
    c = ms.in_channels(config)
    want_layout = (layout or (meta.layout if meta else "NCHW")).upper()
    if len(inputs) != 1:
        report.add("inputs", False, f"expected 1 image input; got {len(inputs)}: {[i.name for i in inputs]}")
        report.seconds = time.perf_counter() - start
        return report
    spec_in = inputs[0]
    report.add("input", len(shape) == 4, f"{spec_in.name!r} {spec_in.type} {_dims(shape)}"
               + ("" if len(shape) == 4 else " (expected rank 4)"))
    if len(shape) != 4:
        report.seconds = time.perf_counter() - start
        return report
    report.add("input dtype", spec_in.type == "tensor(float)", f"{spec_in.type} (spec: tensor(float), float32)")
    got_layout = "NHWC" if _fixed(shape[3]) == c and _fixed(shape[1]) != c else "NCHW"
    layout_ok = got_layout == want_layout
    report.add("layout", layout_ok, f"{got_layout} ({c} channels on axis {1 if got_layout == 'NCHW' else 3}); "
               f"expected {want_layout}" + ("" if layout_ok or layout else
                                           " (the spec's ONNX layout; --layout NHWC accepts such a file)"))
    ch = shape[1] if got_layout == "NCHW" else shape[3]
    report.add("channels", _fixed(ch) in (None, c), f"{ch if ch is not None else '?'} (config: {c})")
    hw_file = tuple(shape[2:4]) if got_layout == "NCHW" else tuple(shape[1:3])
    need = ms.image_size(config)
    if need is not None:
        bad = [f for f, n in zip(hw_file, need, strict=True) if _fixed(f) not in (None, n)]
        report.add("image size", not bad, f"{_dims(hw_file)} (config: {need[0]} x {need[1]})")
    size = tuple(_fixed(f) or d for f, d in zip(hw_file, need or _meta_hw(meta) or ms.default_size(config),
                                                 strict=True))
    static = _fixed(shape[0])
    if static is None:
        report.add("dynamic batch", True, f"dimension 0 is {shape[0]!r}; run at batch {batch} and 1")
    else:
        report.add("dynamic batch", None if allow_static_batch else False,
                   f"dimension 0 is fixed to {static}" + ("" if allow_static_batch else
                                                         " (the spec's exports have a dynamic batch; "
                                                         "--allow-static-batch accepts it)"))
    k = ms.num_classes(config)
    out0 = outputs[0] if outputs else None
    if out0 is None:
        report.add("output", False, "the model has no output")
        report.seconds = time.perf_counter() - start
        return report
    oshape = list(out0.shape)
    out_ok = len(oshape) == 2 and _fixed(oshape[1]) in (None, k) and out0.type == "tensor(float)"
    report.add("output", out_ok, f"{out0.name!r} {out0.type} {_dims(oshape)} (config: (N, {k}) float32 logits)")
    for extra in outputs[1:]:
        report.add("output", None, f"{extra.name!r} {_dims(extra.shape)}: not compared (no reference)")

    # -- numerics
    if images is not None:
        pics, report.inputs_source = load_images(images)
    else:
        pics = random_images(num_random, size, seed)
        report.inputs_source = f"{num_random} random images of {size[0]} x {size[1]} (seed {seed})"
    from .run_cli import preprocess

    x = np.stack([preprocess(p, size[0], size[1], convention) for p in pics])  # (N, C, H, W) float32
    if x.shape[1] != c:
        x = x[:, :c] if x.shape[1] > c else np.repeat(x[:, :1], c, axis=1)
    tol = tolerance or ms.tolerance
    np_dtype = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64}.get(
        spec_in.type, np.float32)

    def call(xb: np.ndarray) -> np.ndarray:
        feed = xb.transpose(0, 2, 3, 1) if got_layout == "NHWC" else xb
        return np.asarray(session.run([out0.name], {spec_in.name: np.ascontiguousarray(feed.astype(np_dtype))})[0],
                          np.float64)

    step = static or max(1, batch)
    runs: list[tuple[int, np.ndarray]] = []  # (start index, input batch)
    for i in range(0, len(x), step):
        xb = x[i:i + step]
        if static and len(xb) < static:  # pad a fixed-batch model's last call
            xb = np.concatenate([xb, np.repeat(xb[-1:], static - len(xb), axis=0)])
        runs.append((i, xb))
    if static is None:
        extra = x[:1] if len(x) > 1 or step > 1 else np.repeat(x[:1], 2, axis=0)
        runs.append((-1, extra))  # a second batch size: the dynamic batch really works
    all_y, all_e = [], []
    for i, xb in runs:
        e = np.asarray(ms.reference(xb.astype(np.float64), params, config), np.float64)
        try:
            y = call(xb)
        except Exception as err:
            report.add("run", False, f"onnxruntime failed at batch {len(xb)}: {type(err).__name__}: "
                                     f"{str(err).strip().splitlines()[0][:300]}")
            break
        report.outputs.append(_compare(out0.name, y, e, tol))
        if i >= 0:
            n = min(step, len(x) - i)
            all_y.append(y[:n])
            all_e.append(e[:n])
    if all_y:
        _top1(report, np.concatenate(all_y), np.concatenate(all_e), tol)
    report.seconds = time.perf_counter() - start
    return report


def _check_provider(provider: str) -> None:
    """A provider that cannot be had is a usage error (exit 2), not a failed model."""
    import onnxruntime as ort

    if provider not in ("auto", "cpu", "cuda"):
        raise TenfoldError(expected("verify", "provider 'auto', 'cpu' or 'cuda'", repr(provider)))
    if provider == "cuda" and "CUDAExecutionProvider" not in ort.get_available_providers():
        raise TenfoldError(expected("verify --provider cuda", "onnxruntime with the CUDAExecutionProvider",
                                    f"providers {ort.get_available_providers()}"))


def _spatial(shape: list, c: int) -> tuple[int, int] | None:
    if _fixed(shape[1]) == c and _fixed(shape[2]) and _fixed(shape[3]):
        return shape[2], shape[3]
    if _fixed(shape[3]) == c and _fixed(shape[1]) and _fixed(shape[2]):
        return shape[1], shape[2]
    return None


def _meta_hw(meta: ExportMetadata | None) -> tuple[int, int] | None:
    if meta is None or len(meta.input_shape) != 4 or min(meta.input_shape[2:]) < 1:
        return None
    return int(meta.input_shape[2]), int(meta.input_shape[3])


def _compare(name: str, y: np.ndarray, e: np.ndarray, tol: Tolerance) -> OutputCheck:
    if y.shape != e.shape:
        return OutputCheck(name, len(e), float("inf"), float("inf"), 1.0, tol, False,
                           f"shape {y.shape}, reference {e.shape}")
    scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
    atol = tol.atol * scale
    diff = np.abs(y - e)
    bound = atol + tol.rtol * np.abs(e)
    finite = bool(np.all(np.isfinite(y)))
    ok = finite and bool(np.all(diff <= bound))
    rel_mask = np.abs(e) * tol.rtol >= atol
    max_rel = float(np.max(np.where(rel_mask, diff / np.maximum(np.abs(e), 1e-300), 0.0), initial=0.0))
    worst = ""
    if not ok:
        j = int(np.nanargmax(np.where(np.isfinite(diff), diff - bound, np.inf)))
        r, col = np.unravel_index(j, y.shape)
        worst = (f"{'non-finite values; ' if not finite else ''}worst logit [{r}, {col}]: "
                 f"{y[r, col]:.6g} vs reference {e[r, col]:.6g} (allowed +-{bound[r, col]:.2e})")
    return OutputCheck(name, len(e), float(np.nanmax(diff, initial=0.0)) if finite else float("inf"), max_rel, scale,
                       Tolerance(atol, tol.rtol), ok, worst)


def _top1(report: VerifyReport, y: np.ndarray, e: np.ndarray, tol: Tolerance) -> None:
    if y.shape != e.shape or y.ndim != 2:
        return
    a, b = y.argmax(1), e.argmax(1)
    report.top1_total = len(a)
    report.top1_agree = int(np.sum(a == b))
    scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
    for r in np.flatnonzero(a != b):
        margin = e[r, b[r]] - e[r, a[r]]  # how much the reference prefers its class
        if margin <= 2 * (tol.atol * scale + tol.rtol * abs(e[r, b[r]])):
            report.top1_ties += 1
        else:
            report.top1_failures += 1


# -- helpers for the method modules ---------------------------------------------------------

def parse_tolerance(text: str) -> Tolerance:
    """``"ATOL"`` or ``"ATOL,RTOL"`` (RTOL defaults to ATOL)."""
    try:
        parts = [float(v) for v in text.split(",")]
        if len(parts) not in (1, 2):
            raise ValueError
        return Tolerance(parts[0], parts[-1])
    except ValueError:
        raise ConfigError(expected("verify --tolerance", "ATOL or ATOL,RTOL (numbers >= 0)", repr(text))) from None


def parse_config(text: str | None) -> dict[str, Any]:
    """Config overrides from a JSON object, or the path of a JSON file."""
    import json

    if not text:
        return {}
    src = Path(text)
    try:
        raw = src.read_text() if not text.lstrip().startswith("{") and src.is_file() else text
        data = json.loads(raw)
    except (OSError, ValueError) as err:
        raise ConfigError(expected("verify --config", "a JSON object or the path of a JSON file", f"{text!r}: {err}")
                          ) from None
    if not isinstance(data, dict):
        raise ConfigError(expected("verify --config", "a JSON object of config fields", type(data).__name__))
    return data


def config_diff(meta_config: Mapping[str, Any], config: Any, ignore: tuple[str, ...] = ()) -> list[str]:
    """Fields whose value in the file's metadata differs from ``config`` (lists and tuples compare equal)."""
    ours = config.to_dict()

    def norm(v):
        return tuple(norm(i) for i in v) if isinstance(v, (list, tuple)) else v

    return sorted(k for k in set(meta_config) | set(ours) if k not in ignore
                  and norm(meta_config.get(k)) != norm(ours.get(k)))


def tuples(d: Mapping[str, Any]) -> dict[str, Any]:
    """JSON lists back to tuples (config fields are tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


__all__ = ["METHODS", "MethodSpec", "OutputCheck", "VerifyReport", "config_diff", "load_images", "method_spec",
           "methods", "parse_config", "parse_tolerance", "random_images", "verify"]
