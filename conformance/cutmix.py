"""Conformance cases and suites of CutMix (see :mod:`tenfold.spec.cutmix`).

Every case injects one plan into every layer, so the layers are compared on
identical draws: images must be exactly equal (the paste is a copy) in every
dtype, targets equal to the float64 reference within the target dtype's
tolerance, and the effective lambda exactly equal. Cases cover both
granularities with every pairing, boxes clipped at each border and corner,
full and empty boxes, batch 1, an odd batch with flip pairing, samples left
unmixed (``prob < 1``) and soft labels in. Image values are integers in
[0, 255], exactly representable in every tested dtype (bfloat16 included).
"""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import cutmix as ref
from tenfold.spec import cutmix as spec
from tenfold.spec.tolerance import Tolerance

from .case import Case, Comparison, Suite

METHOD = "cutmix"
_GRID = tuple(f"{g}-{p}" for g in spec.GRANULARITIES for p in spec.PAIRINGS)
CASES = (*_GRID, "border-top-left", "border-bottom-right", "border-each-side", "full-box", "empty-box",
         "batch1-batch", "batch1-elem", "odd-flip", "partial-elem", "skipped", "soft-labels", "paper-lam", "custom")
NUM_CLASSES = 7
_KEYS = ("lam", "boxes", "partner", "applied", "lam_sampled", "centres")


def _plan_from_centres(lam_s, cy, cx, partner, h, w, correct_lam=True) -> spec.CutMixPlan:
    boxes = [spec.box_from_centre(float(lv), int(y), int(x), h, w) for lv, y, x in zip(lam_s, cy, cx, strict=True)]
    area = [(b[1] - b[0]) * (b[3] - b[2]) / (h * w) for b in boxes]
    lam = [1.0 - a if correct_lam else float(lv) for a, lv in zip(area, lam_s, strict=True)]
    n = len(boxes)
    return spec.CutMixPlan(h, w, tuple(lam), tuple(boxes), tuple(int(p) for p in partner), (True,) * n,
                           tuple(float(v) for v in lam_s), tuple((int(y), int(x)) for y, x in zip(cy, cx, strict=True)))


