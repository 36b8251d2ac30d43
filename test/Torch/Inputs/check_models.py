"""Random quantized PyTorch models exported with bitserial.torch, compiled with
bitserial-run and compared exactly with the integer simulation (PyTorch int64)
and with the NumPy evaluation of the exported graph (bitserial.reference).

Also checks the folding itself: the codes of every QuantAct in the float
(fake-quantized) model must equal the simulation's threshold codes except
within float32 rounding of a threshold (at most 0.1% of the codes), and every
layer must use at least two code levels (no vacuous comparisons).

    check_models.py OUTDIR --runner build/bin/bitserial-run [--only NAME] [--self-test]
"""

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import bitserial.torch as bt
from bitserial import models


class Functional(nn.Module):
    """Functional relu and flatten, and a conv with its own input quantizer."""

    def __init__(self):
        super().__init__()
        self.inp = bt.QuantInput(1.0 / 255.0)
        self.c1 = bt.QuantConv2d(2, 5, 5, padding=2, weight_bits=2, weight_encoding="bipolar")
        self.bn1 = nn.BatchNorm2d(5)
        self.c2 = bt.QuantConv2d(5, 3, 1, weight_bits=1, weight_encoding="bipolar",
                                 input_bits=2, input_encoding="unsigned", input_scale=0.7)
        self.bn2 = nn.BatchNorm2d(3)
        self.q = bt.QuantAct(1, "bipolar", learn_scale=False)
        self.fc = bt.QuantLinear(3 * 6 * 6, 4, bias=True, weight_bits=3, weight_encoding="signed")

    def forward(self, x):
        x = F.relu(self.bn1(self.c1(self.inp(x))))
        x = self.q(self.bn2(self.c2(x)))
        return self.fc(torch.flatten(x, 1))


def conv_net(cin, hw, layers, head=10, head_bits=(1, "bipolar")):
    """layers: (cout, k, stride, pad, (wbits, wenc), (abits, aenc), extras), extras
    a string of 'r' (ReLU), 'h' (Hardtanh -0.45..1.3), 'p' (max pool 2 before the
    quantizer), 'P' (max pool 2 after it), 'm' (3x3/2 pad-1 max pool), 'b' (bias)."""
    mods = [bt.QuantInput(1.0 / 255.0)]
    c = cin
    for cout, k, s, p, (wb, we), (ab, ae), extras in layers:
        mods.append(bt.QuantConv2d(c, cout, k, stride=s, padding=p, bias="b" in extras,
                                   weight_bits=wb, weight_encoding=we))
        hw = (hw + 2 * p - k) // s + 1
        if "p" in extras:
            mods.append(nn.MaxPool2d(2))
            hw //= 2
        mods.append(nn.BatchNorm2d(cout))
        if "r" in extras:
            mods.append(nn.ReLU())
        if "h" in extras:
            mods.append(nn.Hardtanh(-0.45, 1.3))
        mods.append(bt.QuantAct(ab, ae, scale=0.6 if ab > 1 else 1.0))
        if "P" in extras:
            mods.append(nn.MaxPool2d(2))
            hw //= 2
        if "m" in extras:
            mods.append(nn.MaxPool2d(3, stride=2, padding=1))
            hw = (hw + 2 - 3) // 2 + 1
        c = cout
    mods += [nn.Flatten(), bt.QuantLinear(c * hw * hw, head, weight_bits=head_bits[0],
                                          weight_encoding=head_bits[1]), nn.BatchNorm1d(head)]
    return nn.Sequential(*mods)


def mlp():
    return nn.Sequential(nn.Flatten(), bt.QuantInput(1.0 / 255.0),
                         bt.QuantLinear(64, 33, bias=True, weight_bits=2, weight_encoding="signed"),
                         nn.BatchNorm1d(33), bt.QuantAct(2, "bipolar", scale=0.5),
                         bt.QuantLinear(33, 17, weight_bits=1, weight_encoding="bipolar"),
                         nn.BatchNorm1d(17), nn.ReLU(), bt.QuantAct(3, "unsigned", scale=0.3),
                         bt.QuantLinear(17, 10, weight_bits=4, weight_encoding="signed"))


