"""RAdam in Keras/TensorFlow: errors, serialisation, model.fit, GradientTape loops, mixed precision."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tenfold.numpy_ref import radam as ref
from tenfold.spec import radam as spec
from tenfold.spec.errors import ConfigError, DTypeError, TenfoldError
from tenfold.tf_backend.radam import RAdam

C = spec.RAdamConfig


@pytest.mark.parametrize("kwargs", [{"learning_rate": -1.0}, {"beta_1": 1.0}, {"beta_2": 0.0}, {"epsilon": -1.0},
                                    {"weight_decay": -0.1}, {"early": "adam"}, {"eps_mode": "inside"}])
def test_bad_hyperparameters_raise_config_error(kwargs):
    with pytest.raises(ConfigError, match="expected"):
        RAdam(**kwargs)


def test_integer_variable_raises_dtype_error():
    with pytest.raises(DTypeError, match="floating-point"):
        RAdam().build([tf.Variable([1, 2])])


def test_sparse_gradient_raises_a_clear_error():
    v = tf.Variable(tf.zeros((4, 2)))
    grad = tf.IndexedSlices(tf.ones((1, 2)), tf.constant([1]), tf.constant([4, 2]))
    with pytest.raises(TenfoldError, match="dense gradient"):
        RAdam().apply_gradients([(grad, v)])


@pytest.mark.parametrize("preset", C.PRESETS)
def test_get_config_round_trip(preset):
    opt = RAdam(config=C.preset(preset).replace(weight_decay=0.01), learning_rate=0.02)
    # Keras writes the learning rate from its float32 variable, so it comes back rounded to float32
    for again in (RAdam.from_config(opt.get_config()),
                  keras.optimizers.deserialize(keras.optimizers.serialize(opt))):
        assert isinstance(again, RAdam)
        assert again.config.replace(lr=0.02) == opt.config
        assert float(again.learning_rate) == float(opt.learning_rate) == float(np.float32(0.02))


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")
    return x, y


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    return model


def test_model_fit_equals_a_gradient_tape_loop():
    x, y = _data()
    config = C.paper().replace(lr=0.05, weight_decay=0.01)
    fit_model = _model()
    loop_model = _model()
    loop_model.set_weights(fit_model.get_weights())
    fit_model.compile(optimizer=RAdam(config=config), loss="mse")
    history = fit_model.fit(x, y, batch_size=16, epochs=8, shuffle=False, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]

    opt = RAdam(config=config)
    mse = keras.losses.MeanSquaredError()
    for _ in range(8):
        with tf.GradientTape() as tape:
            loss = mse(y, loop_model(x, training=True))
        grads = tape.gradient(loss, loop_model.trainable_variables)
        opt.apply_gradients(zip(grads, loop_model.trainable_variables, strict=True))
    for a, b in zip(fit_model.get_weights(), loop_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_gradient_tape_loop_follows_the_reference():
    rng = np.random.default_rng(2)
    p0 = rng.normal(size=(3, 2))
    grads = rng.normal(size=(9, 3, 2))
    v = tf.Variable(p0)
    config = C.official().replace(lr=0.05)
    opt = RAdam(config=config)
    rp, st = {"v": p0}, ref.init_state({"v": p0})
    rconfig = config.replace(lr=float(np.float32(0.05)))  # Keras keeps lr in float32
    for g in grads:
        opt.apply_gradients([(tf.constant(g), v)])
        rp, st = ref.step(rp, {"v": g}, st, rconfig)
    np.testing.assert_allclose(v.numpy(), rp["v"], rtol=1e-12, atol=1e-14)


def test_loss_scale_optimizer_under_mixed_precision():
    x, y = _data()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = _model(1)
        plain = _model(1)
        plain.set_weights(model.get_weights())
        assert model.layers[0].compute_dtype == "float16"
        config = C.torch().replace(lr=0.05)
        scaled_opt = keras.optimizers.LossScaleOptimizer(RAdam(config=config))
        plain_opt = RAdam(config=config)
        mse = keras.losses.MeanSquaredError()
        for _ in range(8):
            with tf.GradientTape() as tape:
                loss = mse(y, tf.cast(model(x), "float32"))
                scaled = scaled_opt.scale_loss(loss)
            grads = tape.gradient(scaled, model.trainable_variables)
            scaled_opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            with tf.GradientTape() as tape:
                loss = mse(y, tf.cast(plain(x), "float32"))
            grads = tape.gradient(loss, plain.trainable_variables)
            plain_opt.apply_gradients(zip(grads, plain.trainable_variables, strict=True))
        # the loss scale is a power of two, so unscaling is exact up to float16 rounding of the backward pass
        for a, b in zip(model.get_weights(), plain.get_weights(), strict=True):
            assert np.all(np.isfinite(a))
            np.testing.assert_allclose(a, b, rtol=2e-2, atol=2e-3)
        model.compile(optimizer=keras.optimizers.LossScaleOptimizer(RAdam(config=config)), loss="mse")
        before = [w.copy() for w in model.get_weights()]
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        after = model.get_weights()
        assert all(np.all(np.isfinite(w)) for w in after)
        assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    finally:
        keras.mixed_precision.set_global_policy("float32")
