"""Conformance cases and suites of ViT (see :mod:`tenfold.spec.vit`).

Every case is a tiny model (8-16 px images, patch 4-8, width 8-16, 1-2
layers) with random params drawn from the seed, and a batch of images.
Cases cover both GELU forms, both classifiers, the pre-logits layer, batch 1
and 3, an odd patch grid, and position embeddings resized from a smaller grid
(official and timm methods). Suites: numpy_ref in float32, PyTorch (eager and
bfloat16 autocast), TensorFlow (eager and ``tf.function``), float64 gradients
against central finite differences of numpy_ref, the two checkpoint loaders
(an official-layout ``.npz`` file and a timm-layout ``state_dict``), and the
ONNX exports of both backends run in onnxruntime.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tenfold.numpy_ref import vit as ref
from tenfold.spec import vit as spec
from tenfold.spec.tolerance import Tolerance

from .case import Case, Comparison, Suite
from .dtypes import round_to

METHOD = "vit"

_TINY = spec.ViTConfig.tiny()
#: name -> (config, batch); configs are the spec's, params and images come from the seed.
CONFIGS: dict[str, tuple[spec.ViTConfig, int]] = {
    "token-tanh": (_TINY, 3),
    "token-exact": (_TINY.replace(gelu="exact"), 3),
    "gap-exact": (_TINY.replace(classifier="gap", gelu="exact"), 3),
    "gap-tanh-prelogits": (_TINY.replace(classifier="gap", representation_size=6), 3),
    "prelogits-grid3": (_TINY.replace(image_size=12, patch_size=4, representation_size=7, num_layers=1), 3),
    "batch1": (_TINY.replace(gelu="exact"), 1),
    "posemb-official": (_TINY.replace(patch_size=4, num_layers=1), 3),
    "posemb-timm": (_TINY.replace(patch_size=4, num_layers=1, classifier="gap"), 3),
    # every option away from its default (dropout is inference-irrelevant; eps and GELU are the sensitive ones)
    "custom": (_TINY.replace(image_size=12, patch_size=4, num_heads=4, num_layers=1, num_classes=4,
                             classifier="gap", representation_size=5, layer_norm_eps=1e-3, gelu="exact",
                             dropout_rate=0.1, attention_dropout_rate=0.1), 2),
    "grad-token": (spec.ViTConfig.tiny(image_size=8, patch_size=4, hidden_size=8, mlp_dim=16, num_layers=1,
                                       num_classes=3), 2),
    "grad-gap": (spec.ViTConfig.tiny(image_size=8, patch_size=4, hidden_size=8, mlp_dim=16, num_layers=1,
                                     num_classes=3, classifier="gap", gelu="exact", representation_size=4), 2),
}
CASES = tuple(CONFIGS)
FORWARD = tuple(c for c in CASES if not c.startswith("grad"))
GRAD = ("grad-token", "grad-gap")
LOAD = ("token-tanh", "gap-tanh-prelogits")
ONNX = ("token-tanh", "gap-exact")
_RESIZED = {"posemb-official": (8, "official"), "posemb-timm": (8, "timm")}  # trained image size, method
_PREFIX = "param:"


def config_of(case: Case) -> spec.ViTConfig:
    return case.config if case.config is not None else CONFIGS[case.name][0]


def make_case(name: str, seed: int) -> Case:
    """Images ``x`` (NCHW), cotangent ``w`` and params ``param:<canonical name>``, all float64."""
    rng = np.random.default_rng([seed, CASES.index(name)])
    config, batch = CONFIGS[name]
    if name in _RESIZED:  # params trained for a smaller grid, resized to the case's grid
        size, method = _RESIZED[name]
        params = ref.init_params(config.replace(image_size=size), rng)
        key = "Transformer/posembed_input/pos_embedding"
        params[key] = spec.resize_pos_embedding(params[key], config.grid, config.num_prefix_tokens, method=method)
    else:
        params = ref.init_params(config, rng)
    x = rng.standard_normal((batch, config.in_channels, config.image_size, config.image_size))
    if name == "batch1":
        x = x * 3.0  # larger activations: saturating tanh/softmax regions
    w = rng.standard_normal((batch, config.num_classes))
    return Case(METHOD, name, seed, {"x": x, "w": w, **{_PREFIX + k: v for k, v in params.items()}})


#: Modes that run on a user's weights (``tenfold conformance --method vit --weights W.npz``): every
#: forward, loader and export check; not the finite-difference gradients (one forward per input
#: element) nor bfloat16 autocast (its tolerance is for the unit-scale logits of tiny models).
WEIGHTS_MODES = ("eager", "graph", "load-npz", "load-timm", "from-torch", "from-tf")


def make_weights_case(params: dict[str, np.ndarray], config: spec.ViTConfig, seed: int, batch: int = 2) -> Case:
    """A case on given weights: ``batch`` images with pixels uniform in the normalised range [-1, 1]."""
    rng = np.random.default_rng([seed, 7])
    x = rng.uniform(-1.0, 1.0, (batch, config.in_channels, config.image_size, config.image_size))
    w = rng.standard_normal((batch, config.num_classes))
    inputs = {"x": x, "w": w, **{_PREFIX + k: np.asarray(v, np.float64) for k, v in params.items()}}
    return Case(METHOD, "weights", seed, inputs, config=config)


def params_of(case: Case, dtype: str = "float64") -> dict[str, np.ndarray]:
    return {k[len(_PREFIX):]: round_to(v, dtype) for k, v in case.inputs.items() if k.startswith(_PREFIX)}


def _store(dtype: str) -> str:
    return "float32" if dtype == "bfloat16" else dtype


def _expected(case: Case, dtype: str) -> np.ndarray:
    """numpy_ref in float64 on params and images rounded to ``dtype``."""
    return ref.vit(round_to(case.inputs["x"], dtype), params_of(case, dtype), config_of(case))


def _forward(run_backend):
    def run(case: Case, dtype: str) -> list[Comparison]:
        params = {k: v.astype(_store(dtype)) for k, v in params_of(case, dtype).items()}
        x = round_to(case.inputs["x"], dtype).astype(_store(dtype))
        y = run_backend(config_of(case), params, x, dtype)
        return [Comparison("logits", np.asarray(y, np.float64), _expected(case, dtype), spec.TOLERANCES.forward[dtype])]
    return run


# -- backends ----------------------------------------------------------------------

def _numpy(config, params, x, dtype):
    return ref.vit(x, params, config)


def _torch_model(config, params, dtype):
    import torch

    from tenfold.torch_backend import vit as tb

    model = tb.ViT(config).to(getattr(torch, _store(dtype))).eval()
    return tb.load_params(model, params)


def _torch_eager(config, params, x, dtype):
    import torch

    model = _torch_model(config, params, dtype)
    with torch.no_grad():
        if dtype == "bfloat16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return model(torch.from_numpy(x)).double().numpy()
        return model(torch.from_numpy(x)).double().numpy()


def _tf_model(config, params, dtype):
    from tenfold.tf_backend import vit as tfb

    return tfb.load_params(tfb.ViT(config, dtype=dtype), params)


def _tf_forward(graph: bool):
    def run(config, params, x, dtype):
        import tensorflow as tf

        model = _tf_model(config, params, dtype)
        fn = tf.function(lambda t: model(t, training=False)) if graph else model
        return fn(tf.constant(x.transpose(0, 2, 3, 1))).numpy()  # NCHW -> NHWC
    return run


# -- gradients against finite differences of numpy_ref ------------------------------------

def _directions(case: Case, n: int = 3) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng([case.seed, 99])
    return [{k: rng.standard_normal(v.shape) for k, v in params_of(case).items()} for _ in range(n)]


def _grad_fd(run_grads):
    """Backend ``d(sum w*logits)/dx`` (every element) and ``/dparams`` along random directions, vs FD."""
    def run(case: Case, dtype: str) -> list[Comparison]:
        config, params = config_of(case), params_of(case)
        x, w = case.inputs["x"], case.inputs["w"]

        def loss(p, xx):
            return float(np.sum(w * ref.vit(xx, p, config)))

        h = 1e-6
        fd_x = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = h
            fd_x[i] = (loss(params, x + e) - loss(params, x - e)) / (2 * h)
        dirs = _directions(case)
        fd_p = np.array([(loss({k: params[k] + h * v[k] for k in params}, x)
                          - loss({k: params[k] - h * v[k] for k in params}, x)) / (2 * h) for v in dirs])
        gx, gp = run_grads(config, params, x, w)
        dp = np.array([sum(float(np.sum(gp[k] * v[k])) for k in params) for v in dirs])
        fd_tol = spec.TOLERANCES.finite_difference
        return [Comparison("dx-fd", gx, fd_x, fd_tol), Comparison("dparams-fd", dp, fd_p, fd_tol)]
    return run


def _torch_grads(config, params, x, w, dtype="float64"):
    import torch

    from tenfold.spec.vit import checkpoint as ckpt

    model = _torch_model(config, params, dtype)
    t_dtype = getattr(torch, dtype)
    xt = torch.from_numpy(x).to(t_dtype).requires_grad_(True)
    loss = (model(xt) * torch.from_numpy(w).to(t_dtype)).sum()
    loss.backward()
    grads = {k: (v.grad if v.grad is not None else torch.zeros_like(v)).numpy()
             for k, v in model.named_parameters()}
    grads = {k: np.asarray(v, np.float64) for k, v in grads.items()}
    return xt.grad.double().numpy(), ckpt.from_timm(grads, config, resize=None, where="torch grads")


def _tf_grads(config, params, x, w, dtype="float64"):
    import tensorflow as tf

    model = _tf_model(config, params, dtype)
    xt = tf.constant(x.transpose(0, 2, 3, 1).astype(dtype))
    names = list(model._param_vars)
    variables = [model._param_vars[n] for n in names]
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(model(xt) * tf.constant(w.astype(dtype)))
    gx, *gp = tape.gradient(loss, [xt, *variables])
    return (gx.numpy().transpose(0, 3, 1, 2).astype(np.float64),
            {n: np.asarray(g, np.float64) for n, g in zip(names, gp, strict=True)})


def _grad_cross(case: Case, dtype: str) -> list[Comparison]:
    """TensorFlow's gradients against PyTorch's, input and every parameter, in the same dtype.

    Both backends sum over the batch and tokens, so each gradient is held to the dtype's absolute tolerance
    plus its relative tolerance of the gradient's largest entry (sized per case, never by an element count;
    the key bias, whose gradient is zero in exact arithmetic, meets the absolute part).
    """
    config, params = config_of(case), {k: round_to(v, dtype) for k, v in params_of(case).items()}
    x, w = round_to(case.inputs["x"], dtype), round_to(case.inputs["w"], dtype)
    tx, tp = _torch_grads(config, params, x, w, dtype)
    fx, fp = _tf_grads(config, params, x, w, dtype)
    tol = spec.TOLERANCES.gradient[dtype]
    def sized(g: np.ndarray) -> Tolerance:
        return Tolerance(tol.atol + tol.rtol * float(np.abs(g).max()), tol.rtol)

    comps = [Comparison("dx", fx, tx, sized(tx))]
    comps += [Comparison(f"d{k}", fp[k], tp[k], sized(tp[k])) for k in sorted(tp)]
    return comps


# -- loaders ---------------------------------------------------------------------------------

def _timm_layout(params: dict[str, np.ndarray], config: spec.ViTConfig) -> dict[str, np.ndarray]:
    """A timm ``vit_*`` state_dict built from canonical params, written independently of the library's mapping."""
    d = config.hidden_size
    sd = {"patch_embed.proj.weight": params["embedding/kernel"].transpose(3, 2, 0, 1),
          "patch_embed.proj.bias": params["embedding/bias"],
          "pos_embed": params["Transformer/posembed_input/pos_embedding"],
          "norm.weight": params["Transformer/encoder_norm/scale"], "norm.bias": params["Transformer/encoder_norm/bias"],
          "head.weight": params["head/kernel"].T, "head.bias": params["head/bias"]}
    if "cls" in params:
        sd["cls_token"] = params["cls"]
    if "pre_logits/kernel" in params:
        sd["pre_logits.fc.weight"], sd["pre_logits.fc.bias"] = params["pre_logits/kernel"].T, params["pre_logits/bias"]
    for i in range(config.num_layers):
        b, t = f"Transformer/encoderblock_{i}/", f"blocks.{i}."
        a = b + "MultiHeadDotProductAttention_1/"
        q, k, v = (params[a + n + "/kernel"].reshape(d, d) for n in ("query", "key", "value"))
        sd[t + "attn.qkv.weight"] = np.concatenate([q, k, v], axis=1).T  # rows: q outputs, then k, then v
        sd[t + "attn.qkv.bias"] = np.concatenate([params[a + n + "/bias"].ravel() for n in ("query", "key", "value")])
        sd[t + "attn.proj.weight"] = params[a + "out/kernel"].reshape(d, d).T
        sd[t + "attn.proj.bias"] = params[a + "out/bias"]
        sd[t + "norm1.weight"], sd[t + "norm1.bias"] = params[b + "LayerNorm_0/scale"], params[b + "LayerNorm_0/bias"]
        sd[t + "norm2.weight"], sd[t + "norm2.bias"] = params[b + "LayerNorm_2/scale"], params[b + "LayerNorm_2/bias"]
        sd[t + "mlp.fc1.weight"] = params[b + "MlpBlock_3/Dense_0/kernel"].T
        sd[t + "mlp.fc1.bias"] = params[b + "MlpBlock_3/Dense_0/bias"]
        sd[t + "mlp.fc2.weight"] = params[b + "MlpBlock_3/Dense_1/kernel"].T
        sd[t + "mlp.fc2.bias"] = params[b + "MlpBlock_3/Dense_1/bias"]
    return sd


