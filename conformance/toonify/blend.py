"""Conformance of Toonify's blend (see :mod:`tenfold.spec.toonify.blend`) against a hand-written table.

Two random 32 px generators (positions 0..7). For each case the table below
gives, written out by hand from the official script's rule, the weight ``y`` of
the high-res model at every position; the map from positions to canonical
prefixes is written out here too (independently of ``spec.position_of``), as is
the list of what is never blended. Logistic values are ``1 / (1 + e^-t)`` at
the listed ``t``.

Suites: the PyTorch and Keras ``blend_models`` (which run the one NumPy blend
over canonical dicts), parameter by parameter against the table, and on two
cases through the images their blended models draw against numpy_ref on the
table-blended parameters. The NumPy blend alone against the table runs in
``REFERENCE_SELF_CHECKS`` (tests/test_reference_properties.py).
"""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import toonify as ref
from tenfold.spec import toonify as spec
from tenfold.spec.toonify.blend import BlendConfig
from tenfold.spec.toonify.generator import StyleGAN2Config

from ..case import Case, Comparison
from ..dtypes import round_to
from .generator import METHOD, _perturbed_params

CONFIG = StyleGAN2Config(resolution=32, style_dim=4, n_mlp=1, channel_max=4)

#: position -> canonical prefixes of a 32 px generator (rosinality names).
POSITIONS: dict[int, tuple[str, ...]] = {
    0: ("input.input",), 1: ("to_rgb1.",), 2: ("convs.0.",), 3: ("convs.1.", "to_rgbs.0."), 4: ("convs.2.",),
    5: ("convs.3.", "to_rgbs.1."), 6: ("convs.4.",), 7: ("convs.5.", "to_rgbs.2."),
}
#: Never blended: the mapping, the 4x4 conv, noise buffers, w_avg, FIR taps.
NEVER = ("style.", "conv1.", "noises.", "latent_avg", ".blur.kernel", ".upsample.kernel")

_OFF, _CON = BlendConfig.official(), BlendConfig.consistent()
#: name -> (rule, resolution, level, width, y at positions 0..7).
TABLE: dict[str, tuple[BlendConfig, int, int, float | None, tuple[float, ...]]] = {
    # hard switch x > 1: positions mid and mid + 1 stay on the low-res model
    "blend-official-hard-8": (_OFF, 8, 0, None, (0, 0, 0, 0, 1, 1, 1, 1)),
    "blend-official-hard-8-level1": (_OFF, 8, 1, None, (0, 0, 0, 0, 0, 1, 1, 1)),
    "blend-official-width0-16": (_OFF, 16, 0, 0.0, (0, 0, 0, 0, 0, 0, 1, 1)),
    # logistic centred at x = 0, width 1, mid = 4: t = -4 .. 3
    "blend-official-smooth-16": (_OFF, 16, 0, 1.0, (0.01798620996209156, 0.04742587317756678, 0.11920292202211755,
                                                    0.2689414213699951, 0.5, 0.7310585786300049,
                                                    0.8807970779778823, 0.9525741268224334)),
    # width -> 0: 0.5 at the switch, 1 from mid + 1 on (not the hard switch)
    "blend-official-narrow-8": (_OFF, 8, 0, 1e-3, (0, 0, 0.5, 1, 1, 1, 1, 1)),
    # width 0.5 at (4, level 1), mid = 1: t = 2 (p - 1) = -2 .. 12
    "blend-official-smooth-4-level1": (_OFF, 4, 1, 0.5, (0.11920292202211755, 0.5, 0.8807970779778823,
                                                         0.9820137900379085, 0.9975273768433653,
                                                         0.9996646498695336, 0.9999546021312976,
                                                         0.9999938558253978)),
    # consistent: centred at x = 1.5, so width -> 0 is the hard switch
    "blend-consistent-narrow-8": (_CON, 8, 0, 1e-3, (0, 0, 0, 0, 1, 1, 1, 1)),
    "blend-consistent-smooth-16": (_CON, 16, 0, 1.0, (0.004070137715896128, 0.01098694263059318,
                                                      0.02931223075135632, 0.07585818002124355,
                                                      0.18242552380635635, 0.3775406687981454,
                                                      0.6224593312018546, 0.8175744761936437)),
}
CASES = tuple(TABLE)
IMAGE_CASES = ("blend-official-smooth-16", "blend-consistent-narrow-8")
_LO, _HI = "low:", "high:"


