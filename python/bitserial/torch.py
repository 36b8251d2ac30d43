"""PyTorch quantization-aware training layers and an exporter to bitserial MLIR.

Layers (fake quantization in float, straight-through gradients):

* ``QuantInput(scale)``: the float network input to 8-bit unsigned codes,
  ``clamp(round_half_even(x / scale), 0, 255)`` (the ``quantize_u8`` step of
  ``bitserial.models``);
* ``QuantAct(bits, encoding, scale, learn_scale)``: k-bit activation codes.
  With ``value = a * count + b`` (unsigned ``a = 1, b = 0``; signed ``a = 1,
  b = -2^(k-1)``; bipolar ``a = 2, b = -(2^k - 1)``) the code's count is
  ``clamp(floor((x / s - b) / a + 1/2), 0, 2^k - 1)``: the number of midpoints
  ``s * (a * (i - 1/2) + b)``, ``i = 1 .. 2^k - 1``, that ``x`` reaches (ties
  go up), and the output is ``s * value``. The gradient is the clipped
  identity (zero where the clamp is active), and the scale ``s`` (``|scale|``)
  is learned LSQ-style when ``learn_scale``;
* ``QuantConv2d`` / ``QuantLinear``: ``nn.Conv2d`` / ``nn.Linear`` with
  k-bit weights of any encoding and a per-output-channel scale (``mean |w|``
  for 1-bit weights, ``max |w| / max |value|`` otherwise), and optionally
  their own input quantizer (``input_bits=...``). Weight gradients are the
  straight-through identity, clipped to ``|w| <= 1`` for 1-bit weights
  (Larq's ``ste_sign``).

``export(model, example_input, path)`` traces the model with ``torch.fx`` and
emits one MLIR function (``bitserial.models.Builder``): ``bitserial.conv2d``
and ``bitserial.matmul`` with packed constant weights; everything between a
layer's integer accumulator and the next quantizer (scales, bias, batch norm,
ReLU / Hardtanh clamps, a max pool) folds into the exact integer thresholds
of ``bitserial.threshold``; the output layer's affine map becomes
``bitserial.dequantize``. ``lower`` returns the same as a ``Program`` whose
``simulate(x)`` runs the folded integer network in PyTorch (int64 tensors);
``simulate_integer(model, x)`` is the one-call form. The compiled function
and the simulation agree exactly (f32 scores bit for bit). See docs/torch.md.
"""

import math
import os
import subprocess
import tempfile
from fractions import Fraction

import numpy as np
import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F

from . import models as _models

__all__ = [
    "QuantInput", "QuantAct", "QuantConv2d", "QuantLinear", "quantize_weight",
    "fake_quantize", "ExportError", "Program", "lower", "export", "simulate_integer",
    "to_function_input", "run_compiled",
]

ENCODINGS = ("unsigned", "signed", "bipolar")


def _levels(bits, encoding):
    """(a, b, L): a code's count c in [0, L] has the value a * c + b."""
    if not isinstance(bits, int) or not 1 <= bits <= 8:
        raise ValueError(f"bits must be an integer in [1, 8], got {bits!r}")
    top = (1 << bits) - 1
    if encoding == "unsigned":
        return 1, 0, top
    if encoding == "signed":
        return 1, -(1 << (bits - 1)), top
    if encoding == "bipolar":
        return 2, -top, top
    raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")


def _round_half_up_ste(t):
    """floor(t + 1/2) forward, identity backward."""
    return t + (torch.floor(t + 0.5) - t).detach()


def fake_quantize(x, scale, bits, encoding):
    """``scale * value`` of the k-bit code of ``x`` (see the module docstring);
    gradient: clipped identity for ``x``, LSQ for ``scale``."""
    a, b, top = _levels(bits, encoding)
    t = torch.clamp((x / scale - b) / a, 0, top)
    return scale * (a * _round_half_up_ste(t) + b)


class QuantInput(nn.Module):
    """Float input -> 8-bit unsigned codes, ``clamp(round_half_even(x / scale), 0, 255)``."""

    def __init__(self, scale=1.0 / 255.0):
        super().__init__()
        self.register_buffer("scale", torch.tensor(float(scale), dtype=torch.float32))

    def codes(self, x):
        return torch.clamp(torch.round(x.float() / self.scale), 0, 255)

    def forward(self, x):
        q = self.codes(x) * self.scale
        return x + (q - x).detach()

    def extra_repr(self):
        return f"scale={self.scale.item():g}"


class QuantAct(nn.Module):
    """k-bit activation quantizer with a learned (or fixed) positive scale."""

    def __init__(self, bits=2, encoding="unsigned", scale=1.0, learn_scale=True):
        super().__init__()
        _levels(bits, encoding)
        self.bits, self.encoding = bits, encoding
        s = torch.tensor(float(scale), dtype=torch.float32)
        if learn_scale:
            self.scale = nn.Parameter(s)
        else:
            self.register_buffer("scale", s)

    def effective_scale(self):
        return self.scale.abs().clamp_min(1e-8)

    def forward(self, x):
        return fake_quantize(x, self.effective_scale(), self.bits, self.encoding)

    def extra_repr(self):
        return f"bits={self.bits}, encoding={self.encoding}"


