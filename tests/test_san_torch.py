"""SAN in PyTorch: official names, official checkpoint files (weights_only), execution paths, errors."""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tenfold.numpy_ref import san as ref  # noqa: E402
from tenfold.spec.errors import CheckpointError, DTypeError, ShapeError  # noqa: E402
from tenfold.spec.san import SAMConfig, nets  # noqa: E402
from tenfold.torch_backend import san as tb  # noqa: E402
from tenfold.torch_backend.checkpoints import read_state_dict  # noqa: E402

TINY = nets.SANConfig.tiny("patchwise")


def test_state_dict_is_the_canonical_layout_in_official_order():
    for config in (nets.SANConfig.san10_pair(), nets.SANConfig.san19_patch()):
        model = tb.SAN(config, device="meta")
        state = model.state_dict()
        assert list(state) == list(nets.param_shapes(config))
        assert all(tuple(v.shape) == nets.param_shapes(config)[k] for k, v in state.items())
        assert sum(p.numel() for p in model.parameters()) == nets.num_params(config)


def _official_file(path, params, extra=None):
    """A file laid out as hszhao/SAN tool/train.py saves it (DataParallel keys, training state beside)."""
    sd = {"module." + k: torch.as_tensor(v) for k, v in params.items()}
    torch.save({"epoch": 100, "state_dict": sd, "optimizer": {"state": {}, "param_groups": [{"lr": 0.1}]},
                "scheduler": {"last_epoch": 100}, "top1_val": 0.771, "top5_val": 0.935, **(extra or {})}, path)


def test_official_checkpoint_loads_without_renaming(tmp_path):
    params = ref.init_params(TINY, np.random.default_rng(0), "float32")
    _official_file(tmp_path / "model_best.pth", params)
    model = tb.load_checkpoint(tb.SAN(TINY), tmp_path / "model_best.pth")
    got = tb.get_params(model)
    assert set(got) == set(params)
    for k, v in params.items():
        np.testing.assert_array_equal(got[k], v)
    assert read_state_dict(tmp_path / "model_best.pth").keys() == params.keys()  # "module." stripped


class _Evil:
    def __reduce__(self):
        return (print, ("unpickled!",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_checkpoint_refuses_arbitrary_pickles_and_reports_problems(tmp_path):
    params = ref.init_params(TINY, np.random.default_rng(0), "float32")
    _official_file(tmp_path / "evil.pth", params, {"hook": _Evil()})
    with pytest.raises(CheckpointError, match="weights_only=True"):
        tb.load_checkpoint(tb.SAN(TINY), tmp_path / "evil.pth")
    with open(tmp_path / "raw.pkl", "wb") as fh:
        pickle.dump({"a": _Evil()}, fh)
    with pytest.raises(CheckpointError, match="weights_only=True"):
        read_state_dict(tmp_path / "raw.pkl")
    torch.save({"epoch": 3, "state_dict": {"note": "no tensors"}}, tmp_path / "empty.pth")
    with pytest.raises(CheckpointError, match="a state dict of tensors"):
        read_state_dict(tmp_path / "empty.pth")
    with pytest.raises(CheckpointError, match="no such file"):
        read_state_dict(tmp_path / "missing.pth")
    bad = {k: v for k, v in params.items() if k != "fc.bias"}
    bad["layer0.0.sam.conv_w.5.weight"] = np.zeros((3, 3, 1, 1), np.float32)
    _official_file(tmp_path / "bad.pth", bad)
    with pytest.raises(CheckpointError,
                       match=r"missing key: fc\.bias.*mis-shaped array: layer0\.0\.sam\.conv_w\.5\.weight"):
        tb.load_checkpoint(tb.SAN(TINY), tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match="mis-shaped"):  # a pairwise file into a patchwise model
        tb.load_params(tb.SAN(TINY), ref.init_params(nets.SANConfig.tiny("pairwise"), np.random.default_rng(0)))


def test_lean_eval_path_equals_the_full_path():
    rng = np.random.default_rng(1)
    for sa_type, relation in (("pairwise", None), ("pairwise", "hadamard"), ("patchwise", None)):
        c = SAMConfig(in_planes=16, rel_planes=4, out_planes=16, share_planes=4, kernel_size=5, sa_type=sa_type,
                      relation=relation)
        m = tb.load_params(tb.SAM(c, torch.float64), ref.sam_init_params(c, rng)).eval()
        for shape in ((2, 16, 9, 30), (1, 16, 11, 6)):  # row-wise and flat accumulation
            x = torch.from_numpy(rng.normal(size=shape))
            with torch.no_grad():
                m.lean = True
                lean = m(x)
                m.lean = False
                full = m(x)
            torch.testing.assert_close(lean, full, rtol=1e-10, atol=1e-10)  # float64: two formulations agree


def test_eval_fast_stem_equals_the_official_order():
    model = tb.load_params(tb.SAN(TINY, torch.float64), ref.init_params(TINY, np.random.default_rng(2))).eval()
    x = torch.from_numpy(np.random.default_rng(3).normal(size=(2, 3, 17, 19)))
    with torch.no_grad():
        fast = model._stem(x, True)
        slow = model._stem(x, False)
    torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-12)


def test_errors_name_the_stage_and_the_smallest_input():
    model = tb.SAN(nets.SANConfig.san10_patch())
    with pytest.raises(ShapeError, match=r"at stage 4 .*smallest input that works is 128 x 128"):
        model(torch.zeros(1, 3, 96, 224))
    with pytest.raises(DTypeError, match="float32, float64"):
        tb.SAM(SAMConfig(in_planes=2))(torch.zeros(1, 2, 4, 4, dtype=torch.int64))
    with pytest.raises(ShapeError, match="more than one value per channel"):
        tb.SAM(SAMConfig(in_planes=2, padding="zero")).train()(torch.zeros(1, 2, 1, 1))


def test_float64_and_meta_device_build():
    m = tb.build(TINY, torch.float64)
    assert all(p.dtype == torch.float64 for p in m.parameters())
    assert isinstance(tb.build(SAMConfig()), tb.SAM)
