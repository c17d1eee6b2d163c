"""``tenfold verify FILE.onnx --weights W``: check any ONNX classifier against numpy_ref on your weights.

Works on files from ``tenfold export``, ``torch.onnx.export`` of a timm
model, or tf2onnx on your own Keras model: the signature is checked against
the method's spec (one float32 NCHW image input, the config's channels and
size, a dynamic batch, ``(N, classes)`` logits), then onnxruntime runs your
images (``--images``; a random batch otherwise) and every logit is compared
with the float64 NumPy reference on the same weights, together with top-1
agreement. Exit status: 0 when every check passes, 1 when one fails (the
report says which and by how much), 2 for bad arguments. See
:func:`tenfold.export.verify.verify`.

Examples::

    tenfold verify vit.onnx --weights ViT-B_16.npz
    tenfold verify timm_vit.onnx --method vit --preset B/16 --config '{"gelu": "exact"}' --weights vit.pth
    tenfold verify frelu.onnx --method frelu --preset resnet50 --weights frelu.npz --images photos/
"""

from __future__ import annotations

import argparse
import sys

NAMES = {"verify": {}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("model", help="the .onnx file to check")
    parser.add_argument("--method", help="method id: vit, frelu, or any whose export module offers verify_spec() "
                        "(default: the file's tenfold metadata)")
    parser.add_argument("--weights", required=True, help="weights of the model (ViT: official .npz or timm "
                        ".pth/.safetensors; FReLU: .npz of canonical names)")
    parser.add_argument("--preset", help="config preset (ViT: B/16, S/16, ..., tiny; FReLU: resnet50, cifar, ...); "
                        "default: the file's metadata, else the method's default")
    parser.add_argument("--config", help="config fields as a JSON object or a JSON file, on top of the preset "
                        "(e.g. '{\"gelu\": \"exact\"}' for timm ViTs)")
    parser.add_argument("--images", help="a folder of images, one image, or a .npy batch (N, H, W, C) / (N, C, H, W) "
                        "(default: a random batch)")
    parser.add_argument("--num-random", type=int, default=8, help="size of the random batch (default 8)")
    parser.add_argument("--batch", type=int, default=8, help="images per onnxruntime call (default 8)")
    parser.add_argument("--tolerance", help="ATOL[,RTOL] instead of the spec's ONNX tolerance")
    parser.add_argument("--layout", choices=("NCHW", "NHWC"), help="the input layout to accept (default: the "
                        "spec's NCHW, or the file's metadata)")
    parser.add_argument("--allow-static-batch", action="store_true", help="accept a fixed batch dimension")
    parser.add_argument("--provider", choices=("auto", "cpu", "cuda"), default="auto",
                        help="onnxruntime provider (default: CUDA when available, else CPU)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random images (default 0)")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON")


def run(args: argparse.Namespace) -> int:
    from tenfold.spec.errors import TenfoldError

    try:
        from tenfold.export.verify import parse_config, parse_tolerance, verify

        report = verify(args.model, args.weights, args.method, preset=args.preset,
                        overrides=parse_config(args.config), images=args.images, num_random=args.num_random,
                        batch=args.batch, layout=args.layout,
                        tolerance=parse_tolerance(args.tolerance) if args.tolerance else None,
                        allow_static_batch=args.allow_static_batch, provider=args.provider, seed=args.seed)
    except (TenfoldError, OSError) as err:
        print(f"tenfold verify: {err}", file=sys.stderr)
        return 2
    print(report.format(), flush=True)
    if args.json:
        _write_json(report, args.json)
    return 0 if report.passed else 1


def _write_json(report, path: str) -> None:
    import dataclasses
    import json

    from tenfold.spec.checkpoints import atomic_write

    data = {"path": report.path, "method": report.method, "provider": report.provider, "passed": report.passed,
            "config": report.config.to_dict() if report.config is not None else None,
            "weights": report.weights, "inputs": report.inputs_source, "failures": report.failures,
            "signature": [dataclasses.asdict(i) for i in report.items],
            "numerics": [dict(dataclasses.asdict(o), tolerance=[o.tolerance.atol, o.tolerance.rtol])
                         for o in report.outputs],
            "top1": {"agree": report.top1_agree, "total": report.top1_total, "ties": report.top1_ties}}
    text = json.dumps(data, indent=1, default=str)
    atomic_write(path, lambda fh: fh.write(text.encode()))
    print(f"wrote {path}")
