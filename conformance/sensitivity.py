"""Sensitivity checks: flipping a documented convention in the reference must make the suite fail.

A conformance suite that still passes when the reference uses another
LayerNorm epsilon, the other GELU form, Keras' BatchNorm momentum or RAdam's
other threshold proves nothing about that convention. For every convention a
spec documents, :data:`CONVENTIONS` holds a *flip*: a context manager that
changes numpy_ref alone (never a backend) to the plausible wrong choice, and
the checks that must notice. :func:`run_flipped` runs those checks under the
flip; the convention is *guarded* when at least one of them fails, and the
report gives the worst error over tolerance that the flip caused.

Run from the command line with ``tenfold conformance --sensitivity`` or from
pytest (tests/test_conformance_sensitivity.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from . import runner
from .case import Result


@contextlib.contextmanager
def _wrapped(module: str, name: str, make: Callable[[Callable], Callable]) -> Iterator[None]:
    """Replace ``module.name`` by ``make(original)`` for the duration of the block."""
    mod = importlib.import_module(module)
    original = getattr(mod, name)
    setattr(mod, name, make(original))
    try:
        yield
    finally:
        setattr(mod, name, original)


@dataclass(frozen=True)
class Convention:
    """One documented convention, the wrong choice a port could make, and the checks that must notice.

    Attributes:
        method: Method id.
        name: Short name (``"layer_norm_eps"``).
        right: The convention as the spec states it.
        wrong: The flipped choice the reference is run with.
        flip: Zero-argument callable returning the context manager that flips numpy_ref.
        backends, modes, dtypes, cases: Filters of :func:`tenfold.conformance.runner.plan`
            (None: all) selecting the checks to rerun.
    """

    method: str
    name: str
    right: str
    wrong: str
    flip: Callable[[], contextlib.AbstractContextManager]
    backends: tuple[str, ...] | None = ("torch",)
    modes: tuple[str, ...] | None = None
    dtypes: tuple[str, ...] | None = ("float32", "float64")
    cases: tuple[str, ...] | None = None

    @property
    def id(self) -> str:
        return f"{self.method}.{self.name}"


def _vit_eps() -> contextlib.AbstractContextManager:
    return _wrapped("tenfold.numpy_ref.vit", "layer_norm",
                    lambda f: lambda x, scale, bias, eps: f(x, scale, bias, 1e-5 if eps != 1e-5 else 1e-6))


def _vit_gelu() -> contextlib.AbstractContextManager:
    return _wrapped("tenfold.numpy_ref.vit", "gelu", lambda f: lambda x, form="tanh": f(
        x, "exact" if form == "tanh" else "tanh"))


def _bn(change: Callable) -> Callable[[], contextlib.AbstractContextManager]:
    def flip() -> contextlib.AbstractContextManager:
        def make(f):
            def batch_norm(*args, config=None, **kwargs):
                from tenfold.spec.batchnorm import BatchNormConfig

                return f(*args, config=change(config or BatchNormConfig()), **kwargs)
            return batch_norm
        return _wrapped("tenfold.numpy_ref.layers.norm", "batch_norm", make)
    return flip


def _radam(change: Callable) -> Callable[[], contextlib.AbstractContextManager]:
    def flip() -> contextlib.AbstractContextManager:
        return _wrapped("tenfold.numpy_ref.radam", "step",
                        lambda f: lambda params, grads, state, config: f(params, grads, state, change(config)))
    return flip


def _cutmix_inclusive_box() -> contextlib.AbstractContextManager:
    def make(f):
        def apply(images, labels, plan, num_classes):
            boxes = tuple((y1, min(y2 + 1, plan.height), x1, min(x2 + 1, plan.width)) if y2 > y1 else (y1, y2, x1, x2)
                          for y1, y2, x1, x2 in plan.boxes)
            return f(images, labels, dataclasses.replace(plan, boxes=boxes), num_classes)
        return apply
    return _wrapped("tenfold.numpy_ref.cutmix", "apply", make)


def _cutmix_uncorrected_lam() -> contextlib.AbstractContextManager:
    def make(f):
        def apply(images, labels, plan, num_classes):
            return f(images, labels, dataclasses.replace(plan, lam=plan.lam_sampled), num_classes)
        return apply
    return _wrapped("tenfold.numpy_ref.cutmix", "apply", make)


def _mish_nan_at_minus_inf() -> contextlib.AbstractContextManager:
    def make(f):
        def mish(x):  # the official x * tanh(softplus(x)) gives -inf * 0 = NaN at -inf
            y = f(x)
            return np.where(np.asarray(x) == -np.inf, np.nan, y)
        return mish
    return _wrapped("tenfold.numpy_ref.mish", "mish", make)


def _augmix_corner_sampling() -> contextlib.AbstractContextManager:
    def make(f):
        def affine(image, coeffs):  # sample at pixel corners (x, y) instead of Pillow's centres (x + .5, y + .5)
            a, b, c, d, e, g = coeffs
            return f(image, (a, b, c - 0.5 * (a + b), d, e, g - 0.5 * (d + e)))
        return affine
    return _wrapped("tenfold.numpy_ref.augmix.ops", "affine", make)


def _augmix_paper_m() -> contextlib.AbstractContextManager:
    def make(f):
        def apply(plan, images, **kwargs):  # m weights the image, as the paper's Algorithm 1
            swapped = tuple(1.0 - v for v in plan.mix_weight)
            return f(dataclasses.replace(plan, mix_weight=swapped), images, **kwargs)
        return apply
    return _wrapped("tenfold.numpy_ref.augmix", "apply", make)


def _augmix_jsd_sum() -> contextlib.AbstractContextManager:
    def make(f):
        def jsd(*logits, weight=12.0, **kwargs):  # 12 * the sum of the KL terms, not their mean
            return f(*logits, weight=3.0 * weight, **kwargs)
        return jsd
    return _stacked(
        _wrapped("tenfold.numpy_ref.augmix", "jsd_consistency", make),
        _wrapped("tenfold.numpy_ref.augmix", "jsd_consistency_grad", make))


@contextlib.contextmanager
def _stacked(*managers: contextlib.AbstractContextManager) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for m in managers:
            stack.enter_context(m)
        yield


def _toonify_wrap(name: str, make: Callable[[Callable], Callable]) -> Callable[[], contextlib.AbstractContextManager]:
    return lambda: _wrapped("tenfold.numpy_ref.toonify.generator", name, make)


def _toonify_fir(change: Callable) -> Callable[[], contextlib.AbstractContextManager]:
    """Flip the FIR resampling numpy_ref's generator uses (``change(kernel, up, pad) -> (kernel, pad)``)."""
    def make(f):
        def upfirdn2d(x, kernel, up=1, down=1, pad=(0, 0)):
            kernel, pad = change(kernel, up, pad)
            return f(x, kernel, up, down, pad)
        return upfirdn2d
    return _toonify_wrap("upfirdn2d", make)