def quantize_weight(w, bits, encoding):
    """Integer weight values (float tensor, no gradient) and per-output-channel
    scales ``alpha`` ([CO], float32) with ``w ~ alpha * values``."""
    a, b, top = _levels(bits, encoding)
    w = w.detach().float()
    flat = w.reshape(w.shape[0], -1).abs()
    if bits == 1:
        alpha = flat.mean(dim=1)
    else:
        vmax = max(abs(b), abs(a * top + b))
        alpha = flat.amax(dim=1) / vmax
    alpha = alpha.clamp_min(1e-8)
    view = (-1,) + (1,) * (w.dim() - 1)
    c = torch.clamp(torch.floor((w / alpha.view(view) - b) / a + 0.5), 0, top)
    return a * c + b, alpha


def _weight_fake_quant(w, bits, encoding):
    values, alpha = quantize_weight(w, bits, encoding)
    wq = alpha.view((-1,) + (1,) * (w.dim() - 1)) * values
    if bits == 1:  # Larq's ste_sign: the gradient passes where |w| <= 1
        return wq + (w - w.detach()) * (w.detach().abs() <= 1).to(w.dtype)
    return wq + (w - w.detach())


class QuantConv2d(nn.Conv2d):
    """Conv2d with k-bit weights (per-channel scales) and an optional input quantizer."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 bias=False, weight_bits=1, weight_encoding="bipolar", input_bits=None,
                 input_encoding="unsigned", input_scale=1.0, learn_input_scale=True):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride,
                         padding=padding, bias=bias)
        _levels(weight_bits, weight_encoding)
        self.weight_bits, self.weight_encoding = weight_bits, weight_encoding
        self.input_quant = (QuantAct(input_bits, input_encoding, input_scale, learn_input_scale)
                            if input_bits else None)

    def forward(self, x):
        if self.input_quant is not None:
            x = self.input_quant(x)
        w = _weight_fake_quant(self.weight, self.weight_bits, self.weight_encoding)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


class QuantLinear(nn.Linear):
    """Linear with k-bit weights (per-output scales) and an optional input quantizer."""

    def __init__(self, in_features, out_features, bias=False, weight_bits=1,
                 weight_encoding="bipolar", input_bits=None, input_encoding="unsigned",
                 input_scale=1.0, learn_input_scale=True):
        super().__init__(in_features, out_features, bias=bias)
        _levels(weight_bits, weight_encoding)
        self.weight_bits, self.weight_encoding = weight_bits, weight_encoding
        self.input_quant = (QuantAct(input_bits, input_encoding, input_scale, learn_input_scale)
                            if input_bits else None)

    def forward(self, x):
        if self.input_quant is not None:
            x = self.input_quant(x)
        w = _weight_fake_quant(self.weight, self.weight_bits, self.weight_encoding)
        return F.linear(x, w, self.bias)


# ---------------------------------------------------------------------------
# Exporter
# ---------------------------------------------------------------------------

class ExportError(ValueError):
    """A model the exporter cannot map to bitserial ops (names the fx node)."""


_QUANT_LEAVES = (QuantInput, QuantAct, QuantConv2d, QuantLinear)


class _Tracer(torch.fx.Tracer):
    def is_leaf_module(self, m, qualname):
        return isinstance(m, _QUANT_LEAVES) or super().is_leaf_module(m, qualname)


class _Float:
    """The float model input (NHWC in the function when 4-D)."""

    def __init__(self, value, torch_shape):
        self.value, self.torch_shape = value, tuple(torch_shape)


class _Codes:
    """Quantized values ``scale * decoded``: a packed (or i8 unpacked) Builder value."""

    def __init__(self, value, bits, encoding, scale, torch_shape, flat=False):
        self.value, self.bits, self.encoding = value, bits, encoding
        self.scale = float(scale)
        self.torch_shape, self.flat = tuple(torch_shape), flat


class _Acc:
    """An integer accumulator with the per-channel real-valued steps after it
    (``affine`` a, b [, exact a]; ``clamp`` lo, hi; ``pool`` k, s, p) and maybe a pending
    quantizer; ``bound`` bounds |acc|."""

    def __init__(self, value, torch_shape, steps, bound, flat=False):
        self.value, self.torch_shape = value, tuple(torch_shape)
        self.steps, self.bound, self.flat = steps, bound, flat
        self.quant = None  # (bits, encoding, scale) once a QuantAct follows
        self.codes = None  # the materialized _Codes

    def extended(self, step, torch_shape=None):
        out = _Acc(self.value, torch_shape or self.torch_shape, self.steps + [step],
                   self.bound, self.flat)
        out.quant = self.quant
        return out


def _pair(v, what, where):
    if isinstance(v, (tuple, list)):
        if len(v) != 2 or v[0] != v[1]:
            raise ExportError(f"{where}: {what} {tuple(v)} is not square "
                              f"(only equal height and width values are supported)")
        v = v[0]
    return int(v)


class _Exporter:
    def __init__(self, model, example_input, name, output, requantize_bits):
        if output not in ("scores", "logits"):
            raise ValueError("output must be 'scores' or 'logits'")
        self.requantize_bits = requantize_bits
        self.model, self.output = model, output
        self.modules = dict(model.named_modules())
        self.b = _models.Builder(name)
        self.quant_nodes = {}  # QuantAct module name -> Builder nodes of its codes
        x = example_input.detach().float()
        self.input_torch_shape = tuple(x.shape)
        self.example = to_function_input(x)

    def run(self):
        try:
            graph = _Tracer().trace(self.model)
        except Exception as e:  # noqa: BLE001 - report the tracer's reason
            raise ExportError(f"torch.fx cannot trace the model: {e}") from e
        env = {}
        result = None
        for node in graph.nodes:
            if node.op == "placeholder":
                if env:
                    raise ExportError(f"{self._desc(node)}: the model must take one input")
                v = self.b.argument(self.example.shape, "f32", self.example)
                env[node] = _Float(v, self.input_torch_shape)
            elif node.op == "output":
                arg = node.args[0]
                if not isinstance(arg, torch.fx.Node):
                    raise ExportError(f"{self._desc(node)}: the model must return one tensor")
                result = self._output(env[arg], arg)
            elif node.op == "call_module":
                env[node] = self._module(self.modules[node.target], node, env)
            elif node.op in ("call_function", "call_method"):
                env[node] = self._function(node, env)
            else:
                raise ExportError(f"unsupported {self._desc(node)}")
        text = self.b.finish([result])
        program = Program(self.b, text, result, self.input_torch_shape)
        program.quant_nodes = self.quant_nodes
        return program

    # -- dispatch -----------------------------------------------------------

    def _arg(self, node, env, i=0):
        a = node.args[i]
        if not isinstance(a, torch.fx.Node):
            raise ExportError(f"{self._desc(node)}: argument {i} is not a tensor")
        return env[a]

    def _desc(self, node):
        """How errors name a node: the module's path and type, or the function."""
        if node.op == "call_module":
            kind = type(self.modules[node.target]).__name__
            return f"node '{node.name}' (module '{node.target}', {kind})"
        t = node.target
        name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
        return f"node '{node.name}' ({node.op} {name})"

    def _unsupported(self, node, what):
        return ExportError(f"unsupported {self._desc(node)}: {what}")

    def _module(self, m, node, env):
        x = self._arg(node, env)
        if len(node.args) != 1 or node.kwargs:
            raise ExportError(f"{self._desc(node)}: a module called with more than one input")
        if isinstance(m, QuantInput):
            return self._quant_input(x, m, node)
        if isinstance(m, QuantAct):
            return self._quant_act(x, m, node, node.target)
        if isinstance(m, QuantConv2d):
            if m.input_quant is not None:
                x = self._quant_act(x, m.input_quant, node, f"{node.target}.input_quant")
            return self._conv(x, m, node)
        if isinstance(m, QuantLinear):
            if m.input_quant is not None:
                x = self._quant_act(x, m.input_quant, node, f"{node.target}.input_quant")
            return self._linear(x, m, node)
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            return self._batch_norm(x, m, node)
        if isinstance(m, nn.ReLU):
            return self._clamp(x, 0.0, math.inf, node)
        if isinstance(m, nn.Hardtanh):  # ReLU6 too
            return self._clamp(x, float(m.min_val), float(m.max_val), node)
        if isinstance(m, nn.MaxPool2d):
            if m.dilation not in (1, (1, 1)) or m.ceil_mode:
                raise ExportError(f"{self._desc(node)}: max pool with dilation or ceil_mode")
            return self._max_pool(x, _pair(m.kernel_size, "kernel", self._desc(node)),
                                  _pair(m.stride, "stride", self._desc(node)),
                                  _pair(m.padding, "padding", self._desc(node)), node)
        if isinstance(m, nn.AdaptiveAvgPool2d):
            if m.output_size not in (1, (1, 1)):
                raise ExportError(f"{self._desc(node)}: only global average pooling "
                                  f"(output size 1) is supported")
            return self._global_avg_pool(x, node)
        if isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise ExportError(f"{self._desc(node)}: only Flatten(1, -1) is supported")
            return self._flatten(x, node)
        if isinstance(m, (nn.Dropout, nn.Identity)):
            return x
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            raise self._unsupported(node, "float layers are not exported: use "
                                    "QuantConv2d / QuantLinear")
        raise self._unsupported(node, "no bitserial mapping for this module")

    def _function(self, node, env):
        t = node.target
        if (node.op == "call_function" and t is torch.flatten) or (
                node.op == "call_method" and t == "flatten"):
            start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
            end = node.args[2] if len(node.args) > 2 else node.kwargs.get("end_dim", -1)
            if start != 1 or end != -1:
                raise ExportError(f"{self._desc(node)}: only flatten(x, 1) is supported")
            return self._flatten(self._arg(node, env), node)
        if (node.op == "call_function" and t in (F.relu, torch.relu)) or (
                node.op == "call_method" and t == "relu"):
            return self._clamp(self._arg(node, env), 0.0, math.inf, node)
        if node.op == "call_function" and t is F.hardtanh:
            lo = node.args[1] if len(node.args) > 1 else node.kwargs.get("min_val", -1.0)
            hi = node.args[2] if len(node.args) > 2 else node.kwargs.get("max_val", 1.0)
            return self._clamp(self._arg(node, env), float(lo), float(hi), node)
        raise self._unsupported(node, "no bitserial mapping for this function")

    # -- values -------------------------------------------------------------

    def _codes(self, x, node, packed=True):
        """``x`` as codes (materializing a pending quantizer)."""
        if isinstance(x, _Acc):
            if x.quant is None:
                raise ExportError(f"{self._desc(node)}: needs quantized input, but its input is "
                                  f"an accumulator (insert a QuantAct)")
            if x.codes is None:
                x.codes = self._requantize(x, node) or self._threshold(x, node)
            x = x.codes
        if isinstance(x, _Float):
            raise ExportError(f"{self._desc(node)}: needs quantized input, but its input is "
                              f"float (quantize the model input with QuantInput)")
        if packed and x.value.packed is None:
            v = self.b.pack(x.value, x.bits, x.encoding)
            x = _Codes(v, x.bits, x.encoding, x.scale, x.torch_shape, x.flat)
        return x

    def _quant_input(self, x, m, node):
        if not isinstance(x, _Float):
            raise ExportError(f"{self._desc(node)}: QuantInput must quantize the float model input")
        v = self.b.quantize_u8(x.value, float(m.scale))
        return _Codes(v, 8, "unsigned", float(m.scale), x.torch_shape)

    def _quant_act(self, x, m, node, module_name):
        if isinstance(x, _Float):
            raise ExportError(f"{self._desc(node)}: QuantAct on the float model input; use "
                              f"QuantInput (8-bit) for the input")
        if not isinstance(x, _Acc) or x.quant is not None:
            raise ExportError(f"{self._desc(node)}: QuantAct on values that are already "
                              f"quantized (requantizing codes is not supported)")
        out = x.extended(("noop",))
        out.quant = (m.bits, m.encoding, float(m.effective_scale().detach()), module_name)
        return out

    def _acc_of(self, x, node, what):
        if not isinstance(x, _Acc) or x.quant is not None:
            kind = "quantized codes" if isinstance(x, (_Codes, _Acc)) else "the float input"
            raise ExportError(f"{self._desc(node)}: {what} on {kind}; it must follow a "
                              f"QuantConv2d / QuantLinear before the next quantizer")
        return x

    def _batch_norm(self, x, m, node):
        x = self._acc_of(x, node, type(m).__name__)
        if not m.track_running_stats or m.running_mean is None:
            raise ExportError(f"{self._desc(node)}: batch norm without running statistics")
        var = m.running_var.detach().double().numpy()
        mean = m.running_mean.detach().double().numpy()
        g = m.weight.detach().double().numpy() if m.affine else np.ones_like(var)
        beta = m.bias.detach().double().numpy() if m.affine else np.zeros_like(var)
        a = g / np.sqrt(var + float(m.eps))
        return x.extended(("affine", a, beta - mean * a))

    def _clamp(self, x, lo, hi, node):
        x = self._acc_of(x, node, "an activation")
        return x.extended(("clamp", lo, hi))

    def _max_pool(self, x, k, s, p, node):
        if isinstance(x, _Acc) and x.codes is None and not any(st[0] == "pool" for st in x.steps):
            if len(x.value.shape) != 4 or x.flat:
                raise ExportError(f"{self._desc(node)}: max pool needs a 4-D feature map")
            n, h, w, c = x.value.shape
            oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            return x.extended(("pool", k, s, p, self._desc(node)), (n, c, oh, ow))
        codes = self._codes(x, node)
        if len(codes.value.shape) != 4 or codes.flat:
            raise ExportError(f"{self._desc(node)}: max pool needs a 4-D feature map")
        v = self.b.unpack(codes.value, "i32")
        v = self.b.max_pool(v, k, s, p)
        v = self.b.pack(v, codes.bits, codes.encoding)
        n, oh, ow, c = v.shape
        return _Codes(v, codes.bits, codes.encoding, codes.scale, (n, c, oh, ow))

    def _global_avg_pool(self, x, node):
        """The mean over H, W of affine maps of the accumulator is the same
        maps of sum / (H W): a sum pool, and 1 / (H W) as the first step."""
        x = self._acc_of(x, node, "global average pooling")
        if any(st[0] not in ("affine", "noop") for st in x.steps) or len(x.value.shape) != 4 \
                or x.flat:
            raise ExportError(f"{self._desc(node)}: global average pooling must follow the "
                              f"accumulator of a QuantConv2d with only scales, bias and batch "
                              f"norm between (a clamp or max pool does not commute with the mean)")
        n, h, w, c = x.value.shape
        out = _Acc(self.b.sum_pool(x.value), (n, c, 1, 1),
                   [("affine", np.full(c, 1.0 / (h * w)), np.zeros(c), Fraction(1, h * w))]
                   + x.steps,
                   x.bound * h * w)
        return out

    def _flatten(self, x, node):
        if len(x.torch_shape) == 2:
            return x
        n = x.torch_shape[0]
        flat_shape = (n, int(np.prod(x.torch_shape[1:])))
        if isinstance(x, _Float):
            _, c, h, w = x.torch_shape
            if c != 1 and h * w != 1:
                raise ExportError(f"{self._desc(node)}: flatten of a float input with several "
                                  f"channels and pixels (NHWC order differs)")
            return _Float(self.b.reshape(x.value, flat_shape), flat_shape)
        if isinstance(x, _Codes):
            return _Codes(x.value, x.bits, x.encoding, x.scale, flat_shape, flat=True)
        out = x.extended(("noop",), flat_shape)
        out.flat = True
        return out

    # -- layers -------------------------------------------------------------

    def _layer_acc(self, x, w_int, alpha, bias, acc, torch_shape):
        a0 = np.float64(x.scale) * alpha.double().numpy()  # exact: two f32 factors
        b0 = bias.detach().double().numpy() if bias is not None else np.zeros_like(a0)
        top = max(abs(v) for v in ref_range(x.bits, x.encoding))
        bound = int(np.abs(w_int).reshape(w_int.shape[0], -1).sum(axis=1).max()) * top
        return _Acc(acc, torch_shape, [("affine", a0, b0)], bound)

    def _conv(self, x, m, node):
        if m.groups != 1 or m.dilation != (1, 1) or m.padding_mode != "zeros":
            raise ExportError(f"{self._desc(node)}: QuantConv2d with groups, dilation or "
                              f"non-zero padding mode")
        if isinstance(m.padding, str):
            raise ExportError(f"{self._desc(node)}: padding '{m.padding}' (give integers)")
        x = self._codes(x, node)
        if len(x.torch_shape) != 4 or x.flat:
            raise ExportError(f"{self._desc(node)}: QuantConv2d needs a 4-D input")
        stride = _pair(m.stride, "stride", self._desc(node))
        pad = _pair(m.padding, "padding", self._desc(node))
        values, alpha = quantize_weight(m.weight, m.weight_bits, m.weight_encoding)
        w = values.round().long().permute(0, 2, 3, 1).numpy()  # [CO, KH, KW, C]
        acc = self.b.conv2d(x.value, w, m.weight_bits, m.weight_encoding, stride, pad)
        n, oh, ow, co = acc.shape
        return self._layer_acc(x, w, alpha, m.bias, acc, (n, co, oh, ow))

    def _linear(self, x, m, node):
        x = self._codes(x, node)
        values, alpha = quantize_weight(m.weight, m.weight_bits, m.weight_encoding)
        w = values.round().long().numpy()  # [CO, K]
        if len(x.torch_shape) != 2:
            raise ExportError(f"{self._desc(node)}: QuantLinear needs a flattened [N, K] input")
        if len(x.value.shape) == 2:
            acc = self.b.matmul(x.value, w, m.weight_bits, m.weight_encoding)
        else:
            # A flattened NHWC feature map: a convolution with a full-size
            # kernel, the weights' columns reordered from (C, H, W) to (H, W, C).
            n, h, wd, c = x.value.shape
            wk = w.reshape(w.shape[0], c, h, wd).transpose(0, 2, 3, 1)
            acc = self.b.conv2d(x.value, np.ascontiguousarray(wk), m.weight_bits,
                                m.weight_encoding, 1, 0)
        out = self._layer_acc(x, w, alpha, m.bias, acc, (x.torch_shape[0], w.shape[0]))
        out.flat = len(acc.shape) == 4
        return out

    # -- folding -------------------------------------------------------------

    def _requantize(self, x, node):
        """A quantizer of at least ``requantize_bits`` unsigned or signed bits
        after positive scales without offsets (no bias or batch norm; a ReLU
        before an unsigned quantizer) as bitserial.requantize, TFLite's
        fixed-point multiply, instead of ``2^bits - 1`` thresholds, where an
        accumulator step is at least half a code step (multiplier >= 1/2):
        then the op rounds once (no rounding right shift, whose second
        rounding would differ from the quantizer's near every tie), and
        the codes equal the quantizer's except at exact negative ties
        (half away from zero, not up) and within 2^-31 of the multiplier.
        The simulation mirrors the op, so compiled and simulated codes are
        equal regardless. None where it does not fit."""
        bits, encoding, scale, module_name = x.quant
        if self.requantize_bits is None or bits < self.requantize_bits or encoding == "bipolar":
            return None
        c = x.value.shape[-1]
        real = np.full(c, 1.0 / scale)
        pool = None
        for st in x.steps:
            if st[0] == "affine":
                if (st[1] <= 0).any() or (st[2] != 0).any():
                    return None
                real = real * st[1]
            elif st[0] == "clamp":
                if encoding != "unsigned" or st[1] != 0.0 or st[2] != math.inf:
                    return None
            elif st[0] == "pool":
                pool = st
        if (real <= 0).any() or not np.isfinite(real).all():
            return None
        mult, shift = zip(*(_models.quantize_multiplier(float(r)) for r in real))
        if min(shift) < 0 or max(shift) > 30 or x.bound << max(shift) >= 1 << 31:
            return None
        lo, hi = ref_range(bits, encoding)
        elem = "i8" if -128 <= lo and hi <= 127 else "i16"
        acc = x.value
        if pool is not None:  # every map is increasing: pool the accumulators
            acc = self.b.max_pool(acc, *pool[1:4])
        v = self.b.requantize(acc, list(mult), list(shift), 0, lo, hi, elem)
        self.quant_nodes.setdefault(module_name, []).append(v.node)
        out = self.b.pack(v, bits, encoding)
        return _Codes(out, bits, encoding, scale, x.torch_shape, x.flat)

    def _threshold(self, x, node):
        """Materializes the pending quantizer of ``x`` as bitserial.threshold."""
        bits, encoding, scale, module_name = x.quant
        a, b, top = _levels(bits, encoding)
        steps = [s for s in x.steps if s[0] != "noop"]
        pools = [i for i, s in enumerate(steps) if s[0] == "pool"]
        c = x.value.shape[-1]
        sign_before = np.ones(c)
        sign_after = np.ones(c)
        for i, s in enumerate(steps):
            if s[0] == "affine":
                if pools and i > pools[0]:
                    sign_after *= np.where(s[1] < 0, -1.0, 1.0)
                else:
                    sign_before *= np.where(s[1] < 0, -1.0, 1.0)
        descending = (sign_before * sign_after) < 0
        limit = x.bound + 1
        if limit >= 1 << 31:
            raise ExportError(f"{self._desc(node)}: accumulators may not fit i32")
        t = np.zeros((c, top), dtype=np.int64)
        s_out = Fraction(scale)
        for ch in range(c):
            for i in range(1, top + 1):
                theta = s_out * (a * (Fraction(2 * i - 1, 2)) + b)
                t[ch, i - 1] = _pull_back(theta, steps, ch, limit, bool(descending[ch]))
        acc = x.value
        pool = steps[pools[0]] if pools else None
        if pool is not None and (sign_before > 0).all():
            acc = self.b.max_pool(acc, *pool[1:4])  # max commutes with increasing maps
            pool = None
        elif pool is not None and not (sign_after > 0).all():
            raise ExportError(f"{pool[4]}: max pool between two per-channel maps with "
                              f"negative scales (batch norm) cannot fold into thresholds")
        out = self.b.threshold(acc, bits, encoding, t,
                               descending=descending if descending.any() else None)
        shape = x.torch_shape
        self.quant_nodes.setdefault(module_name, []).append(out.node)
        if pool is not None:  # decreasing before the pool: pool the codes
            u = self.b.unpack(out, "i32")
            out = self.b.pack(self.b.max_pool(u, *pool[1:4]), bits, encoding)
            self.quant_nodes[module_name].append(out.node)
        return _Codes(out, bits, encoding, scale, shape, x.flat)

    def _output(self, x, node):
        if not isinstance(x, _Acc) or x.quant is not None:
            raise ExportError(f"{self._desc(node)}: the output must be the accumulator of a "
                              f"QuantLinear / QuantConv2d (with batch norm), not codes or the "
                              f"input")
        steps = [s for s in x.steps if s[0] != "noop"]
        for s in steps:
            if s[0] != "affine":
                raise ExportError(f"{self._desc(node)}: a {s[0]} after the last layer cannot "
                                  f"fold into dequantize")
        c = x.value.shape[-1]
        scale, bias = np.ones(c), np.zeros(c)
        for st in steps:
            scale, bias = scale * st[1], bias * st[1] + st[2]
        v = x.value
        if self.output == "scores":
            v = self.b.dequantize(v, scale.astype(np.float32), bias.astype(np.float32))
        if len(v.shape) == 4:
            if v.shape[1:3] != (1, 1):
                raise ExportError(f"{self._desc(node)}: the output must be [N, C] logits")
            v = self.b.reshape(v, (v.shape[0], v.shape[3]))
        return v


