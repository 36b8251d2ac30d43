// Results that share a buffer with each other, an argument or a constant:
// compiled ahead of time, each must be a fresh buffer of its own.
func.func @same_twice(%x: tensor<3x5xi32>) -> (tensor<3x5xi32>, tensor<3x5xi32>) {
  %empty = tensor.empty() : tensor<3x5xi32>
  %y = linalg.add ins(%x, %x : tensor<3x5xi32>, tensor<3x5xi32>) outs(%empty : tensor<3x5xi32>) -> tensor<3x5xi32>
  return %y, %y : tensor<3x5xi32>, tensor<3x5xi32>
}

func.func @argument_thrice(%x: tensor<?x130xi8>) -> (tensor<?x130xi8>, tensor<?x130xi8>, tensor<?x130xi8>) {
  return %x, %x, %x : tensor<?x130xi8>, tensor<?x130xi8>, tensor<?x130xi8>
}

func.func @constant_twice() -> (tensor<2xi32>, tensor<2xi32>) {
  %c = arith.constant dense<[7, -9]> : tensor<2xi32>
  return %c, %c : tensor<2xi32>, tensor<2xi32>
}

// Rank 0 and i1.
func.func @scalars(%x: tensor<i64>, %b: tensor<4xi1>) -> (tensor<i64>, tensor<4xi1>, tensor<i64>) {
  return %x, %b, %x : tensor<i64>, tensor<4xi1>, tensor<i64>
}

// An accumulator updated in place, returned with its old value.
func.func @update(%acc: tensor<2x3xi32>) -> (tensor<2x3xi32>, tensor<2x3xi32>) {
  %r = linalg.add ins(%acc, %acc : tensor<2x3xi32>, tensor<2x3xi32>) outs(%acc : tensor<2x3xi32>) -> tensor<2x3xi32>
  return %r, %acc : tensor<2x3xi32>, tensor<2x3xi32>
}

// One result: the argument itself.
func.func @identity(%x: tensor<4xi16>) -> tensor<4xi16> {
  return %x : tensor<4xi16>
}
