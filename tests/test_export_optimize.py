"""onnxruntime speed options keep the model exact: every optimised file passes ``verify`` against numpy_ref.

Oracles: numpy_ref (through verify) and the float file's own outputs (int8 agreement).
"""

import numpy as np
import onnx
import pytest

from tenfold.numpy_ref import vit as ref
from tenfold.spec import vit as spec

pytest.importorskip("torch")
CFG = spec.ViTConfig.tiny(num_classes=6, gelu="exact")


@pytest.fixture(scope="module")
def vit_file(tmp_path_factory):
    from tenfold.export.vit import export_vit

    tmp = tmp_path_factory.mktemp("opt")
    params = ref.init_params(CFG, np.random.default_rng(3), head_scale=4.0)
    np.savez(tmp / "w.npz", **params)
    export_vit(CFG, params, tmp / "vit.onnx", check=False, verbose=False)
    return tmp


def test_offline_graph_and_every_level_stay_exact(vit_file):
    from tenfold.export import optimize
    from tenfold.export.runtime import runner
    from tenfold.export.verify import verify

    out = optimize.optimize_offline(vit_file / "vit.onnx", vit_file / "offline.onnx", level="extended")
    meta = {p.key: p.value for p in onnx.load(out).metadata_props}
    assert meta["tenfold.method"] == "vit"  # the optimised file still says what it is
    assert verify(out, vit_file / "w.npz", provider="cpu").passed
    x = np.random.default_rng(0).standard_normal((3, 3, 16, 16)).astype(np.float32)
    want = ref.vit(x.astype(np.float64), dict(np.load(vit_file / "w.npz")), CFG)
    for level in optimize.LEVELS:
        run = runner(vit_file / "vit.onnx", "cpu", optimize.session_options(threads=1, level=level, spinning=False))
        np.testing.assert_allclose(run(x)[0], want, atol=1e-4, rtol=1e-4)


def test_transformer_fusions_are_applied_and_exact(vit_file):
    from tenfold.export import optimize
    from tenfold.export.verify import verify

    stats = optimize.fuse_transformer(vit_file / "vit.onnx", vit_file / "fused.onnx", CFG.num_heads,
                                      CFG.hidden_size)
    assert stats.get("SkipLayerNormalization", 0) >= 2 * CFG.num_layers - 1 and stats.get("BiasGelu") == CFG.num_layers
    ops = {n.op_type for n in onnx.load(vit_file / "fused.onnx").graph.node}
    assert {"SkipLayerNormalization", "BiasGelu"} <= ops
    report = verify(vit_file / "fused.onnx", vit_file / "w.npz", provider="cpu")
    assert report.passed, report.format()


def test_bad_options_are_refused():
    from tenfold.export import optimize
    from tenfold.spec.errors import ExportError

    with pytest.raises(ExportError, match="a level among disable, basic, extended, all"):
        optimize.session_options(level="max")
    with pytest.raises(ExportError, match="threads >= 1"):
        optimize.session_options(threads=0)


def test_static_int8_of_a_conv_net_agrees_with_float(tmp_path):
    from tenfold.export import frelu as ex
    from tenfold.export.quantize import quantize_int8
    from tenfold.spec.frelu import nets

    config = nets.ResNetFReLUConfig(block="basic", layers=(1, 1), widths=(8, 16), stem="cifar", stem_width=8,
                                    frelu_stages=(True, True), dropout=0.0, num_classes=4)
    model, _ = ex.build_model(config, "torch")
    ex.export_torch(model, tmp_path / "f.onnx", (2, 3, 12, 12))
    rng = np.random.default_rng(0)
    probe = rng.uniform(0, 255, (16, 3, 12, 12)).astype(np.float32)
    rep = quantize_int8(tmp_path / "f.onnx", tmp_path / "q.onnx", probe, provider="cpu", mode="static")
    ops = {n.op_type for n in onnx.load(tmp_path / "q.onnx").graph.node}
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops  # QDQ format
    assert rep.int8_bytes < rep.float_bytes and rep.max_abs_diff < 0.2 * rep.output_std * 10
    with pytest.raises(Exception, match="mode 'dynamic' or 'static'"):
        quantize_int8(tmp_path / "f.onnx", tmp_path / "x.onnx", probe, mode="int4")
