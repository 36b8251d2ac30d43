#!/usr/bin/env python3
"""Train a 2-bit-activation, 1-bit-weight CNN on scikit-learn's digits, export
it to bitserial MLIR, compile and run it, and check it against its integer
simulation.

    PYTHONPATH=build/python examples/torch/digits.py -o build/torch   # about 10 s on one core
    PYTHONPATH=build/python examples/torch/digits.py -o /tmp/d --epochs 3  # the test's configuration

The model is compiled and run in-process with ``bitserial.compile`` (the
package of the build tree, which has the compiled extension); with
``--runner build/bin/bitserial-run`` it runs in that tool instead (a build
without the extension).

The network (8x8 grey images, 0..16):
    QuantInput (8-bit codes of the pixel values, scale 1)
    QuantConv2d 1 -> 16, 3x3, pad 1, 8-bit signed weights   + BN + QuantAct 2-bit
    QuantConv2d 16 -> 32, 3x3, pad 1, 1-bit weights         + BN + QuantAct 2-bit + MaxPool 2
    QuantConv2d 32 -> 64, 3x3, pad 1, 1-bit weights         + BN + QuantAct 2-bit + MaxPool 2
    Flatten, QuantLinear 256 -> 10, 1-bit weights           + BN -> float scores

Prints the test accuracy of the float (fake-quantized) model, of the integer
simulation and of the compiled model, and fails (exit code 1) unless the
compiled scores equal the simulation's bit for bit on every test image and
the compiled accuracy reaches --min-accuracy.
"""

import argparse
import os
import sys
import time

import numpy as np

try:
    import bitserial  # noqa: F401  (PYTHONPATH=build/python: with the extension)
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "python"))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import bitserial.torch as bt  # noqa: E402


def load_data(seed=0):
    """The 1797 digits, a fixed stratified 80/20 split: NCHW float32 images."""
    digits = load_digits()
    x = digits.images.astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)


def build_model(abits=2, aenc="unsigned", wbits=1, wenc="bipolar"):
    def block(cin, cout, pool, first=False):
        layers = [bt.QuantConv2d(cin, cout, 3, padding=1,
                                 weight_bits=8 if first else wbits,
                                 weight_encoding="signed" if first else wenc),
                  nn.BatchNorm2d(cout), bt.QuantAct(abits, aenc, scale=0.5)]
        return layers + ([nn.MaxPool2d(2)] if pool else [])

    return nn.Sequential(
        bt.QuantInput(scale=1.0),
        *block(1, 16, False, first=True),
        *block(16, 32, True),
        *block(32, 64, True),
        nn.Flatten(),
        bt.QuantLinear(64 * 2 * 2, 10, weight_bits=wbits, weight_encoding=wenc),
        nn.BatchNorm1d(10),
    )


def train(model, x, y, epochs, seed=0, batch=64, lr=0.01):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(epochs, 1))
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    return model


def run_compiled(mlir_path, images, runner=None):
    """Compiles and runs the exported model on NHWC float32 images -> scores:
    with bitserial.compile, or in `runner` (bitserial-run) if given."""
    if runner:
        return bt.run_compiled(mlir_path, images, runner)
    import bitserial
    return bitserial.compile(mlir_path)(images)


def identical_rows(compiled, sim):
    """How many images' scores are bit-identical (0 on a dtype or shape mismatch)."""
    if compiled.dtype != sim.dtype or compiled.shape != sim.shape:
        return 0
    return int((compiled.view(np.uint32) == sim.view(np.uint32)).all(axis=1).sum())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-o", "--out", required=True, help="directory for digits.mlir")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-accuracy", type=float, default=0.0,
                   help="fail unless the compiled model's test accuracy reaches this")
    p.add_argument("--self-test", action="store_true",
                   help="also show that a one-ulp change of one compiled score is rejected")
    p.add_argument("--runner", help="run the model in this bitserial-run instead of "
                   "in-process with bitserial.compile")
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    x_train, x_test, y_train, y_test = load_data(args.seed)
    model = build_model()
    t0 = time.process_time()
    train(model, x_train, y_train, args.epochs, args.seed)
    t_train = time.process_time() - t0

    xt = torch.from_numpy(x_test)
    with torch.no_grad():
        float_scores = model(xt).numpy()
    program = bt.lower(model, xt)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "digits.mlir")
    with open(path, "w") as f:
        f.write(program.text)
    sim = program.simulate(xt).numpy()
    t0 = time.time()
    compiled = run_compiled(path, bt.to_function_input(xt), args.runner)
    t_run = time.time() - t0

    def acc(scores):
        return float((scores.argmax(axis=1) == y_test).mean())

    n = len(y_test)
    print(f"digits: {len(y_train)} training, {n} test images; {args.epochs} epochs in "
          f"{t_train:.1f} s of CPU time")
    print(f"test accuracy: float {acc(float_scores):.4f}, integer simulation {acc(sim):.4f}, "
          f"compiled {acc(compiled):.4f}")
    agree = int((float_scores.argmax(1) == sim.argmax(1)).sum())
    print(f"float vs integer simulation: same class on {agree}/{n} images")
    exact = identical_rows(compiled, sim)
    print(f"compiled vs integer simulation: {exact}/{n} images bit-identical "
          f"(compile and run {t_run:.1f} s)")
    numpy_same = (program.example_output.view(np.uint32) == sim.view(np.uint32)).all()
    print(f"NumPy evaluation of the graph vs integer simulation: "
          f"{'bit-identical' if numpy_same else 'DIFFERENT'}")
    if args.self_test:
        bad = compiled.copy()
        bad[n // 2, 3] = np.nextafter(bad[n // 2, 3], np.float32(np.inf))
        print(f"self-test: one score one ulp off: {identical_rows(bad, sim)}/{n} images "
              f"bit-identical, {'rejected' if identical_rows(bad, sim) != n else 'ACCEPTED'}")
    if exact != n or not numpy_same:
        print("FAIL: the compiled model differs from its integer simulation")
        return 1
    if acc(compiled) < args.min_accuracy:
        print(f"FAIL: compiled accuracy {acc(compiled):.4f} < {args.min_accuracy}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
