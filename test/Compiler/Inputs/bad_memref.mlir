func.func @buffers(%x: memref<4xi32>) {
  return
}
