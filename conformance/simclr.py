"""Conformance of SimCLR (see :mod:`tenfold.spec.simclr`): NT-Xent, the projection head, LARS, the augmentation.

Oracles: :mod:`tenfold.numpy_ref.simclr` in float64 on inputs rounded to the
tested dtype, central finite differences of it (float64), and PyTorch against
TensorFlow.

* ``loss-*``: NT-Xent value and gradients in every reduction (``none`` with a
  random cotangent), tau = 0.01, duplicate embeddings (every logit equal), one
  pair (N = 1), a zero embedding (the eps floor), no normalisation, large
  values; torch and tf (eager and graph): value and gradients (against the
  reference's written-out gradient, itself checked against finite differences
  in tests/test_simclr_spec.py), float64 gradients against finite differences,
  TF's gradients against PyTorch's.
* ``head-*``: v1, v2, linear and an odd-sized head: two train-mode steps
  (outputs and every running statistic) then eval; input gradients against
  finite differences (float64) and torch against TF (float32).
* ``lars-*``: 20-step trajectories (a learning rate that changes every step)
  over parameters named like the official checkpoint, so the exclusion patterns
  apply (BatchNorm, bias), a rank-1 parameter (excluded only with
  ``exclude_vectors``), a zero-initialised one (trust ratio 1), and a zero
  gradient at one step; parameters after every step and the final momentum.
* ``aug-*``: plans injected into every layer: each preset, every option
  non-default, edge colours (gray, black, saturated, ties of the maximum),
  batch 1 with an odd non-square output, and two plans of pure selection
  (identity crop, flip) that must be pixel-exact in every dtype. Elsewhere
  float32 differs from the float64 reference by rounding (resampling sums, the
  HSV round trip): see ``spec.simclr.AUGMENT_TOLERANCES``.
"""

from __future__ import annotations

import json

import numpy as np

from tenfold.numpy_ref import simclr as ref
from tenfold.spec import simclr as spec
from tenfold.spec.simclr import augment as aug
from tenfold.spec.tolerance import Tolerance

from .case import Case, Comparison, Suite
from .dtypes import round_to

METHOD = "simclr"
EXACT = Tolerance(atol=0.0, rtol=0.0)

#: name -> (N, d, NTXentConfig, value scale)
LOSS_CASES: dict[str, tuple[int, int, spec.NTXentConfig, float]] = {
    "loss-official": (4, 5, spec.NTXentConfig(temperature=0.5), 1.0),
    "loss-paper": (4, 5, spec.NTXentConfig.paper(), 1.0),
    "loss-sum": (3, 4, spec.NTXentConfig(reduction="sum", temperature=0.2), 1.0),
    "loss-none": (3, 6, spec.NTXentConfig(reduction="none"), 1.0),
    "loss-tau001": (4, 3, spec.NTXentConfig(temperature=0.01), 1.0),
    "loss-duplicates": (4, 3, spec.NTXentConfig(temperature=0.01, reduction="paper"), 1.0),
    "loss-batch1": (1, 4, spec.NTXentConfig(), 1.0),
    "loss-zero-row": (3, 4, spec.NTXentConfig(temperature=0.3), 1.0),
    "loss-nonorm": (3, 4, spec.NTXentConfig(normalize=False, temperature=2.0, reduction="paper"), 0.5),
    "loss-large": (5, 3, spec.NTXentConfig(temperature=0.7), 1e3),
}
HEAD_CASES: dict[str, tuple[spec.HeadConfig, int]] = {
    "head-v1": (spec.HeadConfig.v1(in_dim=8, out_dim=4), 6),
    "head-v2": (spec.HeadConfig.v2(in_dim=8, out_dim=4), 6),
    "head-linear": (spec.HeadConfig.linear(in_dim=5, out_dim=3), 4),
    "head-odd": (spec.HeadConfig(in_dim=7, mid_dim=9, out_dim=3, num_layers=3, bn_eps=1e-3, bn_momentum=0.3), 3),
}
_LARS_PATTERNS = dict(exclude_from_weight_decay=("batch_normalization", "bias"))
LARS_CASES: dict[str, spec.LARSConfig] = {
    "lars-official": spec.LARSConfig(weight_decay=1e-2),
    "lars-nesterov": spec.LARSConfig(weight_decay=1e-2, nesterov=True, eta=0.01),
    "lars-popular": spec.LARSConfig(weight_decay=1e-2, classic_momentum=False),
    "lars-vectors": spec.LARSConfig.torch_idiom().replace(weight_decay=1e-2),
    "lars-split": spec.LARSConfig(weight_decay=1e-2, exclude_from_layer_adaptation=("kernel_b",)),
    "lars-all": spec.LARSConfig(weight_decay=3e-2, momentum=0.5, eta=0.02, nesterov=True, classic_momentum=False,
                                exclude_vectors=True, **_LARS_PATTERNS),
}
#: name -> (shape, gradient scale); the names carry (or not) the official exclusion patterns.
LARS_TENSORS: dict[str, tuple[tuple[int, ...], float]] = {
    "nl_0/dense/kernel": ((4, 3), 1.0),
    "nl_0/batch_normalization/gamma": ((3,), 0.1),
    "nl_0/batch_normalization/beta": ((3,), 0.1),
    "linear/bias": ((3,), 1.0),
    "vector": ((5,), 0.3),
    "zero/kernel_b": ((2, 3), 1e-3),
}
LARS_STEPS = 20
_LRS = tuple((1 + (t % 5)) / 16 for t in range(LARS_STEPS))  # exactly representable in float32 (Keras)