def ref_range(bits, encoding):
    a, b, top = _levels(bits, encoding)
    return b, a * top + b


def _pull_back(theta, steps, ch, limit, descending):
    """The integer threshold on the accumulator for ``y_last >= theta``."""
    ge, cond = True, Fraction(theta)  # the condition y >= cond (ge) or y <= cond
    always = never = False
    for s in reversed(steps):
        if s[0] == "affine":
            a = s[3] if len(s) > 3 else Fraction(float(s[1][ch]))  # the mean's exact 1 / (H W)
            b = Fraction(float(s[2][ch]))
            if a == 0:
                holds = (b >= cond) if ge else (b <= cond)
                always, never = holds, not holds
                break
            cond = (cond - b) / a
            if a < 0:
                ge = not ge
        elif s[0] == "clamp":
            lo, hi = s[1], s[2]
            if ge:
                if cond <= lo:
                    always = True
                    break
                if cond > hi:
                    never = True
                    break
            else:
                if cond >= hi:
                    always = True
                    break
                if cond < lo:
                    never = True
                    break
    if not always and not never:
        if ge != (not descending):
            raise AssertionError("inconsistent direction")
        t = math.ceil(cond) if ge else math.floor(cond)
        return int(min(max(t, -limit), limit))
    # ascending: acc >= -limit always holds, acc >= limit never; descending mirrored.
    if descending:
        return limit if always else -limit
    return -limit if always else limit


