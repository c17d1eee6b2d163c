"""Conformance cases and suites of AugMix (see :mod:`tenfold.spec.augmix`).

Every image case injects one plan into every layer, so the layers are
compared on identical draws: every chain's uint8 result must equal the
reference exactly (every op reproduces Pillow's arithmetic; the reason is in
the spec), and the mix must match the float64 reference within the output
dtype's tolerance. Per-op cases apply each op alone at the severity bounds
(levels 0.1 and 10, both signs, plus levels in between). Chain cases cover
the official draws, the ImageNet, paper and torchvision presets, one case
with every option non-default, batch 1, grey images, odd and tiny sizes,
flat and two-level images, float input and uint8 output. The numpy suite
checks the reference against Pillow itself (when Pillow is installed) and
the JSD gradient against central finite differences; the backends' JSD
values and autodiff gradients are compared with the reference and with each other.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from tenfold.numpy_ref import augmix as ref
from tenfold.spec import augmix as spec
from tenfold.spec.augmix import ops as O

from .case import Case, Comparison, Suite

METHOD = "augmix"
OP_CASES = tuple(f"op-{op}" for op in spec.OPS)
CHAIN_CONFIGS: dict[str, spec.AugMixConfig] = {
    "official": spec.AugMixConfig.official(),
    "imagenet": spec.AugMixConfig.imagenet(),
    "paper": spec.AugMixConfig.paper(),
    "torchvision": spec.AugMixConfig.torchvision(),
    "every-option": spec.AugMixConfig(severity=10, width=4, depth=2, alpha=0.5, all_ops=True, magnitudes="binned",
                                      m_weights="image", image_size=20),
    "all-ops-severity10": spec.AugMixConfig(severity=10, all_ops=True),
    "batch1": spec.AugMixConfig(all_ops=True),
    "grey": spec.AugMixConfig(all_ops=True, severity=6),
    "odd-size": spec.AugMixConfig(all_ops=True, severity=8),
    "tiny": spec.AugMixConfig(all_ops=True, severity=10, depth=3),
    "flat": spec.AugMixConfig(all_ops=True, depth=3),
    "two-level": spec.AugMixConfig(all_ops=True, depth=3),
    "uint8-out": spec.AugMixConfig(all_ops=True),
}
CHAIN_CASES = tuple(CHAIN_CONFIGS)
JSD_CASES = ("jsd-random", "jsd-clamped", "jsd-batch1")
CASES = (*OP_CASES, *CHAIN_CASES, *JSD_CASES)
#: Per-op levels: the severity bounds 0.1 and 10 with both signs, and levels in between.
OP_LEVELS = ((0.1, 1), (0.1, -1), (10.0, 1), (10.0, -1), (3.0, -1), (6.7, 1))
_PLAN_KEYS = ("op_id", "arg", "chain_weights", "mix_weight")


def _images(rng: np.random.Generator, name: str, b: int, c: int, h: int, w: int) -> np.ndarray:
    """uint8 values (as float64) with shading, an edge and noise; flat / two-level where the case says."""
    if name == "flat":
        return np.repeat(rng.integers(0, 256, (b, c, 1, 1)), h, 2).repeat(w, 3).astype(np.float64)
    if name == "two-level":
        img = np.where(rng.random((b, 1, h, w)) < 0.3, 255.0, 0.0)
        return np.repeat(img, c, 1)
    y, x = np.mgrid[0:h, 0:w]
    base = 120 + 60 * np.sin(x / 2.5 + rng.uniform(0, 6, (b, c, 1, 1))) + 40 * np.cos(y / 3.0)
    edge = 70.0 * (x > w // 2)
    return np.clip(np.round(base + edge + rng.normal(0, 15, (b, c, h, w))), 0, 255)


def _shape(name: str) -> tuple[int, int, int, int]:
    return {"batch1": (1, 3, 10, 10), "grey": (4, 1, 12, 11), "odd-size": (3, 3, 9, 13), "tiny": (4, 3, 2, 2),
            "every-option": (3, 3, 20, 17)}.get(name, (5, 3, 12, 14) if name.startswith("op-") else (4, 3, 13, 12))


def make_case(name: str, seed: int) -> Case:
    """Build case ``name``: images ``x`` (B, C, H, W) of integers in [0, 255] and the plan as arrays (or logits)."""
    rng = np.random.default_rng([seed, CASES.index(name)])
    if name in JSD_CASES:
        b, k = (1, 7) if name == "jsd-batch1" else (4, 6)
        scale = 40.0 if name == "jsd-clamped" else 2.0  # large gaps: mixture entries under 1e-7, the clamp acts
        return Case(METHOD, name, seed, {f"z{v}": rng.normal(0, scale, (b, k)) for v in range(3)})
    b, c, h, w = _shape(name)
    x = _images(rng, name, b, c, h, w)
    if name.startswith("op-"):
        op = name[3:]
        levels = [OP_LEVELS[i % len(OP_LEVELS)] for i in range(b)]
        size = h if op == "translate_y" else w
        args = np.array([O.official_argument(op, lv, sg, size) for lv, sg in levels])
        return Case(METHOD, name, seed, {"x": x, "args": args})
    plan = spec.sample(rng, b, h, w, CHAIN_CONFIGS[name])
    arrays = plan.arrays()
    inputs = {"x": x, "hw": np.array([h, w], dtype=np.float64), "frac": rng.uniform(0.0, 0.9, x.shape)}
    inputs.update({k: arrays[k].astype(np.float64) for k in _PLAN_KEYS})
    return Case(METHOD, name, seed, inputs)


def case_plan(case: Case) -> spec.AugMixPlan:
    """The plan stored in a chain case (levels and signs are not stored: ``apply`` reads only ops and args)."""
    h, w = (int(v) for v in case.inputs["hw"])
    op_id, arg = case.inputs["op_id"].astype(np.int64), case.inputs["arg"]
    b, k, _ = op_id.shape
    ops = tuple(tuple(tuple(O.OPS[i] for i in op_id[s, j] if i >= 0) for j in range(k)) for s in range(b))
    args = tuple(tuple(tuple(float(a) for i, a in zip(op_id[s, j], arg[s, j], strict=True) if i >= 0)
                       for j in range(k)) for s in range(b))
    zeros = tuple(tuple(tuple(0.0 for _ in c) for c in s) for s in ops)
    ones = tuple(tuple(tuple(1 for _ in c) for c in s) for s in ops)
    mw = tuple(float(v) for v in case.inputs["mix_weight"])
    return spec.AugMixPlan(h, w, ops, zeros, ones, args, tuple(tuple(float(v) for v in r)
                                                                for r in case.inputs["chain_weights"]), mw, mw)


def images_in(case: Case, dtype: str) -> np.ndarray:
    """The case's images in ``dtype``: uint8 pixels, or floats ``(k + frac) / 255`` that quantise back to k."""
    x = case.inputs["x"]
    if dtype == "uint8":
        return x.astype(np.uint8)
    return ((x + case.inputs["frac"]) / 255.0).astype(dtype)


