// Functions with undefined behavior for some inputs; undefined-behavior.test
// calls each.
func.func @extract(%x: tensor<4xi32>, %i: tensor<1xi64>) -> tensor<1xi32> {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %i[%c0] : tensor<1xi64>
  %j = arith.index_cast %v : i64 to index
  %e = tensor.extract %x[%j] : tensor<4xi32>
  %r = tensor.from_elements %e : tensor<1xi32>
  return %r : tensor<1xi32>
}
func.func @div(%x: tensor<1xi32>, %y: tensor<1xi32>) -> tensor<1xi32> {
  %c0 = arith.constant 0 : index
  %a = tensor.extract %x[%c0] : tensor<1xi32>
  %b = tensor.extract %y[%c0] : tensor<1xi32>
  %q = arith.divsi %a, %b : i32
  %r = tensor.from_elements %q : tensor<1xi32>
  return %r : tensor<1xi32>
}
func.func @recurse(%x: tensor<1xi32>) -> tensor<1xi32> {
  %r = call @recurse(%x) : (tensor<1xi32>) -> tensor<1xi32>
  %c0 = arith.constant 0 : index
  %a = tensor.extract %r[%c0] : tensor<1xi32>
  %s = arith.addi %a, %a : i32
  %t = tensor.from_elements %s : tensor<1xi32>
  return %t : tensor<1xi32>
}

func.func @huge_alloca(%x: tensor<4xi32>) -> tensor<4xi32> {
  %a = memref.alloca() : memref<100000000xi32>
  %c0 = arith.constant 0 : index
  %c7 = arith.constant 7 : i32
  linalg.fill ins(%c7 : i32) outs(%a : memref<100000000xi32>)
  %v = memref.load %a[%c0] : memref<100000000xi32>
  %t = tensor.insert %v into %x[%c0] : tensor<4xi32>
  return %t : tensor<4xi32>
}
