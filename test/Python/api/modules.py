"""MLIR modules for the Python API tests, with their NumPy expectations."""

import numpy as np

import bitserial


def packed(shape, bits, encoding, length, word=64):
    return "tensor<{}x{}x{}xi{}, #bitserial.packed<bits = {}, encoding = {}, length = {}>>".format(
        "x".join(map(str, shape)), bits, -(-length // word), word, bits, encoding, length)


def matmul(m, n, k, a_bits, a_encoding, b_bits, b_encoding, word=64, init=False,
           name="matmul"):
    """`name`(x: i16[m, k], w: i16[n, k] [, init: i32[m, n]]) -> i32[m, n]."""
    pa = packed((m,), a_bits, a_encoding, k, word)
    pb = packed((n,), b_bits, b_encoding, k, word)
    out = "tensor<{}x{}xi32>".format(m, n)
    init_arg = ", %init: {}".format(out) if init else ""
    init_value = "" if init else """
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : {out}
  %init = linalg.fill ins(%zero : i32) outs(%empty : {out}) -> {out}""".format(out=out)
    return """
func.func @{name}(%x: tensor<{m}x{k}xi16>, %w: tensor<{n}x{k}xi16>{init_arg}) -> {out} {{
  %px = bitserial.pack %x : tensor<{m}x{k}xi16> -> {pa}
  %pw = bitserial.pack %w : tensor<{n}x{k}xi16> -> {pb}{init_value}
  %y = bitserial.matmul ins(%px, %pw : {pa}, {pb}) outs(%init : {out}) -> {out}
  return %y : {out}
}}
""".format(**locals())


def conv2d(n, h, w, c, co, kh, kw, x_bits, x_encoding, f_bits, f_encoding,
           padding=(0, 0, 0, 0), strides=(1, 1)):
    """conv(x: i16[n, h, w, c], f: i16[co, kh, kw, c]) -> i32[n, oh, ow, co]."""
    oh, ow = bitserial.conv2d_output_shape((n, h, w, c), (co, kh, kw, c), strides,
                                           padding)[1:3]
    px = packed((n, h, w), x_bits, x_encoding, c)
    pf = packed((co, kh, kw), f_bits, f_encoding, c)
    out = "tensor<{}x{}x{}x{}xi32>".format(n, oh, ow, co)
    pad = ", ".join(map(str, padding))
    stride = ", ".join(map(str, strides))
    return """
func.func @conv(%x: tensor<{n}x{h}x{w}x{c}xi16>, %f: tensor<{co}x{kh}x{kw}x{c}xi16>) -> {out} {{
  %px = bitserial.pack %x : tensor<{n}x{h}x{w}x{c}xi16> -> {px}
  %pf = bitserial.pack %f : tensor<{co}x{kh}x{kw}x{c}xi16> -> {pf}
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : {out}
  %init = linalg.fill ins(%zero : i32) outs(%empty : {out}) -> {out}
  %y = bitserial.conv2d ins(%px, %pf : {px}, {pf}) outs(%init : {out}) strides = [{stride}] padding = [{pad}] -> {out}
  return %y : {out}
}}
""".format(**locals())


def values(rng, shape, bits, encoding):
    return bitserial.random_values(rng, shape, bits, encoding, dtype=np.int16)