def _out_dtype(case: Case, dtype: str) -> str | None:
    return "uint8" if case.name == "uint8-out" else None


def _expected(case: Case, dtype: str):
    x = images_in(case, dtype)
    plan = case_plan(case)
    return ref.chains(plan, x), ref.apply(plan, x, out_dtype=_out_dtype(case, dtype))


def _compare(case: Case, dtype: str, chains: np.ndarray, mixed: np.ndarray) -> list[Comparison]:
    e_chains, e_mixed = _expected(case, dtype)
    out = _out_dtype(case, dtype) or ("float32" if dtype == "uint8" else dtype)
    return [Comparison("chains", chains, e_chains, spec.EXACT),
            Comparison("mix", mixed, e_mixed, spec.TOLERANCES.get("forward", out))]


def _op_compare(case: Case, got: np.ndarray) -> list[Comparison]:
    op = case.name[3:]
    expected = ref.apply_op(op, case.inputs["x"].astype(np.uint8), case.inputs["args"])
    return [Comparison(op, got, expected, spec.EXACT)]


# -- numpy: against Pillow, and the JSD gradient against finite differences ----------------

def _numpy_pillow(case: Case, dtype: str) -> list[Comparison]:
    from PIL import Image

    def pil_chain(img: np.ndarray, ops, args) -> np.ndarray:
        im = Image.fromarray(img[0] if img.shape[0] == 1 else np.ascontiguousarray(img.transpose(1, 2, 0)))
        for op, a in zip(ops, args, strict=True):
            im = _pil_op(im, op, a)
        out = np.asarray(im)
        return out[None] if out.ndim == 2 else out.transpose(2, 0, 1)

    x = case.inputs["x"].astype(np.uint8)
    if case.name.startswith("op-"):
        op = case.name[3:]
        got = np.stack([pil_chain(x[i], [op], [a]) for i, a in enumerate(case.inputs["args"])])
        return _op_compare(case, got)
    plan = case_plan(case)
    got = np.stack([np.stack([pil_chain(x[i], plan.ops[i][j], plan.args[i][j]) for j in range(plan.num_chains)])
                    for i in range(plan.batch_size)])
    return [Comparison("chains (Pillow)", got, ref.chains(plan, x), spec.EXACT)]


