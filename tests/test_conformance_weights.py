"""``tenfold conformance --method ID --weights W``: the model suites on a user's weights instead of random ones."""

import numpy as np
import pytest

from tenfold.cli import main
from tenfold.conformance import runner, weights
from tenfold.numpy_ref import vit as ref
from tenfold.spec import vit as spec

pytest.importorskip("torch")


def test_vit_weights_run_the_forward_suites(tmp_path, capsys):
    cfg = spec.ViTConfig.tiny(num_classes=4, hidden_size=24, num_heads=3)
    np.savez(tmp_path / "w.npz", **ref.init_params(cfg, np.random.default_rng(3), head_scale=5.0))
    overrides = {"hidden_size": 24, "num_heads": 3}
    checks = weights.plan("vit", tmp_path / "w.npz", "tiny", overrides, backends_=("numpy", "torch"))
    from tenfold.conformance import vit as conf

    assert checks and {c.case for c in checks} == {"weights"}
    assert {c.mode for c in checks} <= set(conf.WEIGHTS_MODES) and {"eager", "load-timm"} <= {c.mode for c in checks}
    case = checks[0].factory()
    assert case.config.num_classes == 4 and case.config.hidden_size == 24  # the head read off the file
    results = runner.run(checks)
    assert all(r.passed for r in results), [r.detail for r in results if not r.passed]
    assert "--weights" in checks[0].repro and "--preset tiny" in checks[0].repro

    rc = main(["conformance", "--method", "vit", "--weights", str(tmp_path / "w.npz"), "--preset", "tiny",
               "--config", '{"hidden_size": 24, "num_heads": 3}', "--backend", "torch", "--dtype", "float64"])
    out = capsys.readouterr().out
    assert rc == 0 and "vit conformance on the weights w.npz" in out and "3 passed, 0 failed" in out


def test_weights_that_do_not_fit_exit_2(tmp_path, capsys):
    cfg = spec.ViTConfig.tiny()
    params = ref.init_params(cfg, np.random.default_rng(0))
    del params["Transformer/encoder_norm/scale"]
    np.savez(tmp_path / "w.npz", **params)
    assert main(["conformance", "--method", "vit", "--weights", str(tmp_path / "w.npz"), "--preset", "tiny"]) == 2
    assert "encoder_norm/scale" in capsys.readouterr().err
    assert main(["conformance", "--method", "vit", "--method", "frelu", "--weights", str(tmp_path / "w.npz")]) == 2
    assert "exactly one --method" in capsys.readouterr().err


def test_frelu_weights_and_the_scaled_tolerance(tmp_path):
    from tenfold.numpy_ref.frelu import nets as ref_nets
    from tenfold.spec.checkpoints import save_npz
    from tenfold.spec.frelu import nets

    small = {"layers": [1, 1], "widths": [4, 8], "stem_width": 4, "frelu_stages": [True, True], "num_classes": 3}
    config = nets.ResNetFReLUConfig.cifar().replace(**{k: tuple(v) if isinstance(v, list) else v
                                                      for k, v in small.items()})
    save_npz(ref_nets.init_params(config, np.random.default_rng(4)), tmp_path / "w.npz")
    checks = weights.plan("frelu", tmp_path / "w.npz", "cifar", small,
                          backends_=("numpy", "torch"), dtypes=("float32", "float64"))
    assert {c.mode for c in checks} == {"net", "net-folded", "net-train"}
    results = runner.run(checks)
    assert all(r.passed for r in results), [r.detail for r in results if not r.passed]
    # the absolute tolerance grows with the logits (raw-pixel inputs, random BatchNorm: large ones) ...
    net32 = next(c for c in checks if c.mode == "net" and c.dtype == "float32")
    comp = net32.suite.run(net32.factory(), "float32")[0]
    scale = float(np.abs(comp.expected).max())
    nets_tolerance = nets.TOLERANCES.forward["float32"].atol
    assert scale > 10 and comp.tolerance.atol == pytest.approx(nets_tolerance * scale)
    # ... and still catches a wrong answer
    from tenfold.conformance.compare import errors

    wrong = comp.expected * (1 + 5 * comp.tolerance.rtol)
    assert not errors(wrong, comp.expected, comp.tolerance)[2]
