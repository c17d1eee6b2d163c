"""Conformance of CR-GAN: each term and loss with gradients, the transform, spectral norm, whole D and G steps.

Cases (:mod:`.cases`): the transform (reflect and zero padding, odd and
non-square images, batch 1, shifts up to most of the image), the penalty on
logits and on images, both GAN losses (with saturated logits), spectral norm
of a conv and of a dense weight (the second with every SN option
non-default), and whole-step cases on tiny networks (ICR, CR with hinge, the
plain GAN, batch 1, and one with every option non-default), each two rounds
of (D step, G step) with the state carried over.

Suites:

* torch/tf ``transform`` (TF also in ``tf.function``): exact against the reference;
* torch/tf ``fn``: penalty and loss values and gradients against the reference;
  tf ``fn-vs-torch``;
* torch/tf ``sn``: ``W_sn``, ``u``, ``v`` after three training calls and an eval
  call, and the gradient through ``sigma``;
* torch/tf ``step`` (float32, float64; TF also ``step-graph``): every loss
  term and gradient of every step and the final BatchNorm and SN state;
  ``step-fd`` (float64): each step's gradient against central differences of
  the float64 reference; tf ``step-vs-torch``.

Reference self-check (``REFERENCE_SELF_CHECKS``, not a conformance row): the
reference's own autodiff gradients against central differences of its plain
losses, for the functions, spectral norm and every step of the step cases.
"""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import crgan as ref

from ..case import Case, Comparison, Suite
from ..gradcheck import directional_derivative
from .cases import (
    CASES,
    FN_CASES,
    FULL,
    METHOD,
    SN_CALLS,
    SN_CASES,
    STEP_CASES,
    TOL,
    TRANSFORM_CASES,
    fd_comparisons,
    fn_reference,
    make_case,
    reference_trace,
    sn_grad_reference,
)
from .tf_suites import tf_fn, tf_fn_vs_torch, tf_sn, tf_step, tf_step_fd, tf_step_vs_torch, tf_transform
from .torch_suites import torch_fn, torch_sn, torch_step, torch_step_fd, torch_transform


def _numpy_fd(case: Case, dtype: str) -> list[Comparison]:
    """The reference's autodiff gradients against central differences of its plain functions (float64)."""
    fdt = TOL.get("finite_difference")
    rng = np.random.default_rng([case.seed, 7])
    if case.name in STEP_CASES:
        return fd_comparisons(case, [res.grads for res, *_ in reference_trace(case, "float64")[1]])
    if case.name in FN_CASES:
        kind, _ = FN_CASES[case.name]
        a, b = case.inputs["a"], case.inputs["b"]
        _, grads = fn_reference(case, "float64")
        va, vb = rng.normal(size=a.shape), rng.normal(size=b.shape)
        comps = []
        for variant in (("sum", "mean") if kind == "penalty" else ("d", "g")):
            def f(t, variant=variant):
                aa, bb = a + t[0] * va, b + t[0] * vb
                if kind == "penalty":
                    return ref.cr_penalty(aa, bb, variant)
                if variant == "d":
                    return ref.gan_discriminator_loss(aa, bb, kind)
                return ref.gan_generator_loss(bb, kind)
            an = float((grads[f"{variant}/a"] * va).sum() + (grads[f"{variant}/b"] * vb).sum())
            fd = directional_derivative(f, np.zeros(1), np.ones(1))
            comps.append(Comparison(f"{variant} <grad, V>", np.array(an), np.array(fd), fdt))
        return comps
    config, _ = SN_CASES[case.name]
    w, cot = case.inputs["w"], case.inputs["cot"]
    u, v = case.inputs["u"], case.inputs["v"]
    for _ in range(SN_CALLS):
        u, v = ref.spectral_norm(w, u, v, config, training=True)[1:]
    vw = rng.normal(size=w.shape)

    def f(t):
        ww = w + t[0] * vw
        return float((ref.spectral_norm(ww, u, v, config)[0] * cot).sum())  # u, v fixed: eval mode

    an = float((sn_grad_reference(case, "float64") * vw).sum())
    return [Comparison("<dW, V>", np.array(an), np.array(directional_derivative(f, np.zeros(1), np.ones(1))), fdt)]


TRANSFORMS = tuple(TRANSFORM_CASES)
FNS = tuple(FN_CASES)
SNS = tuple(SN_CASES)
STEPS = tuple(STEP_CASES)
#: The step case the slow variants (TF graph, finite differences, TF vs torch) run on: every option on.
STEPS_FEW = ("step-options",)

SUITES: tuple[Suite, ...] = (
    Suite("torch", "transform", FULL, TRANSFORMS, torch_transform),
    Suite("torch", "fn", FULL, FNS, torch_fn),
    Suite("torch", "sn", FULL, SNS, torch_sn),
    Suite("torch", "step", FULL, STEPS, torch_step),
    Suite("torch", "step-fd", ("float64",), STEPS_FEW, torch_step_fd),
    Suite("tf", "transform", FULL, TRANSFORMS, tf_transform(graph=False)),
    Suite("tf", "transform-graph", ("float32",), TRANSFORMS, tf_transform(graph=True)),
    Suite("tf", "fn", FULL, FNS, tf_fn),
    Suite("tf", "fn-vs-torch", FULL, FNS, tf_fn_vs_torch, requires=("torch",)),
    Suite("tf", "sn", FULL, SNS, tf_sn),
    Suite("tf", "step", FULL, STEPS, tf_step(graph=False)),
    Suite("tf", "step-graph", ("float32",), STEPS_FEW, tf_step(graph=True)),
    Suite("tf", "step-fd", ("float64",), STEPS_FEW, tf_step_fd),
    Suite("tf", "step-vs-torch", ("float32",), STEPS_FEW, tf_step_vs_torch, requires=("torch",)),
)

#: numpy_ref against itself: its autodiff gradients against central differences of its own plain losses
#: (run by tests/test_reference_properties.py, never a conformance row).
REFERENCE_SELF_CHECKS: tuple[Suite, ...] = (
    Suite("numpy", "grad-fd", ("float64",), (*FNS, *SNS, *STEPS), _numpy_fd),
)

__all__ = ["CASES", "METHOD", "REFERENCE_SELF_CHECKS", "SUITES", "make_case"]