def _plan(name: str, rng: np.random.Generator, b: int, h: int, w: int) -> spec.CutMixPlan:
    if name in _GRID:
        g, p = name.split("-")
        return spec.sample(rng, b, h, w, spec.CutMixConfig(pairing=p, granularity=g))
    perm = rng.permutation(b)
    if name == "border-top-left":  # centre in the corner: clipped at the top and the left
        return _plan_from_centres([0.3] * b, [0] * b, [0] * b, perm, h, w)
    if name == "border-bottom-right":
        return _plan_from_centres([0.3] * b, [h - 1] * b, [w - 1] * b, perm, h, w)
    if name == "border-each-side":  # per sample: top, bottom, left, right, and one inside
        cy = [0, h - 1, h // 2, h // 2, h // 2, 1][:b]
        cx = [w // 2, w // 2, 0, w - 1, w // 2, w - 2][:b]
        return _plan_from_centres(rng.uniform(0.05, 0.6, b), cy, cx, perm, h, w)
    if name == "full-box":  # lam 0 at the centre: the whole image comes from the partner
        return _plan_from_centres([0.0] * b, [h // 2] * b, [w // 2] * b, perm, h, w)
    if name == "empty-box":  # lam 1: a box of side 0, nothing moves
        return _plan_from_centres([1.0] * b, [h // 2] * b, [w // 2] * b, perm, h, w)
    if name == "batch1-batch":
        return spec.sample(rng, 1, h, w, spec.CutMixConfig())
    if name == "batch1-elem":
        return spec.sample(rng, 1, h, w, spec.CutMixConfig(granularity="elem"))
    if name == "odd-flip":
        return spec.sample(rng, b, h, w, spec.CutMixConfig(pairing="flip", granularity="elem"))
    if name == "partial-elem":
        for _ in range(100):  # a plan with some samples mixed and some not
            plan = spec.sample(rng, b, h, w, spec.CutMixConfig(prob=0.5, granularity="elem"))
            if 0 < sum(plan.applied) < b:
                return plan
        raise RuntimeError("no partial plan drawn")
    if name == "skipped":
        return spec.sample(rng, b, h, w, spec.CutMixConfig(prob=0.0))
    if name == "soft-labels":
        return spec.sample(rng, b, h, w, spec.CutMixConfig(granularity="elem", pairing="roll"))
    if name == "paper-lam":
        return spec.sample(rng, b, h, w, spec.CutMixConfig.paper())
    if name == "custom":  # every option away from its default
        return spec.sample(rng, b, h, w, spec.CutMixConfig(alpha=0.4, prob=0.8, correct_lam=False, pairing="flip",
                                                           granularity="elem"))
    raise KeyError(name)


def make_case(name: str, seed: int) -> Case:
    """Build case ``name``: images ``x`` (B, C, H, W) of integers, labels, and the plan as arrays."""
    rng = np.random.default_rng([seed, CASES.index(name)])
    b = 1 if name.startswith("batch1") else (5 if name in ("odd-flip", "border-each-side") else 6)
    h, w = 9, 12
    plan = _plan(name, rng, b, h, w)
    x = rng.integers(0, 256, size=(b, 3, h, w)).astype(np.float64)
    if name == "soft-labels":
        labels = rng.dirichlet(np.ones(NUM_CLASSES), size=b)
    else:
        labels = rng.integers(0, NUM_CLASSES, size=b).astype(np.float64)
    d = plan.to_dict()
    inputs = {"x": x, "labels": labels, "hw": np.array([h, w], dtype=np.float64)}
    inputs.update({k: np.asarray(d[k], dtype=np.float64) for k in _KEYS})
    return Case(METHOD, name, seed, inputs)


def case_plan(case: Case) -> spec.CutMixPlan:
    """The plan stored in a case."""
    h, w = (int(v) for v in case.inputs["hw"])
    return spec.CutMixPlan.from_dict({
        "height": h, "width": w, "lam": case.inputs["lam"].tolist(),
        "boxes": case.inputs["boxes"].astype(np.int64).tolist(),
        "partner": case.inputs["partner"].astype(np.int64).tolist(),
        "applied": case.inputs["applied"].astype(bool).tolist(), "lam_sampled": case.inputs["lam_sampled"].tolist(),
        "centres": case.inputs["centres"].astype(np.int64).tolist()})


def _labels(case: Case, target: str) -> np.ndarray:
    y = case.inputs["labels"]
    return y.astype(np.int64) if y.ndim == 1 else y.astype(target if target != "bfloat16" else "float32")


def _target_dtype(dtype: str) -> str:
    """Targets are float32 unless the images are float64."""
    return "float64" if dtype == "float64" else "float32"


def _expected(case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return ref.apply(case.inputs["x"], _labels(case, "float64"), case_plan(case), NUM_CLASSES)


def _compare(case: Case, dtype: str, mixed, targets, lam) -> list[Comparison]:
    m64, t64, l64 = _expected(case)
    tol = spec.TOLERANCES.forward[_target_dtype(dtype)]
    return [Comparison("images", np.asarray(mixed, dtype=np.float64), m64, spec.EXACT),
            Comparison("targets", np.asarray(targets, dtype=np.float64), t64, tol),
            Comparison("lam", np.asarray(lam, dtype=np.float64), l64, spec.EXACT)]


# -- backends -------------------------------------------------------------

def _numpy(case: Case, dtype: str) -> list[Comparison]:
    x = case.inputs["x"].astype(dtype)
    mixed, targets, lam = ref.apply(x, _labels(case, "float64"), case_plan(case), NUM_CLASSES)
    if mixed.dtype != x.dtype:
        raise TypeError(f"numpy_ref returned {mixed.dtype} for {x.dtype} images")
    return _compare(case, dtype, mixed, targets, lam)


def _torch(inplace: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        import torch

        from tenfold.torch_backend import cutmix as tb

        tdt = getattr(torch, _target_dtype(dtype))
        x = torch.from_numpy(case.inputs["x"].copy()).to(getattr(torch, dtype))  # a copy: inplace writes into it
        keep = x.clone()
        y = torch.from_numpy(_labels(case, _target_dtype(dtype)))
        mixed, targets, lam = tb.cutmix_apply(x, y, case_plan(case), NUM_CLASSES, inplace=inplace, target_dtype=tdt)
        if mixed.dtype != x.dtype:
            raise TypeError(f"torch cutmix_apply returned {mixed.dtype} for {x.dtype} images")
        if inplace and mixed.data_ptr() != x.data_ptr():
            raise AssertionError("inplace=True did not write into the input")
        if not inplace and not torch.equal(x, keep):
            raise AssertionError("inplace=False modified the input")
        return _compare(case, dtype, mixed.double().numpy(), targets.double().numpy(), lam.numpy())
    return run


def _tf(mode: str):
    def run(case: Case, dtype: str) -> list[Comparison]:
        import tensorflow as tf

        from tenfold.tf_backend import cutmix as tfb

        plan = case_plan(case)
        tdt = tf.as_dtype(_target_dtype(dtype))
        x = tf.cast(tf.constant(case.inputs["x"].transpose(0, 2, 3, 1)), dtype)  # NHWC
        y = tf.constant(_labels(case, _target_dtype(dtype)))
        if mode == "eager":
            out = tfb.cutmix_apply(x, y, plan, NUM_CLASSES, target_dtype=tdt)
        elif mode == "graph":  # the plan as tensors through one tf.function
            out = _tf_graph_apply()(x, y, _tf_plan(plan), target_dtype=tdt)
        else:  # tf.data: the plan travels as tensors through a Dataset.map
            ds = tf.data.Dataset.from_tensors((x, y, _tf_plan(plan))).map(
                lambda a, b, p: tfb.cutmix_apply(a, b, p, NUM_CLASSES, target_dtype=tdt))
            out = next(iter(ds))
        mixed, targets, lam = out
        if mixed.dtype != x.dtype:
            raise TypeError(f"tf cutmix_apply returned {mixed.dtype} for {x.dtype} images")
        m = tf.cast(mixed, tf.float64).numpy().transpose(0, 3, 1, 2)
        return _compare(case, dtype, m, tf.cast(targets, tf.float64).numpy(), lam.numpy())
    return run


def _tf_plan(plan: spec.CutMixPlan) -> dict:
    import tensorflow as tf

    d = plan.to_dict()
    return {"lam": tf.constant(d["lam"], tf.float64), "boxes": tf.constant(d["boxes"], tf.int32),
            "partner": tf.constant(d["partner"], tf.int32), "applied": tf.constant(d["applied"])}


_GRAPH: list = []


def _tf_graph_apply():
    if not _GRAPH:
        import tensorflow as tf

        from tenfold.tf_backend import cutmix as tfb

        def fn(x, y, plan, target_dtype):
            return tfb.cutmix_apply(x, y, plan, NUM_CLASSES, target_dtype=target_dtype)

        _GRAPH.append(tf.function(fn, reduce_retracing=True))
    return _GRAPH[0]


def _loss(framework: str):
    def run(case: Case, dtype: str) -> list[Comparison]:
        rng = np.random.default_rng([case.seed, 99])
        _, t64, _ = _expected(case)
        z = rng.normal(0.0, 3.0, size=t64.shape)
        expected = ref.soft_target_cross_entropy(z, t64)
        if framework == "torch":
            import torch

            from tenfold.torch_backend import cutmix as tb

            got = tb.soft_target_cross_entropy(torch.from_numpy(z).to(getattr(torch, dtype)),
                                               torch.from_numpy(t64).to(getattr(torch, dtype)), reduction="none")
            got = got.double().numpy()
        else:
            import tensorflow as tf

            from tenfold.tf_backend import cutmix as tfb

            got = tfb.soft_target_cross_entropy(tf.cast(z, dtype), tf.cast(t64, dtype), reduction="none")
            got = tf.cast(got, tf.float64).numpy()
        tol = {"float64": 1e-12, "float32": 2e-5}[dtype]
        return [Comparison("soft CE", got, expected, Tolerance(atol=tol, rtol=tol))]
    return run


_INT_FLOAT = ("uint8", "float32", "float64")
_ALL_TORCH = ("uint8", "int16", "float16", "bfloat16", "float32", "float64")
_ALL_TF = ("uint8", "float16", "bfloat16", "float32", "float64")

SUITES: tuple[Suite, ...] = (
    Suite("torch", "eager", _ALL_TORCH, CASES, _torch(inplace=False)),
    Suite("torch", "inplace", _INT_FLOAT, CASES, _torch(inplace=True)),
    Suite("torch", "loss", ("float32", "float64"), ("elem-randperm", "soft-labels"), _loss("torch")),
    Suite("tf", "eager", _ALL_TF, CASES, _tf("eager")),
    Suite("tf", "graph", _INT_FLOAT, CASES, _tf("graph")),
    Suite("tf", "tfdata", _INT_FLOAT, CASES, _tf("tfdata")),
    Suite("tf", "loss", ("float32", "float64"), ("elem-randperm", "soft-labels"), _loss("tf")),
)

#: numpy_ref against itself (its own rounding in other dtypes, or another formulation such as folded
#: BatchNorm): properties of the reference, run by tests/test_reference_properties.py, never a conformance row.
REFERENCE_SELF_CHECKS: tuple[Suite, ...] = (
    Suite("numpy", "eager", ("uint8", "int16", "float16", "float32", "float64"), CASES, _numpy),
)