def requant():
    """An 8-bit quantizer after a 1x1 binary layer (no offsets, an accumulator
    step of several codes): bitserial.requantize. The 6-bit one after it has
    a finer accumulator and stays thresholds."""
    return nn.Sequential(
        bt.QuantInput(1.0 / 255.0),
        bt.QuantConv2d(3, 5, 3, padding=1, weight_bits=2, weight_encoding="signed"),
        nn.BatchNorm2d(5), bt.QuantAct(2, "unsigned", scale=0.6),
        bt.QuantConv2d(5, 6, 1, weight_bits=1, weight_encoding="bipolar"), nn.MaxPool2d(2),
        bt.QuantAct(8, "signed", scale=0.02),
        bt.QuantConv2d(6, 4, 1, weight_bits=1, weight_encoding="bipolar"),
        nn.ReLU(), bt.QuantAct(6, "unsigned", scale=0.03),
        nn.Flatten(), bt.QuantLinear(4 * 4 * 4, 10), nn.BatchNorm1d(10))


def gap():
    """Global average pooling between a conv's batch norm and another batch
    norm: a sum pool, the mean's 1 / (H W) folded into the thresholds."""
    return nn.Sequential(
        bt.QuantInput(1.0 / 255.0),
        bt.QuantConv2d(3, 7, 3, padding=1, weight_bits=2, weight_encoding="signed"),
        nn.BatchNorm2d(7), bt.QuantAct(2, "unsigned", scale=0.6),
        bt.QuantConv2d(7, 9, 3, weight_bits=1, weight_encoding="bipolar"),
        nn.BatchNorm2d(9), nn.AdaptiveAvgPool2d(1), nn.BatchNorm2d(9),
        bt.QuantAct(3, "signed", scale=0.5), nn.Flatten(), bt.QuantLinear(9, 10),
        nn.BatchNorm1d(10))


U, S, B = "unsigned", "signed", "bipolar"
CASES = {
    # name: (model, input shape [N, C, H, W], output kind, extra runner strategies)
    "a2u-w1b": (lambda: conv_net(3, 9, [(5, 3, 1, 1, (1, B), (2, U), "r"),
                                        (7, 3, 2, 0, (1, B), (2, U), "b")]),
                (6, 3, 9, 9), "scores", ["--strategy=reference"]),
    "a3s-w2s-pool-codes": (lambda: conv_net(2, 10, [(7, 3, 1, 1, (2, S), (3, S), "hP"),
                                                   (5, 3, 1, 1, (2, S), (3, S), "m")]),
                           (5, 2, 10, 10), "scores", ["--tile", "--num-threads=2"]),
    "a1b-w3b-pool-acc": (lambda: conv_net(1, 8, [(9, 3, 1, 1, (3, B), (1, B), "p"),
                                                 (3, 3, 2, 1, (3, B), (1, B), "")]),
                         (4, 1, 8, 8), "scores", ["--strategy=reference"]),
    "a3u-w2u-logits": (lambda: conv_net(3, 7, [(7, 3, 2, 1, (2, U), (3, U), "rb"),
                                               (3, 2, 1, 0, (2, U), (3, U), "")], head=5,
                                        head_bits=(2, U)),
                       (3, 3, 7, 7), "logits", []),
    "a4s-w4b": (lambda: conv_net(1, 6, [(5, 3, 1, 0, (4, B), (4, S), ""),
                                        (64, 1, 1, 0, (4, B), (4, S), "r")], head_bits=(4, B)),
                (2, 1, 6, 6), "scores", []),
    "mlp": (mlp, (5, 1, 8, 8), "scores", []),
    "functional": (Functional, (3, 2, 6, 6), "scores", []),
    "global-avg-pool": (gap, (5, 3, 7, 7), "scores", []),
    "requantize": (requant, (4, 3, 9, 9), "scores", ["--strategy=reference"],
                   {"requantize_bits": 5}),
}