def _loaded(backend: str, source: str):
    def run(case: Case, dtype: str) -> list[Comparison]:
        config, params = config_of(case), params_of(case, dtype)
        x = round_to(case.inputs["x"], dtype).astype(dtype)
        with tempfile.TemporaryDirectory() as tmp:
            if source == "npz":
                path = Path(tmp) / "official.npz"
                np.savez(path, **{k: v.astype(dtype) for k, v in params.items()})
            else:
                sd = {k: v.astype(dtype) for k, v in _timm_layout(params, config).items()}
            if backend == "torch":
                import torch

                from tenfold.torch_backend import vit as tb

                model = tb.ViT(config).to(getattr(torch, dtype)).eval()
                if source == "npz":
                    tb.load_npz(model, path)
                else:
                    tb.load_timm_state_dict(model, {k: torch.from_numpy(v) for k, v in sd.items()})
                with torch.no_grad():
                    y = model(torch.from_numpy(x)).double().numpy()
            else:
                from tenfold.tf_backend import vit as tfb

                model = tfb.ViT(config, dtype=dtype)
                if source == "npz":
                    tfb.load_npz(model, path)
                else:
                    tfb.load_timm_state_dict(model, sd)
                y = np.asarray(model(x.transpose(0, 2, 3, 1)), np.float64)
        return [Comparison(f"logits after load_{source}", y, _expected(case, dtype), spec.TOLERANCES.forward[dtype])]
    return run