def _pil_op(im, op: str, a: float):
    """The official ``augmentations.py`` PIL call with a given argument."""
    from PIL import Image, ImageEnhance, ImageOps

    w, h = im.size
    if op == "autocontrast":
        return ImageOps.autocontrast(im)
    if op == "equalize":
        return ImageOps.equalize(im)
    if op == "posterize":  # Pillow >= 12 refuses 0 bits, which keep nothing
        return ImageOps.posterize(im, int(a)) if a >= 1 else Image.new(im.mode, im.size, 0)
    if op == "solarize":
        return ImageOps.solarize(im, a)
    if op == "rotate":
        return im.rotate(a, resample=Image.BILINEAR)
    if op in O.AFFINE_OPS:
        return im.transform((w, h), Image.AFFINE, O.affine_coefficients(op, a, h, w), resample=Image.BILINEAR)
    enhance = {"color": ImageEnhance.Color, "contrast": ImageEnhance.Contrast,
               "brightness": ImageEnhance.Brightness, "sharpness": ImageEnhance.Sharpness}
    return enhance[op](im).enhance(a)


def _logits(case: Case, dtype: str = "float64") -> list[np.ndarray]:
    return [case.inputs[f"z{v}"].astype(dtype) for v in range(3)]


def _numpy_jsd_fd(case: Case, dtype: str) -> list[Comparison]:
    zs = _logits(case)
    grads = ref.jsd_consistency_grad(*zs)
    rng = np.random.default_rng([case.seed, 7])
    out = []
    for v in range(3):
        d = rng.normal(0, 1, zs[v].shape)

        def loss(t, v=v, d=d):
            zz = list(zs)
            zz[v] = zs[v] + t * d
            return ref.jsd_consistency(*zz)

        h = 1e-5
        fd = (loss(h) - loss(-h)) / (2 * h)
        out.append(Comparison(f"d/dz{v} . v", np.array([(grads[v] * d).sum()]), np.array([fd]),
                              spec.TOLERANCES.finite_difference))
    return out


# -- torch ---------------------------------------------------------------------------------------

def _torch(case: Case, dtype: str) -> list[Comparison]:
    import torch

    from tenfold.torch_backend import augmix as tb

    if case.name.startswith("op-"):
        got = tb.apply_op(case.name[3:], torch.from_numpy(case.inputs["x"].astype(np.uint8)),
                          torch.from_numpy(case.inputs["args"]))
        return _op_compare(case, got.numpy())
    x = torch.from_numpy(images_in(case, dtype))
    out = _out_dtype(case, dtype)
    mixed, chains = tb.augmix_apply(x, case_plan(case), out_dtype=None if out is None else getattr(torch, out),
                                    return_chains=True)
    return _compare(case, dtype, chains.numpy(), mixed.double().numpy())


def _torch_jsd(case: Case, dtype: str) -> list[Comparison]:
    import torch

    from tenfold.torch_backend import augmix as tb

    zs = [torch.tensor(z, requires_grad=True) for z in _logits(case, dtype)]
    loss = tb.JSDLoss()(*zs)
    grads = torch.autograd.grad(loss, zs)
    return _jsd_compare(case, dtype, float(loss.detach()), [g.double().numpy() for g in grads])


def _jsd_compare(case: Case, dtype: str, value: float, grads: list[np.ndarray]) -> list[Comparison]:
    zs = _logits(case, dtype)
    e_value = ref.jsd_consistency(*zs)
    e_grads = ref.jsd_consistency_grad(*zs)
    out = [Comparison("jsd", np.array([value]), np.array([e_value]), spec.JSD_TOLERANCES[dtype])]
    out += [Comparison(f"d jsd / d z{v}", grads[v], e_grads[v], spec.TOLERANCES.get("gradient", dtype))
            for v in range(3)]
    return out


# -- tf ------------------------------------------------------------------------------------------

_GRAPH: list = []


