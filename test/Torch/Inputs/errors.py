"""Models the exporter rejects: each prints one ExportError line naming the node."""

import torch
import torch.nn as nn

import bitserial.torch as bt


class Add(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = bt.QuantInput()
        self.c = bt.QuantConv2d(1, 2, 3)

    def forward(self, x):
        y = self.c(self.q(x))
        return y + y


class Branchy(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


def conv(**kw):
    return bt.QuantConv2d(1, 3, 3, **kw)


def neg_bn(c):
    bn = nn.BatchNorm2d(c)
    with torch.no_grad():
        bn.weight.fill_(-1.0)
    return bn


CASES = {
    "float-conv": lambda: nn.Sequential(bt.QuantInput(), nn.Conv2d(1, 3, 3)),
    "sigmoid-module": lambda: nn.Sequential(bt.QuantInput(), conv(), nn.Sigmoid()),
    "sigmoid-function": lambda: SigmoidHead(),
    "add": Add,
    "untraceable": Branchy,
    "act-on-float": lambda: nn.Sequential(bt.QuantAct(2), conv()),
    "bn-on-codes": lambda: nn.Sequential(bt.QuantInput(), nn.BatchNorm2d(1)),
    "output-codes": lambda: nn.Sequential(bt.QuantInput(), conv(), bt.QuantAct(2)),
    "requantize-codes": lambda: nn.Sequential(bt.QuantInput(), conv(), bt.QuantAct(2),
                                              bt.QuantAct(3)),
    "non-square-stride": lambda: nn.Sequential(bt.QuantInput(), conv(stride=(2, 1))),
    "relu-after-last": lambda: nn.Sequential(bt.QuantInput(), conv(), bt.QuantAct(2), nn.Flatten(),
                                             bt.QuantLinear(3 * 36, 2), nn.ReLU()),
    "linear-unflattened": lambda: nn.Sequential(bt.QuantInput(), conv(), bt.QuantAct(2),
                                                bt.QuantLinear(6, 2)),
    "avg-pool-after-relu": lambda: nn.Sequential(
        bt.QuantInput(), conv(), nn.ReLU(), nn.AdaptiveAvgPool2d(1), bt.QuantAct(2),
        nn.Flatten(), bt.QuantLinear(3, 2)),
    "pool-between-negative": lambda: nn.Sequential(
        bt.QuantInput(), conv(), neg_bn(3), nn.MaxPool2d(2), neg_bn(3), bt.QuantAct(2),
        nn.Flatten(), bt.QuantLinear(27, 2)),
}


class SigmoidHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = bt.QuantInput()
        self.c = conv()

    def forward(self, x):
        return torch.sigmoid(self.c(self.q(x)))


def main():
    torch.manual_seed(0)
    x = torch.rand(2, 1, 8, 8)
    for name, make in CASES.items():
        try:
            bt.export(make(), x)
            print(f"{name}: EXPORTED")
        except bt.ExportError as e:
            print(f"{name}: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
