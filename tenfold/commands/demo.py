"""``tenfold demo digits``: train, export, verify and serve a model end to end, on scikit-learn's digits.

One run from data to a served model, every stage on tenfold's own parts:

1. data: the 1,797 8x8 digits of ``sklearn.datasets.load_digits`` (pixels 0-16, scaled to 8-bit
   grey), split 80/20 (stratified, seeded); inputs made exactly as ``tenfold run-onnx`` makes them
   (the model's :class:`~tenfold.spec.contracts.ExportMetadata` convention);
2. training (``--backend torch|tf``): a small ViT (patch 2, width 48, 3 layers; or ``--model frelu``,
   a CIFAR-style FReLU ResNet) with tenfold's RAdam and CutMix, a progress line per epoch, then the
   test accuracy in the framework. Mish: neither model has an activation option for it (ViT's GELU
   and FReLU's funnel are part of their specs), so the demo does not use it;
3. export to ONNX (``tenfold export``'s code path, checked against numpy_ref), then
   ``tenfold verify`` on the test images with the trained weights;
4. serving: the test images are written as PGM files and classified by ``tenfold run-onnx``;
   its accuracy must equal the framework's within one image.

Exit status 0 when the verification passes and the two accuracies agree within one image.
Needs scikit-learn (the ``data`` extra: ``pip install tenfold[data]``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

NAMES = {"demo": {}}
MODELS = ("vit", "frelu")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("name", choices=("digits",), help="the demo to run")
    parser.add_argument("--backend", choices=("torch", "tf"), default="torch", help="training framework")
    parser.add_argument("--model", choices=MODELS, default="vit", help="vit (default) or frelu (a FReLU ResNet)")
    parser.add_argument("--epochs", type=int, default=40, help="training epochs (default 40)")
    parser.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    parser.add_argument("--lr", type=float, default=3e-3, help="RAdam learning rate (default 3e-3, cosine decay)")
    parser.add_argument("--cutmix-prob", type=float, default=0.5, help="share of batches CutMix mixes (default 0.5)")
    parser.add_argument("--provider", choices=("auto", "cpu", "cuda"), default="auto",
                        help="onnxruntime provider; with --backend torch, cuda also trains on the GPU")
    parser.add_argument("--out", default="out/demo-digits", help="folder for the model, weights and test images")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the training framework (default 1: "
                        "fastest for a model this small, and kind to a shared machine)")
    parser.add_argument("--quantize", choices=("int8",), help="also quantize the export (dynamic int8 for the ViT, "
                        "static QDQ calibrated on 64 training images for FReLU) and compare it with fp32 on the "
                        "test set")
    parser.add_argument("--limit", type=int, help="use at most this many training images and a quarter as many test "
                        "images (a quick trial of the pipeline)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, the weights and CutMix")


# -- data ------------------------------------------------------------------------------------------

def load_digits(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(train_pixels, train_labels, test_pixels, test_labels)``; pixels uint8 ``(N, 8, 8)`` in [0, 255]."""
    try:
        from sklearn.datasets import load_digits as sk_digits
    except ImportError:
        from tenfold.spec.errors import TenfoldError, expected

        raise TenfoldError(expected("tenfold demo digits", "scikit-learn (pip install 'tenfold[data]')",
                                    "it is not installed")) from None
    data = sk_digits()
    pixels = np.round(data.images * (255.0 / 16.0)).astype(np.uint8)  # (N, 8, 8)
    labels = data.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), bool)
    for c in np.unique(labels):  # stratified: 20 % of every class
        idx = rng.permutation(np.flatnonzero(labels == c))
        test[idx[: round(0.2 * len(idx))]] = True
    return pixels[~test], labels[~test], pixels[test], labels[test]


def model_config(model: str):
    """The demo's network: a ViT for 8x8 images, or a small CIFAR-style FReLU ResNet."""
    if model == "vit":
        from tenfold.spec import vit as spec

        return spec.ViTConfig.tiny(image_size=8, patch_size=2, hidden_size=48, mlp_dim=96, num_heads=4, num_layers=3,
                                   num_classes=10)
    from tenfold.spec.frelu import nets

    return nets.ResNetFReLUConfig.cifar().replace(layers=(1, 1, 1), widths=(16, 32, 48), num_classes=10,
                                                  dropout=0.0)


def convention(model: str, config):
    """The input convention of the export (what ``tenfold run-onnx`` will apply to the images)."""
    from tenfold.spec.contracts import ExportMetadata

    if model == "vit":
        from tenfold.export.vit import vit_metadata

        return ExportMetadata.from_props(vit_metadata(config, ""))
    from tenfold.export.frelu import input_convention

    return input_convention(config, (8, 8))