def _tf(mode: str):
    def run(case: Case, dtype: str) -> list[Comparison]:
        import tensorflow as tf

        from tenfold.tf_backend import augmix as tfb

        if case.name.startswith("op-"):
            got = tfb.apply_op(case.name[3:], tf.constant(case.inputs["x"].astype(np.uint8).transpose(0, 2, 3, 1)),
                               tf.constant(case.inputs["args"]))
            return _op_compare(case, got.numpy().transpose(0, 3, 1, 2))
        x = tf.constant(images_in(case, dtype).transpose(0, 2, 3, 1))  # NHWC
        plan = case_plan(case)
        out = _out_dtype(case, dtype)
        out = None if out is None else tf.as_dtype(out)
        if mode == "eager":
            mixed, chains = tfb.augmix_apply(x, plan, out_dtype=out, return_chains=True)
        else:  # the plan as tensors: through one tf.function, or a tf.data map
            tensors = {k: tf.constant(v) for k, v in plan.arrays().items()}
            ops = tuple(sorted({op for s in plan.ops for c in s for op in c}, key=O.OP_ID.get))
            if mode == "graph":
                if not _GRAPH:
                    _GRAPH.append(tf.function(lambda a, p, o, ol: tfb.augmix_apply(a, p, out_dtype=o, op_list=ol,
                                                                                    return_chains=True),
                                              reduce_retracing=True))
                mixed, chains = _GRAPH[0](x, tensors, out, ops)
            else:
                ds = tf.data.Dataset.from_tensors((x, tensors)).map(
                    lambda a, p: tfb.augmix_apply(a, p, out_dtype=out, op_list=ops, return_chains=True))
                mixed, chains = next(iter(ds))
        return _compare(case, dtype, chains.numpy().transpose(0, 1, 4, 2, 3),
                        tf.cast(mixed, tf.float64).numpy().transpose(0, 3, 1, 2))
    return run


def _tf_jsd(case: Case, dtype: str) -> list[Comparison]:
    import tensorflow as tf

    from tenfold.tf_backend import augmix as tfb

    zs = [tf.Variable(z) for z in _logits(case, dtype)]
    with tf.GradientTape() as tape:
        loss = tfb.jsd_consistency(*zs)
    grads = tape.gradient(loss, zs)
    return _jsd_compare(case, dtype, float(loss), [g.numpy().astype(np.float64) for g in grads])


def _torch_vs_tf_jsd(case: Case, dtype: str) -> list[Comparison]:
    import tensorflow as tf
    import torch

    from tenfold.tf_backend import augmix as tfb
    from tenfold.torch_backend import augmix as tb

    zt = [torch.tensor(z, requires_grad=True) for z in _logits(case, dtype)]
    gt = torch.autograd.grad(tb.jsd_consistency(*zt), zt)
    zf = [tf.Variable(z) for z in _logits(case, dtype)]
    with tf.GradientTape() as tape:
        loss = tfb.jsd_consistency(*zf)
    gf = tape.gradient(loss, zf)
    return [Comparison(f"torch vs tf d/dz{v}", gt[v].double().numpy(), gf[v].numpy().astype(np.float64),
                       spec.TOLERANCES.get("gradient", dtype)) for v in range(3)]


IMAGE_DTYPES = ("uint8", "float32", "float64")
_GRAPH_CASES = ("every-option",)
_PILLOW = importlib.util.find_spec("PIL") is not None

SUITES: tuple[Suite, ...] = (
    *((Suite("numpy", "pillow", ("uint8",), (*OP_CASES, *CHAIN_CASES), _numpy_pillow),) if _PILLOW else ()),
    Suite("numpy", "jsd-fd", ("float64",), JSD_CASES, _numpy_jsd_fd),
    Suite("torch", "ops", ("uint8",), OP_CASES, _torch),
    Suite("torch", "eager", IMAGE_DTYPES, CHAIN_CASES, _torch),
    Suite("torch", "jsd", ("float32", "float64"), JSD_CASES, _torch_jsd),
    Suite("tf", "ops", ("uint8",), OP_CASES, _tf("eager")),
    Suite("tf", "eager", IMAGE_DTYPES, CHAIN_CASES, _tf("eager")),
    Suite("tf", "graph", ("uint8", "float64"), _GRAPH_CASES, _tf("graph")),
    Suite("tf", "tfdata", ("uint8",), ("uint8-out",), _tf("tfdata")),
    Suite("tf", "jsd", ("float32", "float64"), JSD_CASES, _tf_jsd),
    Suite("torch", "jsd-vs-tf", ("float32", "float64"), JSD_CASES, _torch_vs_tf_jsd, requires=("tf",)),
)

__all__ = ["CASES", "SUITES", "case_plan", "images_in", "make_case"]