# -- ONNX -------------------------------------------------------------------------------

def _onnx(backend: str):
    """Export through :mod:`tenfold.export.vit` (which itself checks at 2 batch sizes), run in onnxruntime."""
    def run(case: Case, dtype: str) -> list[Comparison]:
        from tenfold.export import vit as ex
        from tenfold.export.runtime import runner

        config, params = config_of(case), {k: v.astype(np.float32) for k, v in params_of(case, dtype).items()}
        x = round_to(case.inputs["x"], dtype).astype(np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            path = ex.export_vit(config, params, Path(tmp) / "vit.onnx", backend=backend, verbose=False).path
            y = runner(path, provider="cpu")(x)[0]
        return [Comparison(f"onnx({backend})", y.astype(np.float64), _expected(case, dtype),
                           spec.TOLERANCES.onnx["float32"])]
    return run


F32_64 = ("float32", "float64")
SUITES: tuple[Suite, ...] = (
    Suite("torch", "eager", F32_64, FORWARD, _forward(_torch_eager)),
    Suite("torch", "autocast", ("bfloat16",), ("token-tanh", "gap-exact", "batch1"), _forward(_torch_eager)),
    Suite("torch", "grad-fd", ("float64",), GRAD, _grad_fd(_torch_grads)),
    Suite("torch", "load-npz", F32_64, LOAD, _loaded("torch", "npz")),
    Suite("torch", "load-timm", F32_64, LOAD, _loaded("torch", "timm")),
    Suite("tf", "eager", F32_64, FORWARD, _forward(_tf_forward(graph=False))),
    Suite("tf", "graph", F32_64, FORWARD, _forward(_tf_forward(graph=True))),
    Suite("tf", "grad-fd", ("float64",), GRAD, _grad_fd(_tf_grads)),
    Suite("tf", "grad-vs-torch", F32_64, GRAD, _grad_cross, requires=("torch",)),
    Suite("tf", "load-npz", F32_64, LOAD, _loaded("tf", "npz")),
    Suite("tf", "load-timm", F32_64, LOAD, _loaded("tf", "timm")),
    Suite("onnx", "from-torch", ("float32",), ONNX, _onnx("torch"), requires=("torch",)),
    Suite("onnx", "from-tf", ("float32",), ONNX, _onnx("tf"), requires=("tf",)),
)

#: numpy_ref against itself (its own rounding in other dtypes, or another formulation such as folded
#: BatchNorm): properties of the reference, run by tests/test_reference_properties.py, never a conformance row.
REFERENCE_SELF_CHECKS: tuple[Suite, ...] = (
    Suite("numpy", "eager", ("float32",), FORWARD, _forward(_numpy)),
)

__all__ = ["CASES", "CONFIGS", "METHOD", "SUITES", "WEIGHTS_MODES", "Tolerance", "make_case", "make_weights_case"]
