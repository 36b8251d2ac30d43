// Functions whose buffers cannot exist; huge-shapes.test calls each.
func.func @overflowing_argument(%x: tensor<4294967296x4294967296xi8>) -> tensor<4294967296x4294967296xi8> {
  return %x : tensor<4294967296x4294967296xi8>
}

func.func @huge_argument(%x: tensor<100000x100000x1000xi32>) -> tensor<100000x100000x1000xi32> {
  return %x : tensor<100000x100000x1000xi32>
}

// 2^64 elements: a wrapped byte size would allocate nothing.
func.func @overflowing_intermediate(%x: tensor<4xi32>) -> tensor<4xi32> {
  %e = tensor.empty() : tensor<4294967296x4294967296xi32>
  %c = arith.constant 0 : i32
  %f = linalg.fill ins(%c : i32) outs(%e : tensor<4294967296x4294967296xi32>) -> tensor<4294967296x4294967296xi32>
  %s = tensor.extract_slice %f[0, 0] [1, 4] [1, 1] : tensor<4294967296x4294967296xi32> to tensor<4xi32>
  return %s : tensor<4xi32>
}

// 10^12 elements per input element: the compiled code's malloc fails.
func.func @huge_intermediate(%x: tensor<?xi32>) -> tensor<4xi32> {
  %c0 = arith.constant 0 : index
  %scale = arith.constant 1000000000000 : index
  %d = tensor.dim %x, %c0 : tensor<?xi32>
  %n = arith.muli %d, %scale : index
  %e = tensor.empty(%n) : tensor<?xi32>
  %c = arith.constant 1 : i32
  %f = linalg.fill ins(%c : i32) outs(%e : tensor<?xi32>) -> tensor<?xi32>
  %s = tensor.extract_slice %f[0] [4] [1] : tensor<?xi32> to tensor<4xi32>
  return %s : tensor<4xi32>
}

func.func @dynamic(%x: tensor<?x?xi32>) -> tensor<?x?xi32> {
  return %x : tensor<?x?xi32>
}
