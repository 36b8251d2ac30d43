// Matmuls on AMX tiles (int8 by annotation: at these sizes the cost model
// picks bit-serial), as 1 x 1 convolutions of one row of M pixels.

// Flat pixels decoded by the kernel from the packed lhs argument (2-bit
// unsigned, K = 100: two chunks of 64, the second partial) x 2-bit signed
// weights; 40 rows: 3 tiles, the last overlapping the one before.
func.func @flat(%a: tensor<40x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>,
                %b: tensor<48x100xi8>) -> tensor<40x48xi32> {
  %pb = bitserial.pack %b : tensor<48x100xi8>
      -> tensor<48x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<40x48xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<40x48xi32>) -> tensor<40x48xi32>
  %y = bitserial.matmul
      ins(%a, %pb : tensor<40x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>,
                    tensor<48x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>)
      outs(%init : tensor<40x48xi32>) {bitserial.kernel = "int8"} -> tensor<40x48xi32>
  return %y : tensor<40x48xi32>
}

// Bipolar x bipolar with an init argument and 40 output columns (a
// partial block of 16): tiles through the stack buffers, init added after
// them (the tile of rows 24-39 overlaps the one of rows 16-31, in another
// register block).
func.func @with_init(%a: tensor<40x70xi8>, %b: tensor<40x70xi8>, %init: tensor<40x40xi32>) -> tensor<40x40xi32> {
  %pa = bitserial.pack %a : tensor<40x70xi8>
      -> tensor<40x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>
  %pb = bitserial.pack %b : tensor<40x70xi8>
      -> tensor<40x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>
  %y = bitserial.matmul
      ins(%pa, %pb : tensor<40x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>,
                     tensor<40x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>)
      outs(%init : tensor<40x40xi32>) {bitserial.kernel = "int8"} -> tensor<40x40xi32>
  return %y : tensor<40x40xi32>
}

// i64 results, 3-bit signed x 2-bit unsigned, K = 300 (five chunks).
func.func @wide_result(%a: tensor<17x300xi8>, %b: tensor<32x300xi8>) -> tensor<17x32xi64> {
  %pa = bitserial.pack %a : tensor<17x300xi8>
      -> tensor<17x3x5xi64, #bitserial.packed<bits = 3, encoding = signed, length = 300>>
  %pb = bitserial.pack %b : tensor<32x300xi8>
      -> tensor<32x2x5xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 300>>
  %zero = arith.constant 0 : i64
  %empty = tensor.empty() : tensor<17x32xi64>
  %init = linalg.fill ins(%zero : i64) outs(%empty : tensor<17x32xi64>) -> tensor<17x32xi64>
  %y = bitserial.matmul
      ins(%pa, %pb : tensor<17x3x5xi64, #bitserial.packed<bits = 3, encoding = signed, length = 300>>,
                     tensor<32x2x5xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 300>>)
      outs(%init : tensor<17x32xi64>) {bitserial.kernel = "int8"} -> tensor<17x32xi64>
  return %y : tensor<17x32xi64>
}

// 1.6 MB of i8 weights (1600 x 1024, past a core's cache): channel blocks
// outer, each read once; on 2 threads a task per channel group.
func.func @big(%a: tensor<24x1024xi8>,
               %b: tensor<1600x1x16xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 1024>>) -> tensor<24x1600xi32> {
  %pa = bitserial.pack %a : tensor<24x1024xi8>
      -> tensor<24x2x16xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 1024>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<24x1600xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<24x1600xi32>) -> tensor<24x1600xi32>
  %y = bitserial.matmul
      ins(%pa, %b : tensor<24x2x16xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 1024>>,
                    tensor<1600x1x16xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 1024>>)
      outs(%init : tensor<24x1600xi32>) {bitserial.kernel = "int8"} -> tensor<24x1600xi32>
  return %y : tensor<24x1600xi32>
}
