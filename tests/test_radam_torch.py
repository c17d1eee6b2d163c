"""RAdam in PyTorch: errors, closures, parameter groups, the fused/foreach split, peer and resume."""

import io

import numpy as np
import pytest
import torch

from tenfold.numpy_ref import radam as ref
from tenfold.spec import radam as spec
from tenfold.spec.errors import ConfigError, DTypeError, TenfoldError
from tenfold.torch_backend.radam import CPU_SEGMENT_NUMEL, FUSED_MIN_NUMEL, RAdam, fused_available

C = spec.RAdamConfig


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors on a shared 2-core machine: thread hand-offs would dominate the test time."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("kwargs", [{"lr": -1.0}, {"betas": (1.0, 0.999)}, {"betas": (0.9, 1.5)}, {"eps": -1.0},
                                    {"weight_decay": -0.1}, {"impl": "cuda-graph"}])
def test_bad_hyperparameters_raise_config_error(kwargs):
    with pytest.raises(ConfigError, match="expected"):
        RAdam([torch.nn.Parameter(torch.zeros(2))], **kwargs)


def test_bad_parameter_group_raises_config_error():
    opt = RAdam([torch.nn.Parameter(torch.zeros(2))])
    with pytest.raises(ConfigError, match=r"RAdamConfig\.lr"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2))], "lr": float("nan")})
    with pytest.raises(ConfigError, match=r"RAdamConfig\.early"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2))], "early": "adam"})
    assert len(opt.param_groups) == 1  # the bad groups were not kept


def test_integer_parameter_raises_dtype_error():
    with pytest.raises(DTypeError, match="floating-point"):
        RAdam([torch.zeros(2, dtype=torch.int64)])


def test_sparse_gradient_raises_a_clear_error():
    p = torch.nn.Parameter(torch.zeros(4, 2))
    p.grad = torch.sparse_coo_tensor([[0, 2]], torch.ones(2, 2), (4, 2), check_invariants=True)
    with pytest.raises(TenfoldError, match="dense gradient"):
        RAdam([p]).step()


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    p = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    opt = RAdam([p], config=C.paper(), lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    with torch.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    torch.testing.assert_close(p.detach(), torch.tensor([1.0, 2.0]) - 0.1 * torch.tensor([2.0, 4.0]))


def test_parameters_without_gradient_keep_their_own_step_count():
    # one parameter misses steps 3 and 7: its step count lags, as in the reference with grad None
    rng = np.random.default_rng(1)
    p0 = {"a": rng.normal(size=3), "b": rng.normal(size=2)}
    grads = [{"a": rng.normal(size=3), "b": None if t in (2, 6) else rng.normal(size=2)} for t in range(12)]
    tp = {k: torch.nn.Parameter(torch.tensor(v)) for k, v in p0.items()}
    opt = RAdam(tp.values(), config=C.official(), lr=0.05, impl="foreach")
    rp, st = p0, ref.init_state(p0)
    for g in grads:
        for k, p in tp.items():
            p.grad = None if g[k] is None else torch.tensor(g[k])
        opt.step()
        rp, st = ref.step(rp, g, st, C.official().replace(lr=0.05))
    for k, p in tp.items():
        np.testing.assert_allclose(p.detach().numpy(), rp[k], rtol=1e-12, atol=1e-14)
    assert opt.state[tp["b"]]["step"] == st.step["b"] == 10


def _big_and_small(seed: int, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    # fused-sized, cut into several CPU segments, small (packed), and a non-contiguous one (not cut)
    shapes = [(FUSED_MIN_NUMEL + 7,), (2 * CPU_SEGMENT_NUMEL + 5,), (5, 3), (1,), (400, 170)]
    params = [torch.nn.Parameter(torch.randn(s, generator=gen, dtype=dtype)) for s in shapes]
    params[-1] = torch.nn.Parameter(torch.randn(shapes[-1][::-1], generator=gen, dtype=dtype).t())
    assert not params[-1].is_contiguous()
    grads = [[torch.randn(s, generator=gen, dtype=dtype) for s in shapes] for _ in range(8)]
    return params, grads


@pytest.mark.parametrize("impl", ["fused", "foreach"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_impls_match_torch_optim_radam_on_large_and_strided_tensors(impl, weight_decay):
    # fused: large tensors through the kernel, small ones through foreach; foreach: CPU segments
    if impl == "fused" and not fused_available():
        pytest.skip("no fused Adam kernel in this PyTorch")
    ours, grads = _big_and_small(0)
    peer = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    opt = RAdam(ours, config=C.torch(), lr=0.02, weight_decay=weight_decay, impl=impl)
    popt = torch.optim.RAdam(peer, lr=0.02, weight_decay=weight_decay)
    for gs in grads:
        for p, q, g in zip(ours, peer, gs, strict=True):
            p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        popt.step()
        for p, q in zip(ours, peer, strict=True):
            torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("impl", ["fused", "foreach"])
def test_resume_from_state_dict_equals_the_uninterrupted_run(impl):
    if impl == "fused" and not fused_available():
        pytest.skip("no fused Adam kernel")

    def run(stop):
        params, grads = _big_and_small(3, torch.float32)
        opt = RAdam([{"params": params[:1]}, {"params": params[1:], "lr": 0.003}], lr=0.01, impl=impl,
                    config=C.official().replace(weight_decay=0.01))
        for t, gs in enumerate(grads):
            for p, g in zip(params, gs, strict=True):
                p.grad = g
            opt.step()
            if t + 1 == stop:
                buf = io.BytesIO()
                torch.save({"opt": opt.state_dict(), "p": [p.detach() for p in params]}, buf)
                buf.seek(0)
                saved = torch.load(buf, weights_only=True)
                params = [torch.nn.Parameter(p.clone()) for p in saved["p"]]
                opt = RAdam([{"params": params[:1]}, {"params": params[1:], "lr": 0.003}], lr=0.01, impl=impl,
                            config=C.official().replace(weight_decay=0.01))
                opt.load_state_dict(saved["opt"])
        return [p.detach() for p in params]

    whole = run(None)
    for stop in (3, 6):
        for a, b in zip(run(stop), whole, strict=True):
            assert torch.equal(a, b)
