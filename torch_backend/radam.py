"""RAdam for PyTorch: a ``torch.optim.Optimizer`` with every convention of :mod:`tenfold.spec.radam`.

Paper: Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond",
ICLR 2020, Algorithm 2. Official code: LiyuanLucasLiu/RAdam (``radam/radam.py``).

Three implementations of one step, chosen per optimizer with ``impl``:

* ``"fused"`` (default where the op exists): the rectified phase *is* an Adam
  step with learning rate ``lr * r_t`` and epsilon ``eps_eff / sqrt(bc2)``
  (see the spec's ``step_factors``), so it runs as one pass of PyTorch's fused
  Adam/AdamW kernel (``torch._fused_adam_`` / ``torch._fused_adamw_``), which
  reads parameters, gradients and both moments once and writes three back:
  the memory-bound minimum. Tensors under :data:`FUSED_MIN_NUMEL` elements
  take the multi-tensor path instead, and so do devices without the kernels
  and tensors whose gradient or moments are laid out differently (strides).
  Decoupled weight decay passes ``wd / r_t`` to the AdamW kernel, so that
  ``(lr r_t)(wd / r_t) = lr wd``. The first steps (skip or momentum phase)
  take the multi-tensor path.
* ``"foreach"``: multi-tensor ``torch._foreach_*`` ops, in place, with the
  per-step scalars fused on the host; on the CPU over cache-sized segments
  (:data:`CPU_SEGMENT_NUMEL`), so that the passes of one segment hit the cache.
* ``"forloop"``: the same ops one tensor at a time (readable; any device).

Differences from the official implementation: none in the math of the
``official()`` preset. The official code computes in float32 copies of
float16 parameters and caches ``(step, N_sma, step_size)`` in a 10-slot
buffer; here the moments have the parameter's dtype and the scalars are
computed in float64 each step (exactly; the buffer was only a cache). The
results of the three implementations differ by rounding only. As in
``torch.optim.RAdam``, float16 moments cannot hold ``eps = 1e-8`` (it rounds
to 0), so a float16 parameter whose gradient stays exactly zero gets NaN on
the multi-tensor path: keep float32 master weights for mixed precision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from tenfold.spec import radam as spec
from tenfold.spec.config import require
from tenfold.spec.errors import CheckpointError, ConfigError, TenfoldError, expected

from ._tensors import dtype_name

IMPLS: tuple[str, ...] = ("fused", "foreach", "forloop")

#: Default of :attr:`RAdam.fused_min_numel` (PyTorch's own grain size for parallel CPU loops).
FUSED_MIN_NUMEL = 32768

_CONFIG_KEYS = ("lr", "betas", "eps", "weight_decay", "weight_decay_mode", "threshold", "threshold_inclusive",
                "early", "eps_mode", "nonfinite")


def _fused_devices() -> tuple[str, ...]:
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:  # older PyTorch: the two devices that have had the kernels longest
        return ("cpu", "cuda")
    return tuple(_get_fused_kernels_supported_devices())


_FUSED_DEVICES = _fused_devices()


def fused_available() -> bool:
    """Whether this PyTorch has the fused Adam and AdamW kernels."""
    return hasattr(torch, "_fused_adam_") and hasattr(torch, "_fused_adamw_")


class RAdam(torch.optim.Optimizer):
    """Rectified Adam (Liu et al., ICLR 2020; official code LiyuanLucasLiu/RAdam).

    Args:
        params: Parameters or parameter groups (dicts that may override any
            field of :class:`~tenfold.spec.radam.RAdamConfig`, e.g. ``lr``).
        lr, betas, eps, weight_decay: Override the same fields of ``config``.
        config: The conventions and defaults (default: ``RAdamConfig.official()``), or a
            preset name; ``RAdamConfig.torch()`` (``"torch"``) reproduces ``torch.optim.RAdam``.
        nonfinite: ``"propagate"`` (default), ``"skip"`` or ``"raise"``: what a NaN or inf
            gradient does to a parameter group's step (see :mod:`tenfold.spec.radam`).
        impl: ``"fused"``, ``"foreach"`` or ``"forloop"``; default ``"fused"``
            where the kernels exist, else ``"foreach"``.

    Raises:
        ConfigError: On a hyperparameter out of range or an unknown ``impl``.
        DTypeError: If a parameter is not a real floating-point tensor.

    State per parameter: ``step`` (int), ``exp_avg`` and ``exp_avg_sq``
    (tensors like the parameter); ``state_dict()`` / ``load_state_dict()``
    resume a run exactly, and ``load_state_dict`` refuses (CheckpointError,
    before changing anything) a state whose groups, parameter counts or moment
    shapes do not fit this optimizer's parameters.
    """

    def __init__(self, params: Iterable, lr: float | None = None, betas: tuple[float, float] | None = None,
                 eps: float | None = None, weight_decay: float | None = None, *,
                 config: spec.RAdamConfig | str | None = None, impl: str | None = None,
                 nonfinite: str | None = None) -> None:
        config = spec.RAdamConfig.official() if config is None else spec.RAdamConfig.coerce(config, "RAdam")
        overrides = {k: v for k, v in (("lr", lr), ("betas", betas), ("eps", eps), ("weight_decay", weight_decay),
                                       ("nonfinite", nonfinite)) if v is not None}
        if "betas" in overrides:
            overrides["betas"] = tuple(overrides["betas"])
        config = config.replace(**overrides)
        impl = impl or ("fused" if fused_available() else "foreach")
        require(impl in IMPLS, "RAdam.impl", "one of " + ", ".join(IMPLS), repr(impl))
        require(impl != "fused" or fused_available(), "RAdam.impl", "an impl this PyTorch supports",
                "'fused' (no torch._fused_adam_)")
        self.impl = impl
        #: Tensors below this size take the foreach path even with ``impl="fused"``: the
        #: CPU kernel splits every tensor over all threads, which costs more than it
        #: saves on small ones (a few MB of bytes in all).
        self.fused_min_numel = FUSED_MIN_NUMEL
        defaults = {k: getattr(config, k) for k in _CONFIG_KEYS}
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group after validating its hyperparameters and dtypes (a bad group is not kept).

        Raises:
            ConfigError: If a hyperparameter is out of range.
            DTypeError: If a parameter is not a real floating-point tensor.
        """
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        try:
            group_config(group)
            for p in group["params"]:
                spec.check_dtype(dtype_name(p.dtype), "RAdam")  # complex and integer dtypes are refused
        except Exception:
            self.param_groups.pop()
            raise

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state saved by :meth:`state_dict`, after checking it fits (see the class doc).

        Raises:
            CheckpointError: Listing the mismatches (group count, parameters per
                group, moment shapes); the optimizer is left as it was.
        """
        where = "RAdam.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise CheckpointError(expected(where, "an optimizer state_dict (state, param_groups)",
                                           type(state_dict).__name__))
        saved = state_dict["param_groups"]
        counts = [len(g["params"]) for g in self.param_groups]
        saved_counts = [len(g.get("params", ())) for g in saved]
        if counts != saved_counts:
            raise CheckpointError(expected(where, f"param groups of {counts} parameters (this optimizer's)",
                                           f"groups of {saved_counts}"))
        bad = []
        for gi, (group, sgroup) in enumerate(zip(self.param_groups, saved, strict=True)):
            for pi, (p, key) in enumerate(zip(group["params"], sgroup["params"], strict=True)):
                st = state_dict["state"].get(key, {})
                for kind in ("exp_avg", "exp_avg_sq"):
                    shape = tuple(getattr(st.get(kind), "shape", tuple(p.shape)))
                    if shape != tuple(p.shape):
                        bad.append(f"group {gi} parameter {pi} {kind} {shape}, expected {tuple(p.shape)}")
        if bad:
            shown = "; ".join(bad[:10]) + (" ..." if len(bad) > 10 else "")
            raise CheckpointError(expected(where, "moments of this optimizer's parameter shapes (a state of this "
                                           "model)", f"{len(bad)} mis-shaped: {shown}"))
        super().load_state_dict(state_dict)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One step for every parameter with a gradient; returns ``closure()``'s loss if given.

        Raises:
            TenfoldError: If a gradient is sparse, or (``nonfinite="raise"``)
                holds NaN or inf; that group is then left unchanged.
            ShapeError: If a gradient's shape differs from its parameter's.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for gi, group in enumerate(self.param_groups):
            config = group_config(group)
            buckets: dict[tuple, list[tuple[torch.Tensor, ...]]] = {}
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise TenfoldError(spec.sparse_error("RAdam.step"))
                spec.check_grad_shape("RAdam.step", tuple(p.shape), tuple(p.grad.shape))
            if config.nonfinite != "propagate" and not _finite_group(group, gi, config.nonfinite):
                continue  # "skip": no parameter, moment or step count of this group changes
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] = int(state["step"]) + 1
                key = (state["step"], p.device, p.dtype)
                buckets.setdefault(key, []).append((p, g, state["exp_avg"], state["exp_avg_sq"]))
            for (t, device, _), items in buckets.items():
                f = spec.step_factors(t, config.lr, config)
                P, G, M, V = (list(x) for x in zip(*items, strict=True))
                if self.impl == "fused" and f.phase == "rectified" and device.type in _FUSED_DEVICES:
                    big = [i for i in range(len(P))
                           if P[i].numel() >= self.fused_min_numel and _same_dense_layout(P[i], G[i], M[i], V[i])]
                    small = [i for i in range(len(P)) if i not in set(big)]
                    if big:
                        _fused(*([X[i] for i in big] for X in (P, G, M, V)), f, config)
                    if small:
                        _multi_tensor(*([X[i] for i in small] for X in (P, G, M, V)), f, config)
                elif self.impl == "forloop":
                    for one in zip(P, G, M, V, strict=True):
                        _foreach(*([x] for x in one), f, config, torch_ops=_SINGLE)
                else:
                    _multi_tensor(P, G, M, V, f, config)
        return loss


def _finite_group(group: dict[str, Any], index: int, mode: str) -> bool:
    """Whether every gradient of the group is finite: one max-abs reduction per tensor, one host read."""
    grads = [p.grad for p in group["params"] if p.grad is not None]
    if not grads:
        return True
    peaks = torch._foreach_norm(grads, float("inf"))  # NaN stays NaN, inf stays inf
    finite = torch.isfinite(torch.stack([x.float() for x in peaks]))
    if bool(finite.all()):
        return True
    if mode == "raise":
        positions = [i for i, p in enumerate(group["params"]) if p.grad is not None]
        names = [f"param group {index} parameter {positions[i]} (shape {tuple(grads[i].shape)})"
                 for i in torch.nonzero(~finite).flatten().tolist()]
        raise TenfoldError(spec.nonfinite_message("RAdam.step", names))
    return False


def group_config(group: dict[str, Any]) -> spec.RAdamConfig:
    """The validated :class:`RAdamConfig` of one parameter group (fields a group lacks take the defaults).

    Raises:
        ConfigError: If a value is out of range.
    """
    values = {k: group[k] for k in _CONFIG_KEYS if k in group}
    if "betas" in values:
        values["betas"] = tuple(values["betas"])
    try:
        return spec.RAdamConfig(**values)
    except TypeError as err:
        raise ConfigError(expected("RAdam param group", "valid hyperparameters", str(err))) from None


def _same_dense_layout(*tensors: torch.Tensor) -> bool:
    """Whether the fused kernel may walk these tensors as one flat buffer each (same strides, dense)."""
    first = tensors[0]
    dense = first.is_contiguous() or (first.dim() == 4 and first.is_contiguous(memory_format=torch.channels_last))
    return dense and all(t.stride() == first.stride() for t in tensors[1:])


def _fused(P, G, M, V, f: spec.StepFactors, config: spec.RAdamConfig) -> None:
    """Rectified phase in one pass: Adam(W) with ``lr * r_t`` and ``eps_eff / sqrt(bc2)``."""
    lr_k = config.lr * f.r
    steps = [torch.tensor(float(f.step), device=P[0].device)] * len(P)  # the kernel reads, never writes it
    kw = dict(amsgrad=False, lr=lr_k, beta1=config.betas[0], beta2=config.betas[1], eps=f.eps_eff / f.bc2**0.5,
              maximize=False)
    wd = config.weight_decay
    if wd != 0 and config.weight_decay_mode == "decoupled":
        torch._fused_adamw_(P, G, M, V, [], steps, weight_decay=wd / f.r, **kw)
    else:
        torch._fused_adam_(P, G, M, V, [], steps, weight_decay=wd, **kw)


class _ForeachOps:
    add = staticmethod(torch._foreach_add)
    lerp_ = staticmethod(torch._foreach_lerp_)
    mul_ = staticmethod(torch._foreach_mul_)
    addcmul_ = staticmethod(torch._foreach_addcmul_)
    sqrt = staticmethod(torch._foreach_sqrt)
    add_ = staticmethod(torch._foreach_add_)
    addcdiv_ = staticmethod(torch._foreach_addcdiv_)


class _SingleOps:
    """The foreach signature over one-element lists, with plain tensor ops."""

    @staticmethod
    def add(a, b, alpha=1.0):
        return [a[0].add(b[0], alpha=alpha)]

    @staticmethod
    def lerp_(a, b, w):
        a[0].lerp_(b[0], w)

    @staticmethod
    def mul_(a, s):
        a[0].mul_(s)

    @staticmethod
    def addcmul_(a, b, c, value):
        a[0].addcmul_(b[0], c[0], value=value)

    @staticmethod
    def sqrt(a):
        return [a[0].sqrt()]

    @staticmethod
    def add_(a, b, alpha=1.0):
        if isinstance(b, list):
            a[0].add_(b[0], alpha=alpha)
        else:
            a[0].add_(b)

    @staticmethod
    def addcdiv_(a, b, c, value):
        a[0].addcdiv_(b[0], c[0], value=value)


_FOREACH, _SINGLE = _ForeachOps(), _SingleOps()


#: CPU multi-tensor steps run over segments of about this many elements per thread,
#: so that the six passes of one segment find its data (and the temporary
#: denominator) in cache: about 2x faster than whole-list passes on a ResNet-50
#: parameter list.
CPU_SEGMENT_NUMEL = 65536


def _multi_tensor(P, G, M, V, f: spec.StepFactors, config: spec.RAdamConfig) -> None:
    """The foreach step over whole lists (accelerators) or over cache-sized segments (CPU)."""
    if P[0].device.type != "cpu":
        _foreach(P, G, M, V, f, config, torch_ops=_FOREACH)
        return
    for segment in _segments(P, G, M, V, CPU_SEGMENT_NUMEL * torch.get_num_threads()):
        _foreach(*segment, f, config, torch_ops=_FOREACH)


def _segments(P, G, M, V, size: int):
    """Lists of (views of) parameters, gradients and moments of about ``size`` elements each.

    A contiguous tensor larger than ``size`` is cut into flat views of ``size``
    elements; smaller tensors are packed together. Views write through to the
    tensors, so in-place ops on a segment update the originals.
    """
    packed: tuple[list, list, list, list] = ([], [], [], [])
    count = 0
    for quad in zip(P, G, M, V, strict=True):
        n = quad[0].numel()
        if n > size and all(x.is_contiguous() for x in quad):
            for piece in zip(*(x.view(-1).split(size) for x in quad), strict=True):
                yield tuple([x] for x in piece)
            continue
        for lst, x in zip(packed, quad, strict=True):
            lst.append(x)
        count += n
        if count >= size:
            yield packed
            packed, count = ([], [], [], []), 0
    if packed[0]:
        yield packed


def _foreach(P, G, M, V, f: spec.StepFactors, config: spec.RAdamConfig, torch_ops) -> None:
    """One step with in-place multi-tensor ops; every scalar comes fused from the host."""
    ops = torch_ops
    b1, b2 = config.betas
    if config.weight_decay_mode == "coupled" and config.weight_decay != 0:
        G = ops.add(G, P, alpha=config.weight_decay)  # the only temporary besides the denominator
    ops.lerp_(M, G, 1.0 - b1)
    ops.mul_(V, b2)
    ops.addcmul_(V, G, G, value=1.0 - b2)
    if f.phase == "skip":
        return
    if f.decay != 1.0:
        ops.mul_(P, f.decay)
    if f.phase == "sgd":
        ops.add_(P, M, alpha=-f.b)
        return
    D = ops.sqrt(V)
    ops.add_(D, f.eps_eff)
    ops.addcdiv_(P, M, D, value=-f.a)


__all__ = ["IMPLS", "RAdam", "fused_available", "group_config"]