def make_blend_case(name: str, seed: int, index: int) -> Case:
    rng = np.random.default_rng([seed, index])
    low, high = _perturbed_params(CONFIG, rng), _perturbed_params(CONFIG, rng)
    inputs = {**{_LO + k: v for k, v in low.items()}, **{_HI + k: v for k, v in high.items()},
              "z": rng.standard_normal((2, CONFIG.style_dim))}
    return Case(METHOD, name, seed, inputs)


def _split(case: Case, dtype: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    lo = {k[len(_LO):]: round_to(v, dtype) for k, v in case.inputs.items() if k.startswith(_LO)}
    hi = {k[len(_HI):]: round_to(v, dtype) for k, v in case.inputs.items() if k.startswith(_HI)}
    return lo, hi


def table_weight(name: str, ys: tuple[float, ...]) -> float | None:
    """``y`` of a canonical name from the hand-written table (``None``: never blended)."""
    if any(name.startswith(p) or name.endswith(p) for p in NEVER):
        return None
    hits = [pos for pos, prefixes in POSITIONS.items() if any(name.startswith(p) for p in prefixes)]
    if len(hits) != 1:
        raise KeyError(f"{name}: not in the hand-written position table")
    return float(ys[hits[0]])


def expected_params(case: Case, dtype: str) -> dict[str, np.ndarray]:
    """The blend written out from :data:`TABLE`, in float64 on inputs rounded to ``dtype``."""
    lo, hi = _split(case, dtype)
    ys = TABLE[case.name][4]
    out = {}
    for name, v in lo.items():
        y = table_weight(name, ys)
        out[name] = v if y is None else y * hi[name] + (1.0 - y) * v
    return out


def numpy_blend(case: Case, dtype: str) -> list[Comparison]:
    rule, res, level, width, _ = TABLE[case.name]
    lo, hi = _split(case, dtype)
    got = ref.blend({k: v.astype(dtype) for k, v in lo.items()}, {k: v.astype(dtype) for k, v in hi.items()}, res,
                    level=level, width=width, config=rule)
    want = expected_params(case, dtype)
    tol = spec.BLEND_TOLERANCE if dtype == "float64" else spec.TOLERANCES.get("forward", dtype)
    return [Comparison(name, got[name].astype(np.float64), want[name], tol) for name in want]


def _images(params: dict[str, np.ndarray], z: np.ndarray) -> np.ndarray:
    return ref.generate(z, params, CONFIG)


def _backend_comparisons(case: Case, dtype: str, params: dict[str, np.ndarray], images) -> list[Comparison]:
    """The blended model's parameters against the table, and (on :data:`IMAGE_CASES`) its images."""
    want = expected_params(case, dtype)
    tol = spec.BLEND_TOLERANCE if dtype == "float64" else spec.TOLERANCES.get("forward", dtype)
    out = [Comparison(name, np.asarray(params[name], np.float64), want[name], tol) for name in want]
    if case.name in IMAGE_CASES:
        z = round_to(case.inputs["z"], dtype)
        out.append(Comparison("image", images(z), _images(want, z), spec.TOLERANCES.get("forward", dtype)))
    return out


def torch_blend(case: Case, dtype: str) -> list[Comparison]:
    import torch

    from tenfold.torch_backend import toonify as tb

    rule, res, level, width, _ = TABLE[case.name]
    lo, hi = _split(case, dtype)
    models = [tb.load_params(tb.Generator(CONFIG, getattr(torch, dtype)), p) for p in (lo, hi)]
    out = tb.blend_models(*models, res, level=level, width=width, config=rule)

    def images(z):
        with torch.no_grad():
            return out(torch.tensor(z, dtype=getattr(torch, dtype))).double().numpy()

    return _backend_comparisons(case, dtype, tb.get_params(out), images)


def tf_blend(case: Case, dtype: str) -> list[Comparison]:
    from tenfold.tf_backend import toonify as tb

    rule, res, level, width, _ = TABLE[case.name]
    lo, hi = _split(case, dtype)
    models = [tb.load_params(tb.Generator(CONFIG, dtype=dtype), p) for p in (lo, hi)]
    out = tb.blend_models(*models, res, level=level, width=width, config=rule)

    def images(z):
        return np.asarray(out(z.astype(dtype)), np.float64).transpose(0, 3, 1, 2)

    return _backend_comparisons(case, dtype, tb.get_params(out), images)


__all__ = ["CASES", "CONFIG", "IMAGE_CASES", "NEVER", "POSITIONS", "TABLE", "expected_params", "make_blend_case",
           "numpy_blend", "table_weight", "tf_blend", "torch_blend"]