def _toonify_blend(change: Callable) -> Callable[[], contextlib.AbstractContextManager]:
    """Flip the switch rule of the one NumPy blend (which the backends' ``blend_models`` run)."""
    def make(f):
        def blend(low, high, resolution, *, level=0, width=None, config=None):
            from tenfold.spec.toonify import BlendConfig

            return f(low, high, resolution, level=level, width=width, config=change(config or BlendConfig()))
        return blend
    return lambda: _wrapped("tenfold.numpy_ref.toonify.blend", "blend", make)


def _simclr(name: str, change: Callable) -> Callable[[], contextlib.AbstractContextManager]:
    """Wrap ``tenfold.numpy_ref.simclr.<name>`` so that its config or plan argument goes through ``change``."""
    def flip() -> contextlib.AbstractContextManager:
        if name == "apply":
            return _wrapped("tenfold.numpy_ref.simclr", name, lambda f: lambda plan, images: f(change(plan), images))
        if name == "step":
            return _wrapped("tenfold.numpy_ref.simclr", name,
                            lambda f: lambda params, grads, state, config: f(params, grads, state, change(config)))
        return _wrapped("tenfold.numpy_ref.simclr", name, lambda f: lambda *a, config=None, **kw: f(
            *a, config=change(config), **kw))
    return flip