_NONDEFAULT = aug.AugmentConfig(
    crop="torchvision", area_range=(0.3, 0.9), aspect_range=(0.5, 2.0), max_attempts=5, interpolation="bilinear",
    half_pixel=False, resize_edge="clamp", flip_p=1.0, jitter_p=1.0, strength=1.2, brightness_mode="additive",
    random_order=False, contrast_mean="gray", saturation_mode="blend", gray_p=0.5, gray_weights=(0.3, 0.5, 0.2),
    blur_p=1.0, blur_sigma=(0.5, 1.5), blur_divisor=4, blur_sigma_per="image", blur_padding="reflect")
#: name -> (config, batch, input H, W, output H, W)
AUG_CASES: dict[str, tuple[aug.AugmentConfig, int, int, int, int, int]] = {
    "aug-official": (aug.AugmentConfig(), 5, 37, 45, 30, 30),
    "aug-v1": (aug.AugmentConfig.v1(), 5, 40, 33, 24, 24),
    "aug-cifar": (aug.AugmentConfig.cifar(), 4, 32, 32, 32, 32),
    "aug-torchvision": (aug.AugmentConfig.torchvision(), 5, 36, 28, 20, 20),
    "aug-nondefault": (_NONDEFAULT, 4, 30, 34, 21, 17),
    "aug-edge-colours": (aug.AugmentConfig(jitter_p=1.0, gray_p=0.0, blur_p=0.0), 6, 16, 16, 12, 12),
    "aug-batch1-odd": (aug.AugmentConfig(blur_p=1.0, blur_divisor=2), 1, 23, 17, 13, 9),
    "aug-identity": (aug.AugmentConfig(flip_p=0.0, jitter_p=0.0, gray_p=0.0, blur_p=0.0), 3, 11, 14, 11, 14),
    "aug-flip": (aug.AugmentConfig(flip_p=1.0, jitter_p=0.0, gray_p=0.0, blur_p=0.0), 3, 11, 14, 11, 14),
}
PIXEL_EXACT = ("aug-identity", "aug-flip")
CASES = (*LOSS_CASES, *HEAD_CASES, *LARS_CASES, *AUG_CASES)
DTYPES = ("float32", "float64")


# -- cases -------------------------------------------------------------------------

def _aug_plan(name: str, rng: np.random.Generator) -> aug.AugmentPlan:
    config, b, h_in, w_in, h, w = AUG_CASES[name]
    plan = aug.sample(rng, b, h_in, w_in, h, w, config)
    if name in PIXEL_EXACT:  # the identity crop: whole image, same size
        plan = aug.AugmentPlan.from_dict({**plan.to_dict(), "crops": [[0, 0, h_in, w_in]] * b})
    return plan