def calibrate(model, shape, gen):
    """Batch-norm statistics from data, then random signs and offsets (so some
    channels count downwards)."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.momentum = None
            m.reset_running_stats()
    model.train()
    with torch.no_grad():
        model(torch.rand((64,) + shape[1:], generator=gen))
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                c = m.num_features
                sign = torch.where(torch.rand(c, generator=gen) < 0.3, -1.0, 1.0)
                m.weight.copy_(sign * (0.5 + torch.rand(c, generator=gen)))
                m.bias.copy_(torch.rand(c, generator=gen) - 0.5)
    model.eval()


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        return bool((a.view(np.uint32) == b.view(np.uint32)).all())
    return bool((a == b).all())


def quant_codes(model, x):
    """Each QuantAct's integer values in the float model (NCHW)."""
    out = {}
    hooks = []
    for name, m in model.named_modules():
        if isinstance(m, bt.QuantAct):
            def hook(mod, inp, res, name=name):
                out[name] = torch.round(res / mod.effective_scale()).long()
            hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        scores = model(x)
    for h in hooks:
        h.remove()
    return out, scores


def check(name, outdir, runner, seed):
    make, shape, output, strategies, *options = CASES[name]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = make()
    calibrate(model, shape, gen)
    x = torch.rand(shape, generator=gen)
    program = bt.lower(model, x, output=output, **(options[0] if options else {}))
    path = os.path.join(outdir, name + ".mlir")
    with open(path, "w") as f:
        f.write(program.text)
    values = program.simulate(x, all_values=True)
    sim = values[program.graph["results"][0]]
    sim = sim.numpy().astype(np.int32) if output == "logits" else sim.numpy()
    problems = []
    if not same(program.evaluate_numpy(x), sim):
        problems.append("NumPy evaluation != simulation")
    # simulate_integer lowers with a batch of one and runs any batch.
    again = bt.simulate_integer(model, x, output=output, **(options[0] if options else {}))
    if not same(again.numpy().astype(sim.dtype), sim):
        problems.append("simulate_integer != Program.simulate")
    # Folding: the float model's codes against the simulation's thresholds.
    codes, scores = quant_codes(model, x)
    total = differ = 0
    levels = []
    for q, nodes in program.quant_nodes.items():
        fq = codes[q]
        fq = fq.permute(0, 2, 3, 1) if fq.dim() == 4 else fq
        if fq.dim() == 4 and fq.shape[1:3] == (1, 1):  # global pooling: [N, C]
            fq = fq.reshape(fq.shape[0], fq.shape[3])
        for node in nodes:
            v = values[node]
            if tuple(v.shape) == tuple(fq.shape):
                total += v.numel()
                differ += int((v != fq).sum())
                levels.append(len(torch.unique(v)))
                break
        else:
            problems.append(f"no codes of {q} to compare")
    if differ > total // 1000:
        problems.append(f"{differ} of {total} codes differ from the float model")
    if not levels or min(levels) < 2:
        problems.append(f"degenerate codes (levels per layer: {levels})")
    runs = [[]] + [[s] for s in strategies]
    for extra in runs:
        got = bt.run_compiled(path, bt.to_function_input(x), runner=runner, extra_args=extra)
        if not same(got, sim):
            problems.append(f"compiled ({' '.join(extra) or 'default'}) != simulation: "
                            f"{models.compare(sim, got)}")
    agree = ""
    if output == "scores":
        same_class = int((scores.argmax(1).numpy() == sim.argmax(1)).sum())
        agree = f"; float argmax {same_class}/{len(sim)}"
    status = "FAIL " + "; ".join(problems) if problems else "ok"
    print(f"{name}: {status}: {sim.dtype} {list(sim.shape)} compiled == simulation "
          f"({len(runs)} lowerings); float codes {total - differ}/{total}, levels >= "
          f"{min(levels) if levels else 0}{agree}")
    return not problems


def self_test():
    """The exact comparison rejects a one-ulp change and a one-unit change."""
    a = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    b = a.copy()
    b[2, 3] = np.nextafter(b[2, 3], np.float32(2))
    i = np.arange(12, dtype=np.int32).reshape(3, 4)
    j = i.copy()
    j[0, 0] += 1
    print(f"self-test: one ulp {'rejected' if not same(a, b) else 'ACCEPTED'}, "
          f"one unit {'rejected' if not same(i, j) else 'ACCEPTED'}, "
          f"unchanged {'accepted' if same(a, a.copy()) and same(i, i.copy()) else 'REJECTED'}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("--runner", required=True)
    p.add_argument("--only", action="append")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--self-test", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.self_test:
        self_test()
        return 0
    os.makedirs(args.outdir, exist_ok=True)
    ok = True
    for name in args.only or CASES:
        ok &= check(name, args.outdir, args.runner, args.seed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
