"""LARS for PyTorch: a ``torch.optim.Optimizer`` with the official exclusions.

Paper: You, Gitman, Ginsburg, arXiv:1708.03888; SimCLR Sec. B.1. Official
code: google-research/simclr ``lars_optimizer.py``. Math and presets:
:mod:`tenfold.spec.simclr.lars`.

Exclusions. Pass named parameters (``model.named_parameters()``, or groups
with ``param_names``) and the config's regular expressions decide, per
parameter, whether it gets weight decay and layer adaptation (official:
``batch_normalization``, ``bias``, ``head_supervised``); ``exclude_vectors``
adds every parameter of rank <= 1. A group may also force them with
``"weight_decay_exempt": True`` / ``"adaptation_exempt": True``.
:func:`lars_param_groups` builds such groups for a module (with the canonical
names of :class:`~tenfold.torch_backend.simclr.ProjectionHead`).

The step runs on the parameter's device without host synchronisation: the
norms and the trust ratio stay tensors. The momentum buffer has the
parameter's dtype (the official code keeps a float32 buffer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from tenfold.spec.config import require
from tenfold.spec.errors import ConfigError, TenfoldError, expected
from tenfold.spec.simclr import lars as spec

from .._tensors import dtype_name

_KEYS = ("lr", "momentum", "weight_decay", "eta", "nesterov", "classic_momentum", "exclude_from_weight_decay",
         "exclude_from_layer_adaptation", "exclude_vectors")


class LARS(torch.optim.Optimizer):
    """Layer-wise adaptive rate scaling (You et al. 2017) as in SimCLR's ``lars_optimizer.py``.

    Args:
        params: Parameters, named parameters, or groups (dicts that may override
            any field of :class:`~tenfold.spec.simclr.lars.LARSConfig`).
        lr, momentum, weight_decay, eta: Override the same fields of ``config``.
        config: Defaults and conventions (``LARSConfig.official()`` when None).

    Raises:
        ConfigError: On a hyperparameter out of range.
        DTypeError: If a parameter is not float32 or float64.
    """

    def __init__(self, params: Iterable, lr: float | None = None, momentum: float | None = None,
                 weight_decay: float | None = None, eta: float | None = None, *,
                 config: spec.LARSConfig | None = None) -> None:
        config = config or spec.LARSConfig.official()
        config = config.replace(**{k: v for k, v in (("lr", lr), ("momentum", momentum),
                                                     ("weight_decay", weight_decay), ("eta", eta)) if v is not None})
        super().__init__(params, {k: getattr(config, k) for k in _KEYS})

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        try:
            group_config(group)
            for p in group["params"]:
                spec.check_dtype(dtype_name(p.dtype), "LARS")
        except Exception:
            self.param_groups.pop()
            raise

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One step for every parameter with a gradient; returns ``closure()``'s loss if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            c = group_config(group)
            names = group.get("param_names") or [""] * len(group["params"])
            for name, p in zip(names, group["params"], strict=True):
                if p.grad is None:
                    continue
                g = p.grad
                if g.is_sparse:
                    raise TenfoldError(spec.sparse_error("LARS.step"))
                spec.check_grad_shape("LARS.step", tuple(p.shape), tuple(g.shape))
                use_wd, use_adapt = spec.exclusions(name, p.dim(), c)
                use_wd = use_wd and not group.get("weight_decay_exempt", False)
                use_adapt = use_adapt and not group.get("adaptation_exempt", False)
                state = self.state[p]
                if not state:
                    state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                v = state["momentum_buffer"]
                if use_wd:
                    g = g.add(p, alpha=c.weight_decay)
                if c.classic_momentum:
                    scaled = _trust(p, g, c.eta) * c.lr if use_adapt else c.lr
                    step_ = g * scaled
                    v.mul_(c.momentum).add_(step_)
                    p.sub_(v * c.momentum + step_ if c.nesterov else v)
                else:
                    v.mul_(c.momentum).add_(g)
                    u = v * c.momentum + g if c.nesterov else v
                    scaled = _trust(p, u, c.eta) * c.lr if use_adapt else c.lr
                    p.sub_(u * scaled)
        return loss


def _trust(w: torch.Tensor, u: torch.Tensor, eta: float) -> torch.Tensor:
    """``eta ||w|| / ||u||`` where both norms are > 0, else 1; a 0-dim tensor on the parameter's device."""
    wn, un = torch.linalg.vector_norm(w), torch.linalg.vector_norm(u)
    ok = (wn > 0) & (un > 0)
    return torch.where(ok, eta * wn / torch.where(ok, un, torch.ones_like(un)), torch.ones_like(wn))


def group_config(group: dict[str, Any]) -> spec.LARSConfig:
    """The validated :class:`LARSConfig` of one parameter group."""
    values = {k: group[k] for k in _KEYS}
    for k in ("exclude_from_weight_decay", "exclude_from_layer_adaptation"):
        if isinstance(values[k], list):
            values[k] = tuple(values[k])
    try:
        return spec.LARSConfig(**values)
    except TypeError as err:
        raise ConfigError(expected("LARS param group", "valid hyperparameters", str(err))) from None


def lars_param_groups(module: nn.Module, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One group of ``module``'s trainable parameters with ``param_names`` for the exclusion patterns.

    Args:
        module: Any module.
        names: Optional ``named_parameters()`` name -> the name the patterns see (for
            :class:`ProjectionHead`, :func:`~tenfold.torch_backend.simclr.head.canonical_names`;
            applied to a submodule's names when ``module`` contains a head is up to the caller).
    """
    require(isinstance(module, nn.Module), "lars_param_groups", "an nn.Module", type(module).__name__)
    named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    names = names or {}
    return [{"params": [p for _, p in named], "param_names": [names.get(n, n) for n, _ in named]}]


__all__ = ["LARS", "group_config", "lars_param_groups"]