def _edge_images(rng: np.random.Generator, b: int, h: int, w: int) -> np.ndarray:
    """Quantised colours (ties of the maximum), gray and black pixels, saturated primaries."""
    x = rng.integers(0, 5, size=(b, 3, h, w)) / 4.0
    x[:, :, : h // 4] = x[:, :1, : h // 4]  # gray rows (c = 0)
    x[:, :, -2:] = 0.0  # black
    x[:, :, :, :2] = np.eye(3)[rng.integers(0, 3, size=(b, h))].transpose(0, 2, 1)[..., None]  # primaries
    return x


def make_case(name: str, seed: int) -> Case:
    rng = np.random.default_rng([seed, CASES.index(name)])
    if name in LOSS_CASES:
        n, d, _, scale = LOSS_CASES[name]
        z1, z2 = rng.normal(0, scale, size=(n, d)), rng.normal(0, scale, size=(n, d))
        if name == "loss-duplicates":
            z1 = z2 = np.broadcast_to(rng.normal(size=(1, d)), (n, d)).copy()
        if name == "loss-zero-row":
            z1[1] = 0.0
        return Case(METHOD, name, seed, {"z1": z1, "z2": z2, "w": rng.normal(size=2 * n)})
    if name in HEAD_CASES:
        config, b = HEAD_CASES[name]
        params = ref.init_params(config, rng)
        params = {k: (rng.normal(0, 0.5, v.shape) if k.endswith("kernel") else
                      rng.uniform(0.5, 2.0, v.shape) if k.endswith(("gamma", "variance")) else
                      rng.normal(0, 0.5, v.shape)) for k, v in params.items()}
        inputs = {f"p:{k}": v for k, v in params.items()}
        inputs.update({f"x{i}": rng.normal(size=(b, config.in_dim)) for i in range(3)})
        inputs["w"] = rng.normal(size=(b, config.out_dim))
        return Case(METHOD, name, seed, inputs)
    if name in LARS_CASES:
        inputs = {}
        for t, (shape, scale) in LARS_TENSORS.items():
            inputs[f"p:{t}"] = np.zeros(shape) if t.startswith("zero") else rng.normal(size=shape)
            g = scale * rng.normal(size=(LARS_STEPS, *shape))
            g[LARS_STEPS // 2] = 0.0  # a zero gradient: trust ratio 1
            inputs[f"g:{t}"] = g
        return Case(METHOD, name, seed, inputs)
    config, b, h_in, w_in, _, _ = AUG_CASES[name]
    plan = _aug_plan(name, rng)
    x = _edge_images(rng, b, h_in, w_in) if name == "aug-edge-colours" else rng.random((b, 3, h_in, w_in))
    blob = np.frombuffer(json.dumps(plan.to_dict()).encode(), dtype=np.uint8).astype(np.float64)
    return Case(METHOD, name, seed, {"x": x, "plan": blob})


def case_plan(case: Case) -> aug.AugmentPlan:
    return aug.AugmentPlan.from_dict(json.loads(case.inputs["plan"].astype(np.uint8).tobytes().decode()))


# -- NT-Xent -----------------------------------------------------------------------

def _loss_inputs(case: Case, dtype: str):
    return round_to(case.inputs["z1"], dtype), round_to(case.inputs["z2"], dtype), case.inputs["w"]


def _loss_ref(case: Case, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z1, z2, w = _loss_inputs(case, dtype)
    config = LOSS_CASES[case.name][2]
    up = w if config.reduction == "none" else 1.0
    return (ref.nt_xent(z1, z2, config=config), *ref.nt_xent_grad(z1, z2, config=config, upstream=up))


def _fd_grads(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of the float64 reference, element by element."""
    z1, z2, w = _loss_inputs(case, "float64")
    config = LOSS_CASES[case.name][2]

    def scalar(a, b):
        v = ref.nt_xent(a, b, config=config)
        return float(np.dot(w, v)) if config.reduction == "none" else float(v)

    out = []
    for k, z in enumerate((z1, z2)):
        g = np.zeros_like(z)
        for idx in np.ndindex(z.shape):
            # at a zero row the unit vector is z / sqrt(eps): a step far below sqrt(eps) stays in that regime
            step = 1e-6 * max(1.0, abs(z[idx])) if z[idx] != 0 else 1e-10
            zp, zm = z.copy(), z.copy()
            zp[idx] += step
            zm[idx] -= step
            args_p = (zp, z2) if k == 0 else (z1, zp)
            args_m = (zm, z2) if k == 0 else (z1, zm)
            g[idx] = (scalar(*args_p) - scalar(*args_m)) / (2 * step)
        out.append(g)
    return out[0], out[1]


def _loss_tol(case: Case, dtype: str, kind: str) -> Tolerance:
    tol = spec.TOLERANCES.get(kind, dtype)
    tau = LOSS_CASES[case.name][2].temperature
    if dtype == "float32" and tau < 0.05:  # logits up to 1/tau: float32 rounding of h.h grows by 1/tau
        return Tolerance(atol=tol.atol * 20, rtol=tol.rtol * 20)
    return tol


def _torch_loss(case: Case, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import torch

    from tenfold.torch_backend.simclr import nt_xent

    z1, z2, w = _loss_inputs(case, dtype)
    config = LOSS_CASES[case.name][2]
    a = torch.tensor(z1, dtype=getattr(torch, dtype), requires_grad=True)
    b = torch.tensor(z2, dtype=getattr(torch, dtype), requires_grad=True)
    loss = nt_xent(a, b, config=config)
    loss.backward(torch.tensor(w, dtype=loss.dtype) if config.reduction == "none" else None)
    return loss.detach().double().numpy(), a.grad.double().numpy(), b.grad.double().numpy()


def _tf_loss(graph: bool):
    def run(case: Case, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import tensorflow as tf

        from tenfold.tf_backend.simclr import nt_xent

        z1, z2, w = _loss_inputs(case, dtype)
        config = LOSS_CASES[case.name][2]

        def fn(a, b, w):
            with tf.GradientTape() as tape:
                tape.watch([a, b])
                loss = nt_xent(a, b, config=config)
            ga, gb = tape.gradient(loss, [a, b], output_gradients=w if config.reduction == "none" else None)
            return loss, ga, gb

        fn = tf.function(fn) if graph else fn
        out = fn(tf.constant(z1, dtype), tf.constant(z2, dtype), tf.constant(w, dtype))
        return tuple(np.asarray(v.numpy(), dtype=np.float64) for v in out)
    return run


def _loss_suite(backend):
    def run(case: Case, dtype: str) -> list[Comparison]:
        loss, g1, g2 = backend(case, dtype)
        e_loss, e1, e2 = _loss_ref(case, dtype)
        fwd, grad = _loss_tol(case, dtype, "forward"), _loss_tol(case, dtype, "gradient")
        comps = [Comparison("loss", loss, e_loss, fwd), Comparison("dz1", g1, e1, grad),
                 Comparison("dz2", g2, e2, grad)]
        if case.name == "loss-duplicates":
            n = case.inputs["z1"].shape[0]
            per = np.log(2 * n - 1)
            comps.append(Comparison("log(2N - 1)", loss, np.asarray(per), fwd))
        return comps
    return run


def _loss_fd(backend):
    def run(case: Case, dtype: str) -> list[Comparison]:
        _, g1, g2 = backend(case, "float64")
        f1, f2 = _fd_grads(case)
        tol = spec.TOLERANCES.finite_difference
        scale = max(1.0, float(np.abs(f1).max()), float(np.abs(f2).max()))
        tol = Tolerance(atol=tol.atol * scale, rtol=tol.rtol)
        return [Comparison("dz1 vs FD", g1, f1, tol), Comparison("dz2 vs FD", g2, f2, tol)]
    return run


def _loss_tf_vs_torch(case: Case, dtype: str) -> list[Comparison]:
    tl, t1, t2 = _torch_loss(case, dtype)
    fl, f1, f2 = _tf_loss(False)(case, dtype)
    tol = _loss_tol(case, dtype, "gradient")
    return [Comparison("loss tf-torch", fl, tl, _loss_tol(case, dtype, "forward")),
            Comparison("dz1 tf-torch", f1, t1, tol), Comparison("dz2 tf-torch", f2, t2, tol)]


# -- projection head ------------------------------------------------------------------

def _head_params(case: Case, dtype: str) -> dict[str, np.ndarray]:
    return {k[2:]: round_to(v, dtype) for k, v in case.inputs.items() if k.startswith("p:")}


def _head_ref(case: Case, dtype: str) -> dict[str, np.ndarray]:
    config, _ = HEAD_CASES[case.name]
    params = _head_params(case, dtype)
    out = {}
    for i in range(2):
        updates: dict = {}
        out[f"train y{i}"] = ref.forward(round_to(case.inputs[f"x{i}"], dtype), params, config, training=True,
                                         updates=updates)
        params = {**params, **updates}
    out["eval y"] = ref.forward(round_to(case.inputs["x2"], dtype), params, config)
    out.update({f"state {k}": v for k, v in params.items() if "moving" in k})
    return out


def _head_compare(case: Case, dtype: str, got: dict[str, np.ndarray]) -> list[Comparison]:
    tol = spec.TOLERANCES.get("forward", dtype)
    return [Comparison(k, got[k], v, tol) for k, v in _head_ref(case, dtype).items()]


def _torch_head(case: Case, dtype: str) -> dict[str, np.ndarray]:
    import torch

    from tenfold.torch_backend.simclr import ProjectionHead, get_params, load_params

    config, _ = HEAD_CASES[case.name]
    model = load_params(ProjectionHead(config, dtype=getattr(torch, dtype)), _head_params(case, dtype))
    x = [torch.tensor(round_to(case.inputs[f"x{i}"], dtype), dtype=getattr(torch, dtype)) for i in range(3)]
    out = {}
    with torch.no_grad():
        model.train()
        out["train y0"], out["train y1"] = (model(x[i]).double().numpy() for i in range(2))
        model.eval()
        out["eval y"] = model(x[2]).double().numpy()
    out.update({f"state {k}": v for k, v in get_params(model).items() if "moving" in k})
    return out


def _tf_head_model(case: Case, dtype: str):
    from tenfold.tf_backend.simclr import ProjectionHead, load_params

    config, _ = HEAD_CASES[case.name]
    return load_params(ProjectionHead(config, dtype=dtype), _head_params(case, dtype))


def _tf_head(graph: bool):
    def run(case: Case, dtype: str) -> dict[str, np.ndarray]:
        import tensorflow as tf

        from tenfold.tf_backend.simclr import get_params

        model = _tf_head_model(case, dtype)
        call = tf.function(model.__call__) if graph else model.__call__
        x = [tf.constant(round_to(case.inputs[f"x{i}"], dtype), dtype) for i in range(3)]
        out = {"train y0": call(x[0], training=True).numpy(), "train y1": call(x[1], training=True).numpy(),
               "eval y": call(x[2], training=False).numpy()}
        out.update({f"state {k}": v for k, v in get_params(model).items() if "moving" in k})
        return {k: np.asarray(v, np.float64) for k, v in out.items()}
    return run


def _head_suite(backend):
    return lambda case, dtype: _head_compare(case, dtype, backend(case, dtype))


def _head_torch_grad_fd(case: Case, dtype: str) -> list[Comparison]:
    """d(sum(w * g(x)))/dx in train mode (PyTorch, float64) against a central difference along a random direction."""
    import torch

    from tenfold.torch_backend.simclr import ProjectionHead, load_params

    config, _ = HEAD_CASES[case.name]
    params, x, w = _head_params(case, "float64"), case.inputs["x0"], case.inputs["w"]
    model = load_params(ProjectionHead(config, dtype=torch.float64), params)
    xt = torch.tensor(x, requires_grad=True)
    (model(xt) * torch.tensor(w)).sum().backward()
    v = np.random.default_rng(case.seed).normal(size=x.shape)

    def f(xx):
        return float((ref.forward(xx, params, config, training=True) * w).sum())

    step = 1e-6
    fd = (f(x + step * v) - f(x - step * v)) / (2 * step)
    return [Comparison("dx . v vs FD", np.asarray(float((xt.grad.numpy() * v).sum())), np.asarray(fd),
                       spec.TOLERANCES.finite_difference)]


def _head_tf_vs_torch(case: Case, dtype: str) -> list[Comparison]:
    """Gradients of sum(w * g(x)) in train mode with respect to x and every parameter, TF against PyTorch."""
    import tensorflow as tf
    import torch

    from tenfold.torch_backend.simclr import ProjectionHead, canonical_names, load_params

    config, _ = HEAD_CASES[case.name]
    x, w = round_to(case.inputs["x0"], dtype), case.inputs["w"]
    tm = load_params(ProjectionHead(config, dtype=getattr(torch, dtype)), _head_params(case, dtype))
    xt = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    (tm(xt) * torch.tensor(w, dtype=xt.dtype)).sum().backward()
    names = canonical_names(tm)
    tg = {names[n]: (p.grad.t() if n.endswith("linear.weight") else p.grad).double().numpy()
          for n, p in tm.named_parameters()}
    fm = _tf_head_model(case, dtype)
    xf = tf.constant(x, dtype)
    with tf.GradientTape() as tape:
        tape.watch(xf)
        y = tf.reduce_sum(fm(xf, training=True) * tf.constant(w, dtype))
    variables = fm.trainable_variables
    grads = tape.gradient(y, [xf, *variables])
    tol = spec.TOLERANCES.get("gradient", dtype)
    comps = [Comparison("dx tf-torch", np.asarray(grads[0], np.float64), xt.grad.double().numpy(), tol)]
    for v, g in zip(variables, grads[1:], strict=True):
        canon = v.path.split("/", 1)[1]
        comps.append(Comparison(f"d{canon} tf-torch", np.asarray(g, np.float64), tg[canon], tol))
    return comps


# -- LARS ---------------------------------------------------------------------------

def _lars_ref(case: Case, dtype: str) -> list[dict[str, np.ndarray]]:
    config = LARS_CASES[case.name]
    params = {t: round_to(case.inputs[f"p:{t}"], dtype) for t in LARS_TENSORS}
    state = ref.init_state(params)
    out = []
    for t in range(LARS_STEPS):
        grads = {n: round_to(case.inputs[f"g:{n}"][t], dtype) for n in LARS_TENSORS}
        params, state = ref.step(params, grads, state, config.replace(lr=_LRS[t]))
        out.append(dict(params))
    out.append({f"v:{n}": v for n, v in state.momentum.items()})
    return out


def _lars_compare(case: Case, dtype: str, got: list[dict[str, np.ndarray]]) -> list[Comparison]:
    tol = spec.LARS_TOLERANCES[dtype]
    comps = []
    for t, (a, e) in enumerate(zip(got, _lars_ref(case, dtype), strict=True)):
        label = "momentum" if t == LARS_STEPS else f"step {t + 1}"
        comps += [Comparison(f"{label} {n}", np.asarray(a[n], np.float64), e[n], tol) for n in e]
    return comps


def _torch_lars(case: Case, dtype: str) -> list[dict[str, np.ndarray]]:
    import torch

    from tenfold.torch_backend.simclr import LARS

    tdt = getattr(torch, dtype)
    tensors = {n: torch.nn.Parameter(torch.tensor(round_to(case.inputs[f"p:{n}"], dtype), dtype=tdt))
               for n in LARS_TENSORS}
    opt = LARS(list(tensors.items()), config=LARS_CASES[case.name])
    out = []
    for t in range(LARS_STEPS):
        for n, p in tensors.items():
            p.grad = torch.tensor(round_to(case.inputs[f"g:{n}"][t], dtype), dtype=tdt)
        opt.param_groups[0]["lr"] = _LRS[t]
        opt.step()
        out.append({n: p.detach().double().numpy().copy() for n, p in tensors.items()})
    out.append({f"v:{n}": opt.state[p]["momentum_buffer"].double().numpy() for n, p in tensors.items()})
    return out


def _tf_lars(graph: bool):
    def run(case: Case, dtype: str) -> list[dict[str, np.ndarray]]:
        import tensorflow as tf

        from tenfold.tf_backend.simclr import LARS

        variables = {n: tf.Variable(round_to(case.inputs[f"p:{n}"], dtype).astype(dtype), name=n)
                     for n in LARS_TENSORS}
        opt = LARS(config=LARS_CASES[case.name])
        vs = list(variables.values())
        opt.build(vs)

        def apply(grads, lr):
            opt.learning_rate.assign(lr)
            opt.apply_gradients(zip(grads, vs, strict=True))

        apply = tf.function(apply) if graph else apply
        out = []
        for t in range(LARS_STEPS):
            apply([tf.constant(round_to(case.inputs[f"g:{n}"][t], dtype).astype(dtype)) for n in LARS_TENSORS],
                  tf.constant(_LRS[t], tf.float32))
            out.append({n: v.numpy().astype(np.float64) for n, v in variables.items()})
        out.append({f"v:{n}": opt._momentums[i].numpy().astype(np.float64) for i, n in enumerate(LARS_TENSORS)})
        return out
    return run


def _lars_suite(backend):
    return lambda case, dtype: _lars_compare(case, dtype, backend(case, dtype))


# -- augmentation ----------------------------------------------------------------------

def _aug_compare(case: Case, dtype: str, got: np.ndarray) -> list[Comparison]:
    x = round_to(case.inputs["x"], dtype)
    expected = ref.apply(case_plan(case), x).astype(np.float64)
    tol = EXACT if case.name in PIXEL_EXACT else spec.AUGMENT_TOLERANCES[dtype]
    return [Comparison("pixels", np.asarray(got, np.float64), expected, tol)]


def _torch_aug(case: Case, dtype: str) -> list[Comparison]:
    import torch

    from tenfold.torch_backend.simclr import apply

    x = torch.tensor(round_to(case.inputs["x"], dtype), dtype=getattr(torch, dtype))
    out = apply(case_plan(case), x)
    if out.dtype != x.dtype:
        raise TypeError(f"torch apply returned {out.dtype} for {x.dtype} images")
    return _aug_compare(case, dtype, out.double().numpy())


def _tf_aug(mode: str):
    def run(case: Case, dtype: str) -> list[Comparison]:
        import tensorflow as tf

        from tenfold.tf_backend.simclr import apply, plan_tensors

        plan = case_plan(case)
        x = tf.constant(round_to(case.inputs["x"], dtype).transpose(0, 2, 3, 1), dtype)  # NHWC
        if mode == "eager":
            out = apply(plan, x)
        elif mode == "graph":  # the plan as tensors through one tf.function, conventions from the plan
            out = tf.function(lambda x, p: apply(p, x, plan))(x, plan_tensors(plan, dtype))
        else:
            ds = tf.data.Dataset.from_tensors((x, plan_tensors(plan, dtype))).map(lambda a, p: apply(p, a, plan))
            out = next(iter(ds))
        return _aug_compare(case, dtype, np.asarray(out, np.float64).transpose(0, 3, 1, 2))
    return run


LOSS, HEAD, LARS_, AUG = tuple(LOSS_CASES), tuple(HEAD_CASES), tuple(LARS_CASES), tuple(AUG_CASES)

SUITES: tuple[Suite, ...] = (
    Suite("torch", "loss", DTYPES, LOSS, _loss_suite(_torch_loss)),
    Suite("torch", "loss-grad-fd", ("float64",), LOSS, _loss_fd(_torch_loss)),
    Suite("tf", "loss-eager", DTYPES, LOSS, _loss_suite(_tf_loss(False))),
    Suite("tf", "loss-graph", ("float32",), LOSS, _loss_suite(_tf_loss(True))),
    Suite("tf", "loss-grad-fd", ("float64",), LOSS, _loss_fd(_tf_loss(False))),
    Suite("tf", "loss-vs-torch", ("float32",), LOSS, _loss_tf_vs_torch, requires=("torch",)),
    Suite("torch", "head", DTYPES, HEAD, _head_suite(_torch_head)),
    Suite("torch", "head-grad-fd", ("float64",), HEAD, _head_torch_grad_fd),
    Suite("tf", "head-eager", DTYPES, HEAD, _head_suite(_tf_head(False))),
    Suite("tf", "head-graph", ("float32",), HEAD, _head_suite(_tf_head(True))),
    Suite("tf", "head-vs-torch", DTYPES, HEAD, _head_tf_vs_torch, requires=("torch",)),
    Suite("torch", "lars", DTYPES, LARS_, _lars_suite(_torch_lars)),
    Suite("tf", "lars-eager", ("float64",), LARS_, _lars_suite(_tf_lars(False))),
    Suite("tf", "lars-graph", ("float32",), LARS_, _lars_suite(_tf_lars(True))),
    Suite("torch", "augment", DTYPES, AUG, _torch_aug),
    Suite("tf", "augment-eager", DTYPES, AUG, _tf_aug("eager")),
    Suite("tf", "augment-graph", ("float32",), ("aug-official", "aug-nondefault", "aug-identity"), _tf_aug("graph")),
    Suite("tf", "augment-tfdata", ("float64",), ("aug-official", "aug-identity"), _tf_aug("tfdata")),
)
