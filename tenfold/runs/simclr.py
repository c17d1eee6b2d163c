"""SimCLR on scikit-learn's digits: pre-train a small encoder, then linear probes against two baselines.

``tenfold train simclr-digits [--backend torch|tf] [--epochs 60] [--seeds 3]``

For each seed: a stratified 80/20 split of the 1797 8 x 8 digits; an MLP
encoder (64 -> 512 -> 256, Dense + BatchNorm + ReLU) with the SimCLR v1
projection head (256 -> 256 -> 64, :mod:`tenfold.spec.simclr.head`) is
pre-trained on the training images alone with NT-Xent (official reduction,
tau 0.5 as the official CIFAR-10 recipe), LARS (official exclusions, learning rate ``base * B / 256``, linear
warm-up then cosine) and the SimCLR augmentation (:mod:`tenfold.spec.simclr.augment`,
on the digits replicated to RGB). Then a logistic regression is fitted on
frozen, standardised 256-d features of the training split and scored on the
test split, next to the same probe on the raw 64 pixels and on the features
of the same encoder left at its random initialisation. The table reports the
mean and standard deviation of test accuracy over the seeds.

Recipe choices for 8 x 8 digits (not the ImageNet recipe, which destroys
digits at this size): crops of 50-100% of the image (official
``min_object_covered`` keeps >= 10%), no flips (mirror images of digits are
other glyphs), colour strength 0.5 (brightness and contrast; saturation and
hue do nothing to gray), no blur (the official kernel of H // 10 taps is 0 at H = 8).

Needs the ``data`` extra (scikit-learn). Prints one progress line per 10 epochs.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import time

import numpy as np

NAMES = {"simclr-digits": {}}

ENCODER = (64, 512, 256)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("torch", "tf"), default="torch")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=4.0, help="LARS base learning rate per 256 examples")
    parser.add_argument("--temperature", type=float, default=0.5, help="0.5 as the CIFAR-10 recipe")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def _augment_config():
    from tenfold.spec.simclr.augment import AugmentConfig

    return AugmentConfig(area_range=(0.5, 1.0), flip_p=0.0, strength=0.5, blur_p=0.0)


def _load(seed: int):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)  # (n, 8, 8) in [0, 1]
    return train_test_split(x, digits.target, test_size=0.2, stratify=digits.target, random_state=seed)


def _probe(train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train)
    clf = LogisticRegression(max_iter=3000).fit(scaler.transform(train), y_train)
    return float(clf.score(scaler.transform(test), y_test))


def _schedule(step: int, total: int, args) -> float:
    from tenfold.spec.simclr.lars import learning_rate

    return learning_rate(step, total, max(total // 10, 1), args.lr, args.batch_size)


# -- PyTorch -------------------------------------------------------------------------

def _torch_run(x_train: np.ndarray, seed: int, args, log) -> tuple:
    import torch
    from torch import nn

    from tenfold.spec.simclr import HeadConfig, LARSConfig
    from tenfold.spec.simclr import augment as spec_aug
    from tenfold.torch_backend.simclr import LARS, ProjectionHead, apply, nt_xent

    torch.set_num_threads(1)  # tiny tensors: thread hand-offs cost more than they save (and the CPU is shared)
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Flatten()]
    for d_in, d_out in itertools.pairwise(ENCODER):
        layers += [nn.Linear(d_in, d_out, bias=False), nn.BatchNorm1d(d_out, eps=1e-5, momentum=0.1), nn.ReLU()]
    encoder = nn.Sequential(*layers)
    random_encoder = copy.deepcopy(encoder).eval()  # the same initial weights, never trained
    head = ProjectionHead(HeadConfig.v1(in_dim=ENCODER[-1], out_dim=64))
    # BatchNorm parameters carry "bn"/"batch_normalization" in no name here: exclude rank-1 tensors instead.
    params = [(f"encoder.{n}", p) for n, p in encoder.named_parameters()] + \
             [(f"head.{n}", p) for n, p in head.named_parameters()]
    opt = LARS(params, config=LARSConfig.torch_idiom())
    rng = np.random.default_rng(seed)
    images = torch.from_numpy(np.repeat(x_train[:, None], 3, axis=1))  # (n, 3, 8, 8)
    b = args.batch_size
    steps_per_epoch = len(images) // b
    total = args.epochs * steps_per_epoch
    config = _augment_config()
    step = 0
    for epoch in range(args.epochs):
        order = torch.from_numpy(rng.permutation(len(images)))
        losses = []
        for i in range(steps_per_epoch):
            batch = images[order[i * b:(i + 1) * b]]
            v1, v2 = (apply(spec_aug.sample(rng, b, 8, 8, 8, 8, config), batch).mean(dim=1) for _ in range(2))
            for group in opt.param_groups:
                group["lr"] = _schedule(step, total, args)
            loss = nt_xent(head(encoder(v1)), head(encoder(v2)), args.temperature)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            step += 1
        log(epoch, float(np.mean(losses)))
    encoder.eval()

    def features(model, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    return lambda x: features(encoder, x), lambda x: features(random_encoder, x)


# -- TensorFlow ------------------------------------------------------------------------

def _tf_run(x_train: np.ndarray, seed: int, args, log) -> tuple:
    import keras
    import tensorflow as tf

    from tenfold.spec.simclr import HeadConfig, LARSConfig
    from tenfold.spec.simclr import augment as spec_aug
    from tenfold.tf_backend.simclr import LARS, ProjectionHead, apply, nt_xent, plan_tensors

    keras.utils.set_random_seed(seed)
    try:  # tiny tensors: one thread (possible only before TensorFlow starts its pools)
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass

    def make_encoder(name: str):
        layers = [keras.Input((ENCODER[0],))]
        for d in ENCODER[1:]:
            layers += [keras.layers.Dense(d, use_bias=False), keras.layers.BatchNormalization(momentum=0.9,
                                                                                              epsilon=1e-5),
                       keras.layers.ReLU()]
        return keras.Sequential(layers, name=name)

    encoder = make_encoder("encoder")
    random_encoder = make_encoder("random_encoder")
    random_encoder.set_weights(encoder.get_weights())
    head = ProjectionHead(HeadConfig.v1(in_dim=ENCODER[-1], out_dim=64))
    opt = LARS(config=LARSConfig.torch_idiom())
    variables = encoder.trainable_variables + head.trainable_variables
    opt.build(variables)
    config = _augment_config()
    rng = np.random.default_rng(seed)
    images = np.repeat(x_train[..., None], 3, axis=-1)  # (n, 8, 8, 3)
    b = args.batch_size
    steps_per_epoch = len(images) // b
    total = args.epochs * steps_per_epoch

    @tf.function(reduce_retracing=True)
    def train_step(batch, p1, p2, lr):
        with tf.GradientTape() as tape:
            z = [head(encoder(tf.reshape(tf.reduce_mean(apply(p, batch, config), axis=-1), (b, 64)), training=True),
                      training=True) for p in (p1, p2)]
            loss = nt_xent(z[0], z[1], args.temperature)
        opt.learning_rate.assign(lr)
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    step = 0
    for epoch in range(args.epochs):
        order = rng.permutation(len(images))
        losses = []
        for i in range(steps_per_epoch):
            batch = tf.constant(images[order[i * b:(i + 1) * b]])
            plans = [plan_tensors(spec_aug.sample(rng, b, 8, 8, 8, 8, config)) for _ in range(2)]
            losses.append(float(train_step(batch, *plans, tf.constant(_schedule(step, total, args), tf.float32))))
            step += 1
        log(epoch, float(np.mean(losses)))

    def features(model, x: np.ndarray) -> np.ndarray:
        return np.asarray(model(x.reshape(len(x), 64), training=False))

    return lambda x: features(encoder, x.reshape(len(x), 64)), lambda x: features(random_encoder, x)


def run(args: argparse.Namespace) -> int:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("tenfold train simclr-digits needs scikit-learn (pip install 'tenfold[data]')")
        return 2
    train_fn = _torch_run if args.backend == "torch" else _tf_run
    results: dict[str, list[float]] = {"raw pixels": [], "random encoder": [], f"SimCLR encoder ({args.backend})": []}
    start = time.perf_counter()
    for seed in range(args.seeds):
        x_train, x_test, y_train, y_test = _load(seed)

        def log(epoch: int, loss: float, seed=seed) -> None:
            if not args.quiet and ((epoch + 1) % 10 == 0 or epoch == 0):
                print(f"seed {seed} epoch {epoch + 1:>3}/{args.epochs} NT-Xent {loss:.4f} "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)

        trained, random_init = train_fn(x_train, seed, args, log)
        flat_train, flat_test = x_train.reshape(len(x_train), 64), x_test.reshape(len(x_test), 64)
        results["raw pixels"].append(_probe(flat_train, y_train, flat_test, y_test))
        results["random encoder"].append(_probe(random_init(flat_train), y_train, random_init(flat_test), y_test))
        name = f"SimCLR encoder ({args.backend})"
        results[name].append(_probe(trained(flat_train), y_train, trained(flat_test), y_test))
        print(f"seed {seed}: " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in results.items()), flush=True)
    print(f"\nlinear probe, test accuracy over {args.seeds} seeds (mean ± std), {time.perf_counter() - start:.0f} s")
    for k, v in results.items():
        print(f"  {k:<24} {np.mean(v):.4f} ± {np.std(v):.4f}")
    return 0


__all__ = ["NAMES", "add_arguments", "run"]
