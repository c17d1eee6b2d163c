"""Toonify in PyTorch and TensorFlow: canonical names, rosinality checkpoints, layouts, errors, noise, blend_models.

(Numerical agreement with numpy_ref is the conformance suite's job.)
"""

import argparse

import numpy as np
import pytest

from tenfold.numpy_ref import toonify as ref
from tenfold.spec import toonify as spec
from tenfold.spec.errors import CheckpointError, ShapeError

torch = pytest.importorskip("torch")
C = spec.StyleGAN2Config.tiny()


def _params(seed=0):
    p = ref.init_params(C, np.random.default_rng(seed))
    return {k: np.full_like(v, 0.7) if k.endswith("noise.weight") else v for k, v in p.items()}


def test_torch_state_dict_is_the_canonical_dict():
    from tenfold.torch_backend import toonify as tb

    model = tb.Generator(C)
    assert set(model.state_dict()) == set(spec.param_shapes(C))
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == spec.param_shapes(C)
    trainable = {k for k, v in model.named_parameters()}
    assert trainable == set(spec.trainable_names(C))


def test_rosinality_checkpoint_round_trip(tmp_path):
    from tenfold.torch_backend import toonify as tb

    p = _params()
    # a file as rosinality's convert_weight.py writes it: {"g_ema": state_dict, "latent_avg": tensor}
    sd = {k: torch.from_numpy(v.astype(np.float32)) for k, v in p.items() if k != "latent_avg"}
    torch.save({"g_ema": sd, "latent_avg": torch.from_numpy(p["latent_avg"].astype(np.float32))}, tmp_path / "r.pt")
    model = tb.load_rosinality(tb.Generator(C), tmp_path / "r.pt")
    got = tb.get_params(model)
    assert all(np.allclose(got[k], p[k], atol=1e-6) for k in p)
    tb.save_rosinality(got, tmp_path / "s.pt")
    raw = torch.load(tmp_path / "s.pt", weights_only=True)
    assert set(raw) == {"g_ema", "latent_avg"} and set(raw["g_ema"]) == set(sd)
    params, config = ref.load_checkpoint(tmp_path / "s.pt")
    assert config == C and np.allclose(params["input.input"], p["input.input"], atol=1e-6)


def test_rosinality_without_latent_avg_and_train_checkpoints(tmp_path):
    from tenfold.torch_backend import toonify as tb

    p = _params()
    sd = {k: torch.from_numpy(v) for k, v in p.items() if k != "latent_avg"}
    torch.save({"g_ema": sd}, tmp_path / "g.pt")
    model = tb.load_rosinality(tb.Generator(C, torch.float64), tmp_path / "g.pt")
    want = ref.mean_latent({k: v for k, v in p.items()}, C)  # the spec's 4096 draws, mapped and averaged
    assert np.allclose(model.latent_avg.numpy(), want, atol=1e-10)
    torch.save({"g_ema": sd, "args": argparse.Namespace(size=16)}, tmp_path / "train.pt")
    with pytest.raises(CheckpointError, match="tensors only"):
        tb.rosinality_params(tmp_path / "train.pt")
    with pytest.raises(CheckpointError, match="no such file"):
        tb.rosinality_params(tmp_path / "missing.pt")


def test_torch_noise_modes_and_errors():
    from tenfold.torch_backend import toonify as tb

    model = tb.load_params(tb.Generator(C, torch.float64), _params())
    z = torch.randn(2, C.style_dim, dtype=torch.float64)
    a = model(z, noise="random", generator=torch.Generator().manual_seed(3))
    b = model(z, noise="random", generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.allclose(a, model(z))
    with pytest.raises(ShapeError, match=r"toonify\.Generator: expected z of shape \(N, 8\); got shape \(2, 3\)"):
        model(torch.zeros(2, 3, dtype=torch.float64))
    with pytest.raises(CheckpointError, match=r"missing key: input\.input"):
        tb.load_params(model, {k: v for k, v in _params().items() if k != "input.input"})


def test_torch_fused_form_matches_the_shared_conv_form():
    from tenfold.torch_backend import toonify as tb

    p = _params()
    z = torch.randn(3, C.style_dim, dtype=torch.float64)
    a = tb.load_params(tb.Generator(C, torch.float64), p)(z, truncation=0.8)
    b = tb.load_params(tb.Generator(C, torch.float64, fused=True), p)(z, truncation=0.8)
    assert torch.allclose(a, b, atol=1e-12)


def test_torch_blend_models_keeps_dtype_and_takes_the_mapping_from_low():
    from tenfold.torch_backend import toonify as tb

    lo = tb.load_params(tb.Generator(C, torch.float64), _params(1))
    hi = tb.load_params(tb.Generator(C, torch.float64), _params(2))
    out = tb.blend_models(lo, hi, 8, width=0.5)
    assert out.latent_avg.dtype == torch.float64 and out is not lo
    assert torch.equal(out.style[1].weight, lo.style[1].weight)
    assert not torch.equal(out.convs[3].conv.weight, lo.convs[3].conv.weight)


def test_tf_layouts_round_trip_and_errors():
    pytest.importorskip("tensorflow")
    from tenfold.tf_backend import toonify as tb

    p = _params()
    model = tb.load_params(tb.Generator(C, dtype="float64"), p)
    assert model._param_vars["convs.1.conv.weight"].shape == (3, 3, 8, 8)  # (k, k, in, out)
    assert model._param_vars["style.1.weight"].shape == (8, 8)
    assert model._param_vars["noises.noise_1"].shape == (1, 8, 8, 1)
    q = tb.get_params(model)
    assert all(np.array_equal(q[k], p[k]) for k in p)
    assert not model._param_vars["noises.noise_0"].trainable
    with pytest.raises(ShapeError, match=r"toonify\.Generator: expected z of shape \(N, 8\); got shape \(2, 3\)"):
        model(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"noise 0"):
        model(np.zeros((2, 8)), noise=[np.zeros((1, 1, 4, 4))] * C.num_layers)  # NCHW given to the NHWC model
