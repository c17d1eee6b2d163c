"""The GPU path of deployment: onnxruntime's CUDA provider through the one runner, verify and bench.

Skipped (with the reason) where onnxruntime has no CUDAExecutionProvider; scripts/gpu_check.sh runs
these on a GPU machine. The oracle is numpy_ref in float64 (TF32 is off in the runner).
"""

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
PROVIDERS = ort.get_available_providers()
pytestmark = pytest.mark.skipif("CUDAExecutionProvider" not in PROVIDERS,
                                reason=f"onnxruntime has no CUDAExecutionProvider (providers: {PROVIDERS})")


@pytest.fixture(scope="module")
def vit_file(tmp_path_factory):
    pytest.importorskip("torch")
    from tenfold.export.vit import export_vit
    from tenfold.numpy_ref import vit as ref
    from tenfold.spec import vit as spec

    tmp = tmp_path_factory.mktemp("gpu")
    config = spec.ViTConfig.tiny(num_classes=7)
    params = ref.init_params(config, np.random.default_rng(0), head_scale=4.0)
    np.savez(tmp / "w.npz", **params)
    export_vit(config, params, tmp / "vit.onnx", check=False, verbose=False)
    return tmp, config, params


def test_runner_runs_on_cuda_and_matches_numpy_ref(vit_file):
    from tenfold.export.runtime import runner
    from tenfold.numpy_ref import vit as ref
    from tenfold.spec import vit as spec

    tmp, config, params = vit_file
    x = np.random.default_rng(1).standard_normal((5, 3, 16, 16)).astype(np.float32)
    for provider in ("cuda", "auto"):
        run = runner(tmp / "vit.onnx", provider)
        assert run.provider == "CUDAExecutionProvider"  # no silent fallback to the CPU
        tol = spec.TOLERANCES.onnx["float32"]
        np.testing.assert_allclose(run(x)[0], ref.vit(x.astype(np.float64), params, config), atol=tol.atol,
                                   rtol=tol.rtol)


def test_verify_on_cuda_says_so(vit_file):
    from tenfold.export.verify import verify

    tmp, _, _ = vit_file
    report = verify(tmp / "vit.onnx", tmp / "w.npz", provider="cuda")
    assert report.passed, report.format()
    assert report.provider == "CUDAExecutionProvider" and "provider CUDAExecutionProvider" in report.format()


def test_bench_picks_the_gpu_when_both_frameworks_have_it():
    torch = pytest.importorskip("torch")
    from tenfold.benchmarks.onnx_speed import pick_device

    device, why = pick_device("auto")
    assert device == ("cuda" if torch.cuda.is_available() else "cpu"), why
