"""Conformance cases and suites of FReLU, BatchNorm and the FReLU networks.

Cases (``make_case``): FReLU layers (full 3x3, 5x5 and 1x1 kernels, light
variant, batch 1 with a non-square image, wide values), BatchNorm layers, and
tiny versions of the three networks (a CIFAR basic-block ResNet, a bottleneck
ResNet with the ResNet-50-FReLU structure, ShuffleNetV2-FReLU). Inputs and
parameters are float64 draws; BatchNorm statistics are set away from the
identity so that eval mode is a real test.

Suites: FReLU forward (eval), train mode over three steps (outputs and the
updated running statistics), gradients against the written-out chain rule of
``numpy_ref.frelu_vjp`` (eval) and against central differences of the float64
reference in train mode, TF gradients against PyTorch's; BatchNorm train and
eval; each network's forward in eval mode and over two train-mode steps
(logits and every updated running statistic); BatchNorm-folded networks
against the unfolded reference; ONNX exports from both backends in onnxruntime.
"""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import frelu as ref
from tenfold.spec import frelu as spec

from ..case import Case, Comparison, Suite
from .cases import (
    ACT_CASES,
    ALL,
    BN_CASES,
    CASES,
    FULL,
    METHOD,
    NET_CASES,
    WEIGHTS_MODES,
    case_params,
    case_x,
    make_case,
    make_weights_case,
    net_config,
    net_ref,
)
from .tf_suites import _tf_eval, _tf_grad, _tf_grad_fd, _tf_grad_vs_torch, _tf_net_run, _tf_net_train, _tf_train, tf_net
from .torch_suites import (
    _torch_eval,
    _torch_grad,
    _torch_grad_fd,
    _torch_net_run,
    _torch_net_train,
    _torch_train,
    torch_net,
)

__all__ = ["CASES", "METHOD", "SUITES", "WEIGHTS_MODES", "make_case", "make_weights_case"]


def _onnx(backend: str):
    def run(case: Case, dtype: str) -> list[Comparison]:
        from tenfold.export import frelu as ex
        from tenfold.export.runtime import runner

        shape = case.inputs["x0"].shape
        if backend == "torch":
            proto = ex.onnx_model_torch(torch_net(case, "float32"), shape)
        else:
            proto = ex.onnx_model_tf(tf_net(case, "float32"), shape)
        x = case_x(case, "float32")
        run_ = runner(proto, "cpu")
        comps = [Comparison("logits", run_(x.astype(np.float32))[0].astype(np.float64), net_ref(case, "float32"),
                            spec.nets.TOLERANCES.onnx["float32"])]
        x3 = np.concatenate([x, x[:1]])  # a batch size other than the export's
        comps.append(Comparison("logits batch 3", run_(x3.astype(np.float32))[0].astype(np.float64),
                                ref.forward(x3, case_params(case, "float32"), net_config(case)),
                                spec.nets.TOLERANCES.onnx["float32"]))
        return comps
    return run


def _numpy_act(case: Case, dtype: str) -> list[Comparison]:
    """numpy_ref in float32 against itself in float64 (its own rounding)."""
    config = ACT_CASES[case.name][0]
    x, p = case_x(case, dtype), case_params(case, dtype)
    y = ref.frelu(x.astype(dtype), {k: v.astype(dtype) for k, v in p.items()}, config)
    return [Comparison("y", y.astype(np.float64), ref.frelu(x, p, config), spec.TOLERANCES.forward[dtype])]


def _numpy_fold(case: Case, dtype: str) -> list[Comparison]:
    """The folded reference network against the unfolded one (float64)."""
    config = net_config(case)
    folded, fconfig = ref.fold_batchnorm(case_params(case, dtype), config)
    return [Comparison("logits", ref.forward(case_x(case, dtype), folded, fconfig), net_ref(case, dtype),
                       spec.nets.TOLERANCES.forward[dtype])]


ACT = tuple(ACT_CASES)


BN = tuple(BN_CASES)


NETS = tuple(NET_CASES)


SMOOTH = ("act-random", "act-batch1", "act-light")


SUITES: tuple[Suite, ...] = (
    Suite("torch", "eval", ALL, (*ACT, *BN), _torch_eval),
    Suite("torch", "train", ALL, (*ACT, *BN), _torch_train),
    Suite("torch", "grad", ALL, ACT, _torch_grad),
    Suite("torch", "grad-fd-train", ("float64",), SMOOTH, _torch_grad_fd),
    Suite("torch", "net", FULL, NETS, _torch_net_run(fold=False)),
    Suite("torch", "net-train", ("float64",), NETS, _torch_net_train),
    Suite("torch", "net-folded", ("float64",), NETS, _torch_net_run(fold=True)),
    Suite("tf", "eval", ALL, (*ACT, *BN), _tf_eval(graph=False)),
    Suite("tf", "eval-graph", FULL, (*ACT, *BN), _tf_eval(graph=True)),
    Suite("tf", "train", ALL, (*ACT, *BN), _tf_train(graph=False)),
    Suite("tf", "train-graph", FULL, (*ACT, *BN), _tf_train(graph=True)),
    Suite("tf", "grad", ALL, ACT, _tf_grad),
    Suite("tf", "grad-fd-train", ("float64",), SMOOTH, _tf_grad_fd),
    Suite("tf", "grad-vs-torch", FULL, ACT, _tf_grad_vs_torch, requires=("torch",)),
    Suite("tf", "net", FULL, NETS, _tf_net_run(graph=False)),
    Suite("tf", "net-graph", ("float32",), NETS, _tf_net_run(graph=True)),
    Suite("tf", "net-train", ("float64",), NETS, _tf_net_train),
    Suite("tf", "net-folded", ("float64",), NETS, _tf_net_run(graph=False, fold=True)),
    # every network through at least one exporter, each exporter on two networks (exports cost seconds)
    Suite("onnx", "from-torch", ("float32",), ("net-resnet50", "net-shufflenet"), _onnx("torch"),
          requires=("torch",)),
    Suite("onnx", "from-tf", ("float32",), ("net-cifar", "net-shufflenet"), _onnx("tf"), requires=("tf",)),
)

#: numpy_ref against itself (its own rounding in other dtypes, or another formulation such as folded
#: BatchNorm): properties of the reference, run by tests/test_reference_properties.py, never a conformance row.
REFERENCE_SELF_CHECKS: tuple[Suite, ...] = (
    Suite("numpy", "eager", ("float32",), ACT, _numpy_act),
    Suite("numpy", "folded", ("float64",), NETS, _numpy_fold),
)
