"""CutMix on bad input, every layer: plans of another batch size in every form (object, ``to_dict()``,
dict of tensors; eager and graph), configs given as preset names, and images or labels that are not arrays."""

import numpy as np
import pytest

from tenfold.numpy_ref import cutmix as ref
from tenfold.spec import cutmix as spec
from tenfold.spec.errors import ConfigError, DTypeError, ShapeError

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")

from tenfold.tf_backend import cutmix as tfc  # noqa: E402
from tenfold.torch_backend import cutmix as tc  # noqa: E402

K = 5
PLAN = spec.sample(np.random.default_rng(0), 4, 8, 6)  # B=4, H=8, W=6
MISMATCH = "cutmix: expected images with B=4, H=8, W=6 as in the plan; got B=3, H=8, W=6"


def _images(b=3, dtype=np.float32):
    return np.arange(b * 3 * 8 * 6, dtype=dtype).reshape(b, 3, 8, 6)


def _numpy(x, y, plan):
    return ref.apply(x, y, plan, K)


def _torch(x, y, plan):
    return tc.cutmix_apply(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y), plan, K)


def _tf(x, y, plan):
    return tfc.cutmix_apply(x.transpose(0, 2, 3, 1), y, plan, K)


def _tf_graph(x, y, plan):
    return tf.function(lambda a, b: tfc.cutmix_apply(a, b, plan, K))(x.transpose(0, 2, 3, 1), y)


LAYERS = {"numpy": _numpy, "torch": _torch, "tf": _tf, "tf graph": _tf_graph}
FORMS = {"plan": lambda p: p, "to_dict": lambda p: p.to_dict(),
         "arrays": lambda p: {"lam": np.asarray(p.lam), "boxes": p.boxes_array(), "partner": np.asarray(p.partner),
                              "applied": np.asarray(p.applied)}}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_plan_of_another_batch_size_is_one_shape_error(layer, form):
    with pytest.raises(ShapeError) as err:
        LAYERS[layer](_images(3), np.arange(3) % K, FORMS[form](PLAN))
    assert str(err.value) == MISMATCH


def test_every_form_of_a_plan_gives_the_same_result():
    x, y = _images(4), np.arange(4) % K
    want = ref.apply(x, y, PLAN, K)
    for layer, run in LAYERS.items():
        for form, make in FORMS.items():
            mixed, targets, _ = run(x, y, make(PLAN))
            mixed = np.asarray(mixed.detach() if hasattr(mixed, "detach") else mixed)
            if layer.startswith("tf"):
                mixed = mixed.transpose(0, 3, 1, 2)
            np.testing.assert_array_equal(mixed, want[0], err_msg=f"{layer} {form}")
            np.testing.assert_allclose(np.asarray(targets), want[1], atol=1e-7, err_msg=f"{layer} {form}")


def test_plans_from_sample_tf_are_checked_too():
    plan = tfc.sample_tf(tf.constant([1, 2]), 4, 8, 6)
    with pytest.raises(ShapeError) as err:
        _tf(_images(3), np.arange(3) % K, plan)
    assert str(err.value) == MISMATCH
    with pytest.raises(ShapeError) as err:  # the same dict read by the other layers
        _numpy(_images(3), np.arange(3) % K, {k: np.asarray(v) for k, v in plan.items()})
    assert str(err.value) == MISMATCH


def test_sizes_unknown_while_tracing_are_asserted_with_the_same_wording():
    fn = tf.function(lambda a, b: tfc.cutmix_apply(a, b, PLAN, K),
                     input_signature=[tf.TensorSpec([None, 8, 6, 3]), tf.TensorSpec([None], tf.int64)])
    wording = "cutmix: expected images with the batch size, height and width of the plan"
    with pytest.raises(tf.errors.InvalidArgumentError, match=wording):
        fn(_images(3).transpose(0, 2, 3, 1), np.arange(3) % K)
    fn(_images(4).transpose(0, 2, 3, 1), np.arange(4) % K)  # the right size runs


@pytest.mark.parametrize("bad", [{"lam": [1.0]}, "plan", 3])
def test_what_is_not_a_plan(bad):
    for run in (_numpy, _torch, _tf):
        with pytest.raises(ConfigError, match="cutmix: expected a CutMixPlan or a dict with lam, boxes, partner"):
            run(_images(4), np.arange(4) % K, bad)