class Program:
    """An exported model: MLIR text (``text``), the Builder graph (``graph``),
    and the integer simulation (``simulate``)."""

    def __init__(self, builder, text, result, input_torch_shape):
        self.builder, self.text, self.result = builder, text, result
        self.graph = builder.graph()
        self.input_torch_shape = input_torch_shape

    @property
    def example_output(self):
        """The NumPy evaluation (``bitserial.models.evaluate``) of the example input."""
        return self.builder.calib[self.result.node]

    def evaluate_numpy(self, x):
        return _models.evaluate(self.graph, [to_function_input(x)])[0]

    def simulate(self, x, all_values=False):
        """Runs the folded integer network in PyTorch: codes and accumulators
        as int64 tensors (NHWC), the output f32 (dequantize) or int64
        (logits). ``all_values``: every graph node's value (codes of the
        QuantAct named ``q`` at ``quant_nodes[q]``)."""
        x = torch.from_numpy(to_function_input(x))
        vals = []
        for op, ins, p in self.graph["nodes"]:
            a = [vals[j] for j in ins]
            vals.append(_simulate_node(op, a, p, x))
        return vals if all_values else vals[self.graph["results"][0]]


def _simulate_node(op, a, p, x):
    if op == "input":
        return x
    if op == "quantize_u8":
        s = torch.tensor(p["scale"], dtype=torch.float32)
        return torch.clamp(torch.round(a[0] / s), 0, 255).long()
    if op == "pack":
        lo, hi = ref_range(p["bits"], p["encoding"])
        v = a[0]
        if v.numel() and (v.min() < lo or v.max() > hi):
            raise OverflowError(f"codes outside [{lo}, {hi}]")
        return v
    if op == "unpack":
        return a[0]
    if op == "reshape":
        return a[0].reshape((a[0].shape[0],) + tuple(p["shape"][1:]))  # any batch
    if op == "matmul":
        acc = a[0] @ torch.from_numpy(np.asarray(p["w"], dtype=np.int64)).T
        return _check_i32(acc + (a[1] if p["has_init"] else 0))
    if op == "conv2d":
        acc = _conv2d_int(a[0], torch.from_numpy(np.asarray(p["w"], dtype=np.int64)),
                          p["stride"], p["pad"])
        return _check_i32(acc + (a[1] if p["has_init"] else 0))
    if op == "threshold":
        acc = a[0].unsqueeze(-1)
        t = torch.from_numpy(np.asarray(p["t"], dtype=np.int64))
        count = (acc >= t).sum(-1)
        if p["descending"] is not None:
            down = (acc <= t).sum(-1)
            count = torch.where(torch.from_numpy(p["descending"]), down, count)
        ka, kb, _ = _levels(p["bits"], p["encoding"])
        return ka * count + kb
    if op == "max_pool":
        return _max_pool_int(a[0], p["k"], p["s"], p["p"])
    if op == "requantize":
        return _requantize_int(a[0], p["multiplier"], p["shift"], p["zero_point"],
                               p["lo"], p["hi"])
    if op == "sum_pool":
        return a[0].sum(dim=(1, 2))
    if op == "dequantize":
        f = a[0].to(torch.float32)
        return f * torch.from_numpy(p["scale"]) + torch.from_numpy(p["bias"])
    raise ValueError(f"the integer simulation has no rule for {op!r}")