@contextlib.contextmanager
def _simclr_both(change: Callable) -> Iterator[None]:
    with _simclr("nt_xent", change)(), _simclr("nt_xent_grad", change)():
        yield


def _simclr_unmasked() -> contextlib.AbstractContextManager:
    """The self-similarity kept in the denominator (the mask forgotten): per-anchor losses recomputed."""
    def make(f):
        def nt_xent(z1, z2, *a, config=None, **kw):
            h = np.concatenate([z1, z2]).astype(np.float64)
            h = h / np.sqrt(np.maximum((h * h).sum(1, keepdims=True), config.eps)) if config.normalize else h
            s = h @ h.T / config.temperature
            pos = (np.arange(len(h)) + len(h) // 2) % len(h)
            m = s.max(1, keepdims=True)
            per = (np.log(np.exp(s - m).sum(1)) + m[:, 0]) - s[np.arange(len(h)), pos]
            if config.reduction == "none":
                return per
            from tenfold.spec.simclr.loss import reduction_factor

            return np.asarray(per.sum() * reduction_factor(config.reduction, len(h)))
        return nt_xent
    return _wrapped("tenfold.numpy_ref.simclr", "nt_xent", make)


def _other(values: tuple, v):
    return values[1] if v == values[0] else values[0]


def _crgan_penalty(change: Callable) -> Callable[[], contextlib.AbstractContextManager]:
    def flip() -> contextlib.AbstractContextManager:
        return _wrapped("tenfold.numpy_ref.crgan.step", "penalty_var", change)
    return flip


def _crgan_negate_image_penalty(f: Callable) -> Callable:
    def penalty_var(a, b, reduction):  # the G term (images) with the opposite sign; D terms (logits) unchanged
        from tenfold.numpy_ref import autodiff as ad

        out = f(a, b, reduction)
        return ad.scale(out, -1.0) if len(a.shape) == 4 else out
    return penalty_var


def _crgan_sn_order() -> contextlib.AbstractContextManager:
    return _wrapped("tenfold.numpy_ref.crgan.nets", "power_iteration", lambda f: lambda w, u, v, config=None: f(
        w, u, v, config.replace(order="uv" if config.order == "vu" else "vu")))


def _crgan_sigma_detached() -> contextlib.AbstractContextManager:
    def make(f):
        def spectral_normalize(weight, u, v):  # Keras' SpectralNormalization: no gradient through sigma
            from tenfold.numpy_ref import autodiff as ad

            out, sigma = f(weight, u, v)
            return ad.Var(out.value, ((weight, lambda g: g / sigma),)), sigma
        return spectral_normalize
    return _wrapped("tenfold.numpy_ref.autodiff", "spectral_normalize", make)


def _crgan_transform(wrong: Callable) -> Callable[[], contextlib.AbstractContextManager]:
    def flip() -> contextlib.AbstractContextManager:
        return _wrapped("tenfold.numpy_ref.crgan", "apply", lambda f: lambda plan, x: wrong(f, plan, np.asarray(x)))
    return flip


def _crgan_symmetric(f, plan, x):
    """Reflection that repeats the edge (NumPy's "symmetric"), the plausible wrong reading of "reflect"."""
    py, px = plan.max_abs_shift()
    out = np.empty_like(x)
    for i in range(plan.batch_size):
        img = x[i, :, :, ::-1] if plan.flip[i] else x[i]
        p = np.pad(img, ((0, 0), (py, py), (px, px)), mode="symmetric")
        dy, dx = plan.shift[i]
        out[i] = p[:, py + dy:py + dy + plan.height, px + dx:px + dx + plan.width]
    return out


def _crgan_shift_sign(f, plan, x):
    return f(dataclasses.replace(plan, shift=tuple((-dy, -dx) for dy, dx in plan.shift)), x)


def _crgan_shift_then_flip(f, plan, x):
    y = f(dataclasses.replace(plan, flip=(False,) * plan.batch_size), x)
    return np.where(np.asarray(plan.flip)[:, None, None, None], y[..., ::-1], y)


#: SimCLR's conventions (spec.simclr): loss, head BatchNorm, LARS exclusions, augmentation arithmetic.
_SIMCLR_CONVENTIONS: tuple[Convention, ...] = (
    Convention("simclr", "reduction", "official: loss_a + loss_b, twice Eq. (1)", "the paper's mean (lightly)",
               lambda: _simclr_both(lambda c: c.replace(reduction=_other(("official", "paper"), c.reduction))
                                    if c.reduction in ("official", "paper") else c),
               modes=("loss",), cases=("loss-official", "loss-paper")),
    Convention("simclr", "self_mask", "the self-similarity masked out of the denominator", "kept (no mask)",
               _simclr_unmasked, modes=("loss",), cases=("loss-official",)),
    Convention("simclr", "head_bn_momentum", "head BatchNorm momentum 0.1 = 1 - batch_norm_decay", "0.9",
               _bn(lambda c: c.replace(momentum=1.0 - c.momentum)), modes=("head",)),
    Convention("simclr", "lars_exclusions", "no weight decay or adaptation for batch_normalization / bias",
               "every parameter decayed and adapted",
               _simclr("step", lambda c: c.replace(exclude_from_weight_decay=(), exclude_from_layer_adaptation=None,
                                                   exclude_vectors=False)),
               modes=("lars",), cases=("lars-official",)),
    Convention("simclr", "brightness", "brightness as in the preset (v2 multiplicative, v1 additive)",
               "the other version", _simclr("apply", lambda p: dataclasses.replace(
                   p, brightness_mode=_other(("multiplicative", "additive"), p.brightness_mode))),
               modes=("augment",), cases=("aug-official", "aug-v1")),
    Convention("simclr", "resize_kernel", "TF2 bicubic: a = -0.5, out-of-image taps renormalised",
               "PyTorch's a = -0.75 with clamped taps", _simclr("apply", lambda p: dataclasses.replace(
                   p, cubic_a=-0.75, resize_edge="clamp")), modes=("augment",), cases=("aug-official",)),
    Convention("simclr", "contrast_mean", "contrast about each channel's mean (tf.image.adjust_contrast)",
               "about the gray mean (torchvision)", _simclr("apply", lambda p: dataclasses.replace(
                   p, contrast_mean=_other(("channel", "gray"), p.contrast_mean))),
               modes=("augment",), cases=("aug-official", "aug-edge-colours")),
    Convention("simclr", "blur_padding", "zero padding ('SAME' depthwise conv)", "reflect padding (torchvision)",
               _simclr("apply", lambda p: dataclasses.replace(p, blur_padding=_other(("zero", "reflect"),
                                                                                      p.blur_padding))),
               modes=("augment",), cases=("aug-official", "aug-batch1-odd")),
)

def _san(name: str, make: Callable[[Callable], Callable]) -> Callable[[], contextlib.AbstractContextManager]:
    return lambda: _wrapped("tenfold.numpy_ref.san.ops", name, make)


def _san_padding(f):  # reflection <-> zero padding of every footprint
    return lambda x, kernel_size, padding: f(x, kernel_size, "zero" if padding == "reflect" else "reflect")


def _san_contiguous_sharing(f):  # channel c uses weight c // (C / C_w) instead of c mod C_w
    def aggregation(x, w, kernel_size, padding="reflect"):
        n, c, h, wd = x.shape
        cw = w.shape[1]
        g = c // cw
        xt = x.reshape(n, cw, g, h, wd).transpose(0, 2, 1, 3, 4).reshape(n, c, h, wd)
        return f(xt, w, kernel_size, padding).reshape(n, g, cw, h, wd).transpose(0, 2, 1, 3, 4).reshape(n, c, h, wd)
    return aggregation


def _san_unfold_order(f):  # patchwise concatenation in (tap, channel) order, as tf.image.extract_patches gives it
    def relation(x1, x2, config, *args):
        d = f(x1, x2, config, *args)
        if config.sa_type != "patchwise" or config.rel != "concatenation":
            return d
        n, r = x1.shape[:2]
        xj = d[:, r:].reshape(n, r, config.taps, *d.shape[2:]).swapaxes(1, 2).reshape(n, -1, *d.shape[2:])
        return np.concatenate([d[:, :r], xj], axis=1)
    return relation


#: Every documented numeric convention of the landed methods, with its flip.
CONVENTIONS: tuple[Convention, ...] = (
    Convention("vit", "layer_norm_eps", "LayerNorm eps 1e-6 (Flax)", "1e-5 (PyTorch's default)", _vit_eps,
               modes=("eager",)),
    Convention("vit", "gelu_form", "GELU tanh form (Flax default; exact where configured)", "the other form",
               _vit_gelu, modes=("eager",)),
    Convention("frelu", "bn_eps", "BatchNorm eps as configured (1e-5 official)", "Keras' 1e-3",
               _bn(lambda c: c.replace(eps=1e-3 if c.eps != 1e-3 else 1e-5)), modes=("eval", "train")),
    Convention("frelu", "bn_momentum", "momentum m weights the new batch (PyTorch)", "Keras' 1 - m",
               _bn(lambda c: c.replace(momentum=1.0 - c.momentum)), modes=("train",)),
    Convention("radam", "threshold", "rectify when rho_t >= 5 (official)", "rho_t >= 4 (the paper's)",
               _radam(lambda c: c.replace(threshold=4.0 if c.threshold != 4.0 else 5.0)), modes=("forloop",)),
    Convention("radam", "threshold_inclusive", "rho_t >= threshold (official)", "rho_t > threshold",
               _radam(lambda c: c.replace(threshold_inclusive=not c.threshold_inclusive)), modes=("forloop",)),
    Convention("cutmix", "box_end", "box rows y1:y2 and columns x1:x2 half-open (official bbx2 exclusive)",
               "the end row and column included", _cutmix_inclusive_box, modes=("eager",),
               dtypes=("uint8", "float32")),
    Convention("cutmix", "correct_lam", "lambda recomputed from the clipped box (official)",
               "lambda as sampled", _cutmix_uncorrected_lam, modes=("eager",), dtypes=("uint8", "float32")),
    Convention("mish", "limit_at_minus_inf", "mish(-inf) = 0, the limit", "NaN (the official formula)",
               _mish_nan_at_minus_inf, modes=("eager",)),
    Convention("augmix", "pixel_centres", "Pillow's inverse map samples at pixel centres (x + .5, y + .5)",
               "at pixel corners (x, y)", _augmix_corner_sampling, modes=("ops",), dtypes=("uint8",),
               cases=("op-rotate", "op-shear_x", "op-shear_y")),
    Convention("augmix", "m_weights", "m weights the chain mixture (official cifar.py)", "m weights the image "
               "(the paper's Algorithm 1)", _augmix_paper_m, modes=("eager",), dtypes=("float32",),
               cases=("official", "torchvision")),
    Convention("augmix", "jsd_mean", "12 * the mean of the three KL terms (official)", "12 * their sum",
               _augmix_jsd_sum, modes=("jsd",), dtypes=("float64",)),
    *_SIMCLR_CONVENTIONS,
    Convention("toonify", "act_gain", "fused leaky ReLU times sqrt(2)", "gain 1 (a plain leaky ReLU)",
               _toonify_wrap("fused_leaky_relu", lambda f: lambda x, bias, slope=0.2, gain=1.0: f(x, bias, slope,
                                                                                                   1.0)),
               modes=("eager",)),
    Convention("toonify", "mapping_lr_mul", "mapping weights x 0.01 / sqrt(D), biases x 0.01 (lr_mul)",
               "lr_mul 1 (a plain equalized dense layer)",
               _toonify_wrap("mapping", lambda f: lambda z, params, config: f(z, params, config.replace(
                   lr_mlp=1.0 if config.lr_mlp != 1.0 else 0.01))), modes=("eager",)),
    Convention("toonify", "fir_is_convolution", "upfirdn convolves (taps flipped)", "a correlation (taps as given)",
               _toonify_fir(lambda k, up, pad: (k[::-1, ::-1], pad)), modes=("pieces",)),
    Convention("toonify", "skip_pads", "the skip's upfirdn(up 2) pads (2, 1) before / after", "(1, 2)",
               _toonify_fir(lambda k, up, pad: (k, pad[::-1] if up == 2 else pad)), modes=("pieces", "eager")),
    Convention("toonify", "hard_threshold", "hard switch y = 1 if x > 1: two positions stay on the low-res model",
               "x > 0 (as some community ports)", _toonify_blend(lambda c: c.replace(
                   threshold=0.0 if c.threshold != 0.0 else 1.0)), modes=("blend",)),
    Convention("toonify", "logistic_centre", "the official logistic is centred at x = 0", "centred at 1.5",
               _toonify_blend(lambda c: c.replace(centre=1.5 if c.centre != 1.5 else 0.0)), modes=("blend",)),
    Convention("crgan", "penalty_reduction", "pen = squared L2 per sample, batch mean (the papers)",
               "mean over every element (StudioGAN's MSELoss)",
               _crgan_penalty(lambda f: lambda a, b, r: f(a, b, "mean" if r == "sum" else "sum")), modes=("step",),
               dtypes=("float64",), cases=("step-icr",)),
    Convention("crgan", "zcr_gen_sign", "L_G -= lambda_gen pen(G(z), G(z + dz)) (G rewarded for diversity)",
               "+ lambda_gen pen (a consistency penalty on G)",
               _crgan_penalty(_crgan_negate_image_penalty), modes=("step",), dtypes=("float64",),
               cases=("step-icr",)),
    Convention("crgan", "sn_order", "power iteration v then u (Miyato, torch.nn.utils.spectral_norm)",
               "u then v (torch.nn.utils.parametrizations)", _crgan_sn_order, modes=("step",),
               dtypes=("float64",), cases=("step-icr", "step-options")),
    Convention("crgan", "sn_sigma_gradient", "sigma = u.Wv differentiated through W", "no gradient through sigma "
               "(Keras SpectralNormalization)", _crgan_sigma_detached, modes=("sn",)),
    Convention("crgan", "reflect_padding", "reflect without repeating the edge (ReflectionPad2d)",
               "edge repeated (NumPy 'symmetric')", _crgan_transform(_crgan_symmetric), modes=("transform",)),
    Convention("crgan", "shift_direction", "output (i, j) reads (i + dy, j + dx) (StudioGAN's gather)",
               "the opposite sign", _crgan_transform(_crgan_shift_sign), modes=("transform",)),
    Convention("crgan", "flip_then_shift", "flip first, then shift (StudioGAN's apply_diffaug4cr)",
               "shift first, then flip", _crgan_transform(_crgan_shift_then_flip), modes=("transform",)),
    Convention("san", "padding", "footprints padded by reflection (official pad_mode=1) or zeros as configured",
               "the other padding", _san("unfold", _san_padding), modes=("eval",), dtypes=("float64",),
               cases=("op-pair-subtraction-reflect", "op-patch-concatenation-zero")),
    Convention("san", "interleaved_sharing", "channel c uses weight c mod C_w (official aggregation)",
               "contiguous blocks: weight c // (C / C_w)", _san("aggregation", _san_contiguous_sharing),
               modes=("eval",), dtypes=("float64",), cases=("op-pair-subtraction-reflect",)),
    Convention("san", "softmax_axis", "pairwise softmax over the k^2 footprint (official dim=-2)",
               "softmax over the weight channels", _san("softmax", lambda f: lambda x, axis=-1: f(x, axis=1)),
               modes=("eval",), dtypes=("float64",), cases=("op-pair-subtraction-reflect",)),
    Convention("san", "position_order", "position map channel 0 is x (linspace over W), then y (official)",
               "y first", _san("position_map", lambda f: lambda h, w, dtype=np.float64: f(h, w, dtype)[::-1]),
               modes=("eval",), dtypes=("float64",), cases=("op-pair-subtraction-reflect",)),
    Convention("san", "unfold_order", "patchwise concatenation channel c k^2 + t (official Unfold)",
               "t C + c (tf.image.extract_patches)", _san("relation", _san_unfold_order), modes=("eval",),
               dtypes=("float64",), cases=("op-patch-concatenation-reflect",)),
    Convention("san", "bn_eps", "BatchNorm eps as configured (1e-5 official)", "Keras' 1e-3",
               _bn(lambda c: c.replace(eps=1e-3 if c.eps != 1e-3 else 1e-5)), modes=("eval",), dtypes=("float64",),
               cases=("op-pair-subtraction-reflect", "net-patch")),
    Convention("san", "bn_momentum", "momentum m weights the new batch (PyTorch)", "Keras' 1 - m",
               _bn(lambda c: c.replace(momentum=1.0 - c.momentum)), modes=("train",), dtypes=("float64",),
               cases=("op-pair-subtraction-reflect",)),
)


@dataclass(frozen=True)
class Sensitivity:
    """The outcome of one flipped convention."""

    convention: Convention
    checks: int
    failed: int
    worst_ratio: float  # worst error over tolerance among the checks (inf: a check raised)
    example: str  # the first failing check's repro

    @property
    def guarded(self) -> bool:
        return self.failed > 0


def _ratio(r: Result) -> float:
    """How far a failed check is past its tolerance: an element fails only when both its absolute error
    exceeds atol and its relative error exceeds rtol, so the smaller of the two ratios is a lower bound."""
    if not (np.isfinite(r.max_abs_err) and np.isfinite(r.atol)):
        return float("inf")
    ratios = [e / t if t > 0 else float("inf") for e, t in ((r.max_abs_err, r.atol), (r.max_rel_err, r.rtol))]
    return min(ratios)


def run_flipped(convention: Convention, seed: int = 0) -> Sensitivity:
    """Run the convention's checks with the reference flipped; a guarded convention makes some fail."""
    checks = runner.plan([convention.method], convention.backends, convention.dtypes, convention.modes,
                         convention.cases, seed)
    checks = [c for c in checks if c.mode != runner.API_MODE]
    with convention.flip():
        results = runner.run(checks)
    failed = [r for r in results if not r.passed]
    worst = max((_ratio(r) for r in failed), default=0.0)
    return Sensitivity(convention, len(results), len(failed), worst, failed[0].repro if failed else "")


def format_table(rows: list[Sensitivity]) -> str:
    """One line per convention: guarded or not, how many checks failed, the worst error over tolerance."""
    lines = [f"{'convention':<28} {'flipped to':<46} {'failed':>9}  {'worst err/tol':>13}  verdict"]
    for s in rows:
        c = s.convention
        lines.append(f"{c.id:<28} {c.wrong[:46]:<46} {s.failed:>4}/{s.checks:<4}  {s.worst_ratio:>13.3g}  "
                     f"{'guarded' if s.guarded else 'NOT GUARDED'}")
    return "\n".join(lines)


__all__ = ["CONVENTIONS", "Convention", "Sensitivity", "format_table", "run_flipped"]