def test_preset_names_are_configs():
    a = spec.sample(np.random.default_rng(1), 4, 8, 8, "timm")
    b = spec.sample(np.random.default_rng(1), 4, 8, 8, spec.CutMixConfig.timm())
    assert a == b
    assert tc.CutMix(K, config="timm").config == spec.CutMixConfig.timm()
    assert tfc.CutMix(K, config="timm").config == spec.CutMixConfig.timm()
    msg = "expected a CutMixConfig or a preset name (official, cifar, paper, torchvision, timm); got 'mixup'"
    for where, make in (("cutmix.sample", lambda: spec.sample(np.random.default_rng(1), 4, 8, 8, "mixup")),
                        ("CutMix", lambda: tc.CutMix(K, config="mixup")),
                        ("CutMix", lambda: tfc.CutMix(K, config="mixup")),
                        ("sample_tf", lambda: tfc.sample_tf(tf.constant([1, 2]), 4, 8, 8, "mixup"))):
        with pytest.raises(ConfigError) as err:
            make()
        assert str(err.value) == f"{where}: {msg}"


@pytest.mark.parametrize("case", ["None", "strings", "empty"])
def test_images_that_are_not_a_batch(case):
    value, err_type, message = {
        "None": (None, DTypeError, "cutmix: expected an array of numbers; got None"),
        "strings": (np.full((4, 3, 8, 6), "x"), DTypeError, "cutmix: expected an array of numbers; got dtype str"),
        "empty": (np.zeros((0, 3, 8, 6), np.float32), ShapeError,
                  "cutmix: expected a non-empty image batch (N, C, H, W); got shape (0, 3, 8, 6)"),
    }[case]
    y = np.arange(4) % K
    for name, run in (("numpy", lambda: ref.apply(value, y, PLAN, K)),
                      ("torch", lambda: tc.cutmix_apply(value, y, PLAN, K)),
                      ("tf", lambda: tfc.cutmix_apply(value if case != "empty" else value.transpose(0, 2, 3, 1),
                                                      y, PLAN, K))):
        with pytest.raises(err_type) as err:
            run()
        assert str(err.value) == (message.replace("(N, C, H, W)", "(N, H, W, C)").replace("(0, 3, 8, 6)",
                                                                                         "(0, 8, 6, 3)")
                                  if name == "tf" else message), name


def test_transforms_refuse_an_empty_batch_alike():
    msg = "CutMix: expected a non-empty image batch"
    with pytest.raises(ShapeError, match=msg):
        tc.CutMix(K)(torch.zeros(0, 3, 8, 8), torch.zeros(0, dtype=torch.int64))
    with pytest.raises(ShapeError, match=msg):
        tfc.CutMix(K)(np.zeros((0, 8, 8, 3), np.float32), np.zeros(0, np.int64))


def test_list_images_are_arrays_everywhere():
    """Nested lists go through NumPy's rules in every layer (an int64 batch here)."""
    x = _images(4, np.int64)
    y = np.arange(4) % K
    want = ref.apply(x.tolist(), y.tolist(), PLAN, K)[0]
    assert want.dtype == np.int64
    got = tc.cutmix_apply(x.tolist(), y.tolist(), PLAN, K)[0]
    np.testing.assert_array_equal(got.numpy(), want)
    got = tfc.cutmix_apply(x.transpose(0, 2, 3, 1).tolist(), y.tolist(), PLAN, K)[0]
    np.testing.assert_array_equal(np.asarray(got).transpose(0, 3, 1, 2), want)


def test_transform_errors_name_the_transform():
    """``where`` is the entry point the user called: the transform, not the function it calls."""
    msg = "CutMix: expected class labels in [0, 5); got labels in [0, 7]"
    for call in (lambda: tc.CutMix(K)(torch.zeros(2, 3, 4, 4), torch.tensor([0, 7])),
                 lambda: tfc.CutMix(K)(np.zeros((2, 4, 4, 3), np.float32), np.array([0, 7]))):
        with pytest.raises(ValueError) as err:
            call()
        assert str(err.value) == msg