def _requantize_int(acc, multiplier, shift, zero_point, lo, hi):
    """``bitserial.requantize`` in int64: shift left, gemmlowp's saturating
    rounding doubling high multiply, rounding right shift, zero point, clamp."""
    m = torch.from_numpy(np.asarray(multiplier, dtype=np.int64))
    sh = torch.clamp(torch.from_numpy(np.asarray(shift, dtype=np.int64)), -31, 30)
    x = (acc << torch.clamp(sh, min=0)) & 0xFFFFFFFF
    x = torch.where(x >= 1 << 31, x - (1 << 32), x)  # wrap to i32
    ab = x * m
    v = ab + torch.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = torch.where(v >= 0, v // (1 << 31), -((-v) // (1 << 31)))  # toward zero
    q = torch.where((x == -(1 << 31)) & (m == -(1 << 31)), (1 << 31) - 1, q)
    e = torch.clamp(-sh, min=0)
    mask = (torch.ones_like(e) << e) - 1
    y = (q >> e) + ((q & mask) > (mask >> 1) + (q < 0).long()).long()
    return torch.clamp(y + int(zero_point), lo, hi)


def _check_i32(v):
    if v.numel() and (v.min() < -(1 << 31) or v.max() >= 1 << 31):
        raise OverflowError("an accumulator does not fit i32")
    return v


def _conv2d_int(x, w, s, p):
    """NHWC x [CO, KH, KW, C] in int64, zero padding: a sum over taps of matmuls."""
    n, h, wd, c = x.shape
    co, kh, kw, _ = w.shape
    oh, ow = (h + 2 * p - kh) // s + 1, (wd + 2 * p - kw) // s + 1
    xp = F.pad(x, (0, 0, p, p, p, p))
    acc = torch.zeros((n, oh, ow, co), dtype=torch.int64)
    for i in range(kh):
        for j in range(kw):
            win = xp[:, i:i + (oh - 1) * s + 1:s, j:j + (ow - 1) * s + 1:s, :]
            acc += win @ w[:, i, j, :].T
    return acc


def _max_pool_int(x, k, s, p):
    n, h, w, c = x.shape
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    low = torch.iinfo(torch.int64).min
    xp = torch.full((n, h + 2 * p, w + 2 * p, c), low, dtype=torch.int64)
    xp[:, p:p + h, p:p + w, :] = x
    out = torch.full((n, oh, ow, c), low, dtype=torch.int64)
    for i in range(k):
        for j in range(k):
            out = torch.maximum(out, xp[:, i:i + (oh - 1) * s + 1:s, j:j + (ow - 1) * s + 1:s, :])
    return out


def lower(model, example_input, name="forward", output="scores", requantize_bits=None):
    """Traces ``model`` (in eval mode) and folds it: a ``Program``.
    ``requantize_bits=k``: quantizers of k or more bits emit
    ``bitserial.requantize`` where it fits (see ``_Exporter._requantize``)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return _Exporter(model, example_input, name, output, requantize_bits).run()
    finally:
        model.train(was_training)


def export(model, example_input, path=None, name="forward", output="scores",
           requantize_bits=None):
    """MLIR text of ``model`` for inputs shaped like ``example_input`` (the
    batch is static); written to ``path`` too when given. The function takes
    the input in NHWC (``to_function_input``) and returns f32 scores
    ``[N, classes]`` (``output='logits'``: the i32 accumulators)."""
    text = lower(model, example_input, name, output, requantize_bits).text
    if path is not None:
        with open(path, "w") as f:
            f.write(text)
    return text


def simulate_integer(model, x, output="scores", requantize_bits=None):
    """The integer simulation of ``model`` on ``x`` (what the compiled model computes)."""
    return lower(model, x[:1], output=output, requantize_bits=requantize_bits).simulate(x)


def to_function_input(x):
    """A PyTorch-layout input (NCHW) as the exported function takes it: float32, NHWC."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x)


def _default_runner():
    env = os.environ.get("BITSERIAL_RUN")
    if env:
        return env
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(root, "build", "bin", "bitserial-run")


def run_compiled(mlir_path, inputs, runner=None, extra_args=()):
    """Compiles and runs the exported function on ``inputs`` (already in the
    function's layout, see ``to_function_input``) with ``bitserial-run``
    (``runner``, else $BITSERIAL_RUN, else build/bin/bitserial-run)."""
    runner = runner or _default_runner()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "input.npy"), os.path.join(tmp, "output.npy")
        np.save(src, np.ascontiguousarray(inputs))
        proc = subprocess.run([runner, mlir_path, "--input", src, "--output", dst, *extra_args],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{runner} failed ({proc.returncode}): {proc.stderr.strip()}")
        return np.load(dst)