def to_inputs(pixels: np.ndarray, meta) -> np.ndarray:
    """uint8 grey images ``(N, 8, 8)`` -> the model's float32 NCHW input, through run-onnx's own preprocessing."""
    from tenfold.export.run_cli import preprocess

    rgb = np.repeat(pixels[..., None].astype(np.float64), 3, axis=-1)  # (N, 8, 8, 3), as run-onnx reads grey
    return np.stack([preprocess(img, 8, 8, meta) for img in rgb])  # (N, 3, 8, 8)


# -- training ----------------------------------------------------------------------------------------

class _Training:
    """Progress of the training loop: a live bar on a terminal (:mod:`tenfold.progress`, with rich) and one
    line per epoch (loss, accuracy on the mixed batches, time); silent with ``tenfold -q``."""

    def __init__(self, epochs: int, steps: int) -> None:
        from tenfold import progress

        self.epochs, self.mode = epochs, progress.resolve_mode()
        self.bar = progress.Progress(epochs * steps, "training", unit="steps") if self.mode == "bar" else None
        self.start = time.perf_counter()

    def step(self, epoch: int) -> None:
        if self.bar is not None:
            self.bar.advance(f"epoch {epoch + 1}/{self.epochs}")

    def epoch(self, epoch: int, loss: float, acc: float) -> None:
        if self.mode == "none":
            return
        width, done = 24, round(24 * (epoch + 1) / self.epochs)
        line = (f"  epoch {epoch + 1:>3}/{self.epochs} [{'#' * done}{'.' * (width - done)}] loss {loss:.3f}  "
                f"train acc {100 * acc:5.1f}%  {time.perf_counter() - self.start:5.1f}s")
        if self.bar is not None:
            self.bar._emit(line)
        else:
            print(line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _steps(n: int, batch: int) -> int:
    return max(n - batch, 0) // batch + 1


def _lr(base: float, epoch: int, epochs: int) -> float:
    return 0.5 * base * (1 + np.cos(np.pi * epoch / epochs))  # cosine decay, per epoch


def train_torch(model_kind: str, config, x: np.ndarray, y: np.ndarray, args) -> tuple[dict, object]:
    """Train in PyTorch with tenfold's RAdam and CutMix; returns ``(canonical float32 params, eval model)``."""
    import torch

    from tenfold.torch_backend.cutmix import CutMix
    from tenfold.torch_backend.losses import soft_target_cross_entropy
    from tenfold.torch_backend.radam import RAdam

    device = "cuda" if args.provider in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
    if args.provider == "cuda" and device == "cpu":
        print("note: torch has no CUDA device; training on the CPU, serving on the GPU", flush=True)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if model_kind == "vit":
        from tenfold.torch_backend import vit as tb

        model = tb.ViT(config)
    else:
        from tenfold.torch_backend.frelu import nets as tb

        model = tb.build(config, torch.float32)
    model = model.to(device)
    opt = RAdam(model.parameters(), lr=args.lr)
    cutmix = CutMix(10, alpha=1.0, prob=args.cutmix_prob, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    print(f"training a {model_kind} ({sum(p.numel() for p in model.parameters())} parameters) in PyTorch on "
          f"{device}: RAdam (lr {args.lr:g}, cosine), CutMix (p {args.cutmix_prob:g}), {args.epochs} epochs",
          flush=True)
    report = _Training(args.epochs, _steps(len(x), args.batch))
    for epoch in range(args.epochs):
        for group in opt.param_groups:
            group["lr"] = _lr(args.lr, epoch, args.epochs)
        model.train()
        order = rng.permutation(len(x))
        losses, correct = [], 0
        for i in range(0, max(len(order) - args.batch, 0) + 1, args.batch):  # full batches: one trace in TF
            idx = torch.from_numpy(order[i:i + args.batch])
            xb, targets = cutmix(xt[idx], yt[idx])
            xb, targets = xb.to(device), targets.to(device)
            logits = model(xb)
            loss = soft_target_cross_entropy(logits, targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            correct += int((logits.argmax(1) == targets.argmax(1)).sum())
            report.step(epoch)
        report.epoch(epoch, float(np.mean(losses)), correct / (len(losses) * min(args.batch, len(x))))
    report.close()
    model = model.eval().cpu()
    return {k: np.asarray(v, np.float32) for k, v in tb.get_params(model).items()}, model


def train_tf(model_kind: str, config, x: np.ndarray, y: np.ndarray, args) -> tuple[dict, object]:
    """Train in TensorFlow/Keras with tenfold's RAdam and CutMix (NHWC); returns ``(params, model)``."""
    import tensorflow as tf

    from tenfold.tf_backend.cutmix import CutMix
    from tenfold.tf_backend.losses import soft_target_cross_entropy
    from tenfold.tf_backend.radam import RAdam

    with contextlib.suppress(RuntimeError):  # too late once TensorFlow has run an op in this process
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    tf.random.set_seed(args.seed)
    if model_kind == "vit":
        from tenfold.tf_backend import vit as tfb

        model = tfb.ViT(config)
        init = {k: v.astype(np.float32) for k, v in _torch_like_init(config, args.seed).items()}
        tfb.load_params(model, init)
    else:
        from tenfold.tf_backend.frelu import nets as tfb

        model = tfb.build(config, "float32")
    lr = tf.Variable(args.lr, trainable=False, dtype=tf.float32)
    opt = RAdam(learning_rate=lambda: lr)
    cutmix = CutMix(10, alpha=1.0, prob=args.cutmix_prob, seed=args.seed)

    @tf.function
    def step(xb, yb):
        xm, targets = cutmix(xb, yb, training=True)
        with tf.GradientTape() as tape:
            logits = model(xm, training=True)
            loss = soft_target_cross_entropy(logits, targets)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        hits = tf.reduce_sum(tf.cast(tf.argmax(logits, 1) == tf.argmax(targets, 1), tf.int32))
        return loss, hits

    nhwc = x.transpose(0, 2, 3, 1)
    rng = np.random.default_rng(args.seed)
    print(f"training a {model_kind} in TensorFlow {tf.__version__}: RAdam (lr {args.lr:g}, cosine), CutMix "
          f"(p {args.cutmix_prob:g}), {args.epochs} epochs", flush=True)
    report = _Training(args.epochs, _steps(len(x), args.batch))
    for epoch in range(args.epochs):
        lr.assign(_lr(args.lr, epoch, args.epochs))
        order = rng.permutation(len(x))
        losses, correct = [], 0
        for i in range(0, max(len(order) - args.batch, 0) + 1, args.batch):  # full batches: one trace in TF
            idx = order[i:i + args.batch]
            loss, hits = step(tf.constant(nhwc[idx]), tf.constant(y[idx]))
            losses.append(float(loss))
            correct += int(hits)
            report.step(epoch)
        report.epoch(epoch, float(np.mean(losses)), correct / (len(losses) * min(args.batch, len(x))))
    report.close()
    return {k: np.asarray(v, np.float32) for k, v in tfb.get_params(model).items()}, model


def _torch_like_init(config, seed: int) -> dict[str, np.ndarray]:
    """The ViT's start: numpy_ref's random init with the official zero head (as the PyTorch ViT starts)."""
    from tenfold.numpy_ref import vit as ref

    params = ref.init_params(config, np.random.default_rng(seed))
    params["head/kernel"] = np.zeros_like(params["head/kernel"])
    params["head/bias"] = np.zeros_like(params["head/bias"])
    return params


def predict(model, backend: str, x: np.ndarray) -> np.ndarray:
    """Class predictions of a trained framework model on NCHW inputs (eval mode)."""
    if backend == "torch":
        import torch

        with torch.no_grad():
            return model(torch.from_numpy(x)).argmax(1).numpy()
    return np.asarray(model(x.transpose(0, 2, 3, 1), training=False)).argmax(1)


# -- export, verify, serve ---------------------------------------------------------------------------

def export(model_kind: str, backend: str, config, params: dict, model, path: Path) -> Path:
    """Export with tenfold's exporters (each checks onnxruntime against numpy_ref before returning)."""
    if model_kind == "vit":
        from tenfold.export.vit import export_vit

        export_vit(config, params, path, backend=backend, progress=lambda t: print(f"  {t}", flush=True),
                   weights_name="tenfold demo digits")
        return path
    from tenfold.export import frelu as ex

    if backend == "torch":
        ex.export_torch(model, path, (2, 3, 8, 8))
    else:
        ex.export_tf(model, path, (2, 3, 8, 8))
    rng = np.random.default_rng(0)
    err = ex.verify(path, {k: v.astype(np.float64) for k, v in params.items()}, config,
                    lambda b: rng.uniform(0, 255, (b, 3, 8, 8)).astype(np.float32))
    print(f"  wrote {path}; onnxruntime vs numpy_ref: max error {err:.2e} of max(1, max |logit|)", flush=True)
    return path


def serve(path: Path, pixels: np.ndarray, folder: Path, provider: str) -> np.ndarray:
    """Write ``pixels`` as PGM files and classify them with ``tenfold run-onnx``; its top-1 classes."""
    from tenfold.cli import main

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i, img in enumerate(pixels):
        f = folder / f"{i:04d}.pgm"
        f.write_bytes(b"P5\n8 8\n255\n" + img.astype(np.uint8).tobytes())
        files.append(str(f))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["run-onnx", str(path), *files, "--top", "1", "--provider", provider])
    text = out.getvalue()
    if rc != 0:
        raise RuntimeError(f"tenfold run-onnx exited with {rc}:\n{text[-2000:]}")
    first = text.splitlines()[0] if text else ""
    print(f"  {first}", flush=True)
    found = {line.split(": ", 1)[0]: int(m.group(1)) for line in text.splitlines()
             if (m := re.search(r": class (\d+) ", line))}
    return np.array([found[f] for f in files])


def _quantized(path: Path, model_kind: str, calibration: np.ndarray, x: np.ndarray, y: np.ndarray,
               provider: str) -> None:
    """int8 model of the export: size, top-1 agreement with fp32 and accuracy on the test set."""
    from tenfold.export.quantize import quantize_int8
    from tenfold.export.runtime import runner

    mode = "dynamic" if model_kind == "vit" else "static"
    qpath = path.with_name(path.stem + ".int8.onnx")
    rep = quantize_int8(path, qpath, x, provider=provider, mode=mode, calibration=calibration)
    pred = runner(qpath, provider)(x)[0].argmax(1)
    print(f"int8 ({mode}) {qpath.name}: {rep.summary()}; test accuracy {100 * np.mean(pred == y):.2f}% "
          f"({int(np.sum(pred == y))}/{len(y)})", flush=True)


def _check_provider(provider: str) -> None:
    """``--provider cuda`` needs onnxruntime's CUDA provider (torch's device is reported when training starts)."""
    if provider == "cuda":
        import onnxruntime as ort

        from tenfold.spec.errors import TenfoldError, expected

        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise TenfoldError(expected("tenfold demo --provider cuda", "onnxruntime with the CUDAExecutionProvider",
                                        f"providers {ort.get_available_providers()}"))


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tenfold.spec.errors import TenfoldError

    out = Path(args.out)
    try:
        _check_provider(args.provider)
        xtr_pix, ytr, xte_pix, yte = load_digits(args.seed)
    except TenfoldError as err:
        print(f"tenfold demo: {err}", file=sys.stderr)
        return 2
    if args.limit:
        xtr_pix, ytr = xtr_pix[: args.limit], ytr[: args.limit]
        xte_pix, yte = xte_pix[: max(args.limit // 4, 1)], yte[: max(args.limit // 4, 1)]
    config = model_config(args.model)
    meta = convention(args.model, config)
    xtr, xte = to_inputs(xtr_pix, meta), to_inputs(xte_pix, meta)
    print(f"digits (scikit-learn): {len(ytr)} training and {len(yte)} test images of 8x8, 10 classes; input "
          f"x = (pixel / {meta.scale:g} - {meta.mean[0]:g}) / {meta.std[0]:g}, as run-onnx will compute it", flush=True)
    trainer = train_torch if args.backend == "torch" else train_tf
    params, model = trainer(args.model, config, xtr, ytr, args)
    hits_fw = int(np.sum(predict(model, args.backend, xte) == yte))
    print(f"test accuracy ({args.backend}): {100 * hits_fw / len(yte):.2f}% ({hits_fw}/{len(yte)})", flush=True)

    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "weights.npz", **params)
    path = out / f"digits_{args.model}_{args.backend}.onnx"
    print(f"exporting to {path}", flush=True)
    export(args.model, args.backend, config, params, model, path)

    from tenfold.export.verify import verify

    np.save(out / "test_images.npy", xte_pix[..., None])  # (N, 8, 8, 1) uint8: verify's image batch
    print("tenfold verify on the test images:", flush=True)
    report = verify(path, method=args.model, params={k: v.astype(np.float64) for k, v in params.items()},
                    config=config, images=out / "test_images.npy", batch=64, provider=args.provider)
    print("\n".join("  " + line for line in report.format().splitlines()), flush=True)

    print(f"serving the {len(yte)} test images through tenfold run-onnx:", flush=True)
    pred = serve(path, xte_pix, out / "test_images", args.provider)
    hits_ort = int(np.sum(pred == yte))
    print(f"test accuracy (onnxruntime via run-onnx): {100 * hits_ort / len(yte):.2f}% ({hits_ort}/{len(yte)})")
    if args.quantize:
        _quantized(path, args.model, xtr[:64], xte, yte, args.provider)
    same = abs(hits_ort - hits_fw) <= 1
    print(f"{args.backend} {hits_fw}/{len(yte)} vs onnxruntime {hits_ort}/{len(yte)}: "
          f"{'the same within one image' if same else 'DIFFERENT by more than one image'}; "
          f"verify {'passed' if report.passed else 'FAILED'}", flush=True)
    return 0 if same and report.passed else 1
