"""Conformance cases and suites of Toonify: the StyleGAN2 generator and its pieces (:mod:`.generator`), the blend
(:mod:`.blend`). Every comparison is against numpy_ref in float64 on inputs rounded to the tested dtype, against
central differences of it, against PyTorch (TF gradients), or against the hand-written blend table.
"""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import toonify as ref
from tenfold.spec import toonify as spec

from ..case import Case, Comparison, Suite
from . import blend as bl
from . import generator as gen
from .generator import F32_64, FORWARD, GENS, GRAD, GRAD_PIECES, METHOD, PIECES, rounded

CASES: tuple[str, ...] = (*PIECES, *GENS, *bl.CASES)


def make_case(name: str, seed: int) -> Case:
    """Build case ``name`` from ``seed`` (float64 inputs)."""
    index = CASES.index(name)
    if name in PIECES:
        return gen.make_piece_case(name, seed, index)
    if name in GENS:
        return gen.make_gen_case(name, seed, index)
    return bl.make_blend_case(name, seed, index)


def _tol(kind: str, dtype: str):
    return spec.TOLERANCES.get(kind, dtype)


def _piece_forward(backend: str, graph: bool = False):
    def run(case: Case, dtype: str) -> list[Comparison]:
        piece, inputs = PIECES[case.name], rounded(case, dtype)
        if backend == "torch":
            y, _ = gen.torch_piece(inputs, piece, dtype)
        else:
            y, _ = gen.tf_piece(inputs, piece, dtype, graph=graph)
        return [Comparison(piece.op, y, gen._piece_ref(inputs, piece), _tol("forward", dtype))]
    return run


def _piece_grad_fd(backend: str):
    def run(case: Case, dtype: str) -> list[Comparison]:
        piece, inputs = PIECES[case.name], case.inputs
        fn = gen.torch_piece if backend == "torch" else gen.tf_piece
        _, grads = fn(inputs, piece, "float64", grad=True)
        got = gen.project(grads, gen.DIFF_KEYS[piece.op], inputs)
        fd = gen.piece_ref_grads(inputs, piece)
        return [Comparison(f"d/d{k}", got[k], fd[k], spec.TOLERANCES.finite_difference) for k in fd]
    return run


def _gen_forward(backend: str, graph: bool = False):
    def run(case: Case, dtype: str) -> list[Comparison]:
        g, inputs = GENS[case.name], rounded(case, dtype)
        if backend == "numpy":
            cast = {k: v.astype(dtype) for k, v in inputs.items()}
            y = ref.generate(cast["x"], gen.gen_params(cast), g.config, input_is_latent=g.latent == "w+",
                             truncation=g.truncation, noise=gen.gen_noise(cast, g)).astype(np.float64)
        elif backend == "torch":
            y, _ = gen.torch_gen(inputs, g, dtype)
        else:
            y, _ = gen.tf_gen(inputs, g, dtype, graph=graph)
        return [Comparison("image", y, gen.gen_ref(inputs, g), _tol("forward", dtype))]
    return run


def _gen_grad_fd(backend: str):
    def run(case: Case, dtype: str) -> list[Comparison]:
        g = GENS[case.name]
        fn = gen.torch_gen if backend == "torch" else gen.tf_gen
        _, grads = fn(case.inputs, g, "float64", grad=True)
        got, fd = gen.project_params(grads, g.config), gen.gen_ref_grads(case.inputs, g)
        return [Comparison(f"d/d{k}", got[k], fd[k], spec.TOLERANCES.finite_difference) for k in fd]
    return run


def _gen_grad_vs_torch(case: Case, dtype: str) -> list[Comparison]:
    g, inputs = GENS[case.name], rounded(case, dtype)
    _, gt = gen.torch_gen(inputs, g, dtype, grad=True)
    _, gf = gen.tf_gen(inputs, g, dtype, grad=True)
    return [Comparison(f"d/d{k}", gf[k], gt[k], _tol("gradient", dtype)) for k in gt]


def _piece_grad_vs_torch(case: Case, dtype: str) -> list[Comparison]:
    piece, inputs = PIECES[case.name], rounded(case, dtype)
    _, gt = gen.torch_piece(inputs, piece, dtype, grad=True)
    _, gf = gen.tf_piece(inputs, piece, dtype, grad=True)
    return [Comparison(f"d/d{k}", gf[k], gt[k], _tol("gradient", dtype)) for k in gt]


PIECE_CASES = tuple(PIECES)
SUITES: tuple[Suite, ...] = (
    Suite("torch", "pieces", F32_64, PIECE_CASES, _piece_forward("torch")),
    Suite("torch", "pieces-grad-fd", ("float64",), GRAD_PIECES, _piece_grad_fd("torch")),
    Suite("torch", "eager", F32_64, FORWARD, _gen_forward("torch")),
    Suite("torch", "grad-fd", ("float64",), GRAD, _gen_grad_fd("torch")),
    Suite("torch", "blend", F32_64, bl.CASES, bl.torch_blend),
    Suite("tf", "pieces", F32_64, PIECE_CASES, _piece_forward("tf")),
    Suite("tf", "pieces-graph", F32_64, PIECE_CASES, _piece_forward("tf", graph=True)),
    Suite("tf", "pieces-grad-fd", ("float64",), GRAD_PIECES, _piece_grad_fd("tf")),
    Suite("tf", "pieces-grad-vs-torch", F32_64, GRAD_PIECES, _piece_grad_vs_torch, requires=("torch",)),
    Suite("tf", "eager", F32_64, FORWARD, _gen_forward("tf")),
    Suite("tf", "graph", F32_64, FORWARD, _gen_forward("tf", graph=True)),
    Suite("tf", "grad-fd", ("float64",), GRAD, _gen_grad_fd("tf")),
    Suite("tf", "grad-vs-torch", F32_64, ("gen-plan-trunc", "gen-nondefault"), _gen_grad_vs_torch,
          requires=("torch",)),
    Suite("tf", "blend", F32_64, bl.CASES, bl.tf_blend),
)

#: numpy_ref against itself (its float32 rounding) and the NumPy blend against the hand-written table:
#: run by tests/test_reference_properties.py, outside the conformance matrix.
REFERENCE_SELF_CHECKS: tuple[Suite, ...] = (
    Suite("numpy", "eager", ("float32",), FORWARD, _gen_forward("numpy")),
    Suite("numpy", "blend", F32_64, bl.CASES, bl.numpy_blend),
)

__all__ = ["CASES", "METHOD", "REFERENCE_SELF_CHECKS", "SUITES", "make_case"]
