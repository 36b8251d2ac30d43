// Convolutions the cost model sends to AMX tiles on a CPU with AMX-INT8:
// 2 x 2 bits unsigned x signed, 3 x 3 with padding on rows of 18 pixels
// (two tiles, the second overlapping) and 20 output channels (a partial
// channel block); 2-bit bipolar x 3-bit signed (int8 by annotation: the
// estimates are level) on rows of 7 pixels (two rows per block, 7 rows:
// the last one computed twice), stride 2, 80 input channels (two chunks of
// 64), a batch of 2.
func.func @wide(%x: tensor<1x18x18x64xi8>, %w: tensor<20x3x3x64xi8>) -> tensor<1x18x18x20xi32> {
  %px = bitserial.pack %x : tensor<1x18x18x64xi8>
      -> tensor<1x18x18x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
  %pw = bitserial.pack %w : tensor<20x3x3x64xi8>
      -> tensor<20x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x18x18x20xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x18x18x20xi32>) -> tensor<1x18x18x20xi32>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<1x18x18x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>,
                     tensor<20x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>)
      outs(%init : tensor<1x18x18x20xi32>) strides = [1, 1] padding = [1, 1, 1, 1] -> tensor<1x18x18x20xi32>
  return %y : tensor<1x18x18x20xi32>
}

func.func @narrow(%x: tensor<2x14x14x80xi8>, %w: tensor<48x3x3x80xi8>) -> tensor<2x7x7x48xi32> {
  %px = bitserial.pack %x : tensor<2x14x14x80xi8>
      -> tensor<2x14x14x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 80>>
  %pw = bitserial.pack %w : tensor<48x3x3x80xi8>
      -> tensor<48x3x3x3x2xi64, #bitserial.packed<bits = 3, encoding = signed, length = 80>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<2x7x7x48xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<2x7x7x48xi32>) -> tensor<2x7x7x48xi32>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<2x14x14x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 80>>,
                     tensor<48x3x3x3x2xi64, #bitserial.packed<bits = 3, encoding = signed, length = 80>>)
      outs(%init : tensor<2x7x7x48xi32>) strides = [2, 2] padding = [1, 1, 1, 1]
      {bitserial.kernel = "int8"} -> tensor<2x7x7x48xi32>
  return %y : tensor<2x7x7x48xi32>
}

// 1.6 MB of re-laid-out weights (400 output channels, 3 x 3 x 448 padded
// channels): with threads, tasks of 2 channel blocks over all rows (the
// last task one block), not tasks of rows.
func.func @big(%x: tensor<1x5x5x400xi8>, %w: tensor<400x3x3x400xi8>) -> tensor<1x5x5x400xi32> {
  %px = bitserial.pack %x : tensor<1x5x5x400xi8>
      -> tensor<1x5x5x2x7xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 400>>
  %pw = bitserial.pack %w : tensor<400x3x3x400xi8>
      -> tensor<400x3x3x2x7xi64, #bitserial.packed<bits = 2, encoding = signed, length = 400>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x5x5x400xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x5x5x400xi32>) -> tensor<1x5x5x400xi32>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<1x5x5x2x7xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 400>>,
                     tensor<400x3x3x2x7xi64, #bitserial.packed<bits = 2, encoding = signed, length = 400>>)
      outs(%init : tensor<1x5x5x400xi32>) strides = [1, 1] padding = [1, 1, 1, 1]
      {bitserial.kernel = "int8"} -> tensor<1x5x5x400xi32>
  return %y : tensor<1x5x5x400xi32>
}

// Tiles stored straight into the output (rows of at least 16 pixels, whole
// blocks of 16 channels, no init): 3 x 3, stride 2, padding on rows of 19
// pixels (the second tile overlapping), 96 input channels (a partial chunk
// of 64), a batch of 2; and 1 x 1 on rows of 20 pixels with 3 channel
// blocks (the second group's clamped block stored twice).
func.func @direct(%x: tensor<2x6x38x96xi8>, %w: tensor<32x3x3x96xi8>) -> tensor<2x3x19x32xi32> {
  %px = bitserial.pack %x : tensor<2x6x38x96xi8>
      -> tensor<2x6x38x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 96>>
  %pw = bitserial.pack %w : tensor<32x3x3x96xi8>
      -> tensor<32x3x3x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 96>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<2x3x19x32xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<2x3x19x32xi32>) -> tensor<2x3x19x32xi32>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<2x6x38x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 96>>,
                     tensor<32x3x3x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 96>>)
      outs(%init : tensor<2x3x19x32xi32>) strides = [2, 2] padding = [1, 1, 1, 1]
      {bitserial.kernel = "int8"} -> tensor<2x3x19x32xi32>
  return %y : tensor<2x3x19x32xi32>
}

func.func @direct_1x1(%x: tensor<1x5x20x64xi8>, %w: tensor<48x1x1x64xi8>) -> tensor<1x5x20x48xi32> {
  %px = bitserial.pack %x : tensor<1x5x20x64xi8>
      -> tensor<1x5x20x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
  %pw = bitserial.pack %w : tensor<48x1x1x64xi8>
      -> tensor<48x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x5x20x48xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x5x20x48xi32>) -> tensor<1x5x20x48xi32>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<1x5x20x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>,
                     tensor<48x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>)
      outs(%init : tensor<1x5x20x48xi32>) strides = [1, 1] padding = [0, 0, 0, 0]
      {bitserial.kernel = "int8"} -> tensor<1x5x20x48xi32>
  return %y : tensor<1x5x20x48xi32>
}

// 1 x 1 with stride 2 on a batch of 2 (the sampled input decoded, the 70
// output pixels in flat tiles across rows and images), 3-bit signed x
// 2-bit bipolar codes, 128 input channels (two chunks of 64).
func.func @flat_strided(%x: tensor<2x9x13x128xi8>, %w: tensor<32x1x1x128xi8>) -> tensor<2x5x7x32xi32> {
  %px = bitserial.pack %x : tensor<2x9x13x128xi8>
      -> tensor<2x9x13x3x2xi64, #bitserial.packed<bits = 3, encoding = signed, length = 128>>
  %pw = bitserial.pack %w : tensor<32x1x1x128xi8>
      -> tensor<32x1x1x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 128>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<2x5x7x32xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<2x5x7x32xi32>) -> tensor<2x5x7x32xi32>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<2x9x13x3x2xi64, #bitserial.packed<bits = 3, encoding = signed, length = 128>>,
                     tensor<32x1x1x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 128>>)
      outs(%init : tensor<2x5x7x32xi32>) strides = [2, 2] padding = [0, 0, 0, 0]
      {bitserial.kernel = "int8"} -> tensor<2x5x7x32xi32>
  return %y : tensor<2x5x7x32xi32>
}

// Rows of 7 pixels, 3 x 3 with padding 1 and stride 1: tiles wrap over
// the padded rows (16 consecutive positions of rows of 9), a batch of 2,
// 48 output channels (the second channel group's clamped block stored
// twice).
func.func @wrapped(%x: tensor<2x7x7x64xi8>, %w: tensor<48x3x3x64xi8>) -> tensor<2x7x7x48xi32> {
  %px = bitserial.pack %x : tensor<2x7x7x64xi8>
      -> tensor<2x7x7x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
  %pw = bitserial.pack %w : tensor<48x3x3x64xi8>
      -> tensor<48x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<2x7x7x48xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<2x7x7x48xi32>) -> tensor<2x7x7x48xi32>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<2x7x7x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>,
                     tensor<48x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>)
      outs(%init : tensor<2x7x7x48xi32>) strides = [1, 1] padding = [1, 1, 1, 1]
      {bitserial.kernel = "int8"} -> tensor<2x7x7x48xi32>
  return %y : tensor<2x7x7x48xi32>
}

// Packed activations as arguments (not packed in the function) are decoded
// by the flat kernel itself, a register block's pixels at a time: 2-bit
// bipolar codes (x = 0 past K = 100 in the second chunk of 64), a batch of
// 2 with 5 x 7 pixels (70: the last tile overlaps the one before).
func.func @flat_packed(%px: tensor<2x5x7x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 100>>,
                       %w: tensor<32x1x1x100xi8>) -> tensor<2x5x7x32xi32> {
  %pw = bitserial.pack %w : tensor<32x1x1x100xi8>
      -> tensor<32x1x1x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<2x5x7x32xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<2x5x7x32xi32>) -> tensor<2x5x7x32xi32>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<2x5x7x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 100>>,
                     tensor<32x1x1x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>)
      outs(%init : tensor<2x5x7x32xi32>) strides = [1, 1] padding = [0, 0, 0, 0]
      {bitserial.kernel = "int8"} -> tensor<2x5x7x32xi32>
  return %y : tensor<2x5x7x32xi32>
}

// The same with stride 2, 3-bit signed activations in i32 words: the
// kernel decodes the sampled pixels from a strided view of the words.
func.func @flat_packed_strided(%px: tensor<1x9x13x3x4xi32, #bitserial.packed<bits = 3, encoding = signed, length = 100>>,
                               %w: tensor<48x1x1x100xi8>) -> tensor<1x5x7x48xi32> {
  %pw = bitserial.pack %w : tensor<48x1x1x100xi8>
      -> tensor<48x1x1x2x4xi32, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x5x7x48xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x5x7x48xi32>) -> tensor<1x5x7x48xi32>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<1x9x13x3x4xi32, #bitserial.packed<bits = 3, encoding = signed, length = 100>>,
                     tensor<48x1x1x2x4xi32, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>)
      outs(%init : tensor<1x5x7x48xi32>) strides = [2, 2] padding = [0, 0, 0, 0]
      {bitserial.kernel = "int8"} -> tensor<1x5x7x48xi32>
  return %y : tensor<1x5x7x48xi32>
}

// 35 x 31 pixels (68 tiles, the last overlapping, in 34 groups of 2): the
// kernel decodes group g + 1 into one half of its buffer while group g is
// read from the other; with threads, 12 tasks of 3 consecutive groups (the
// last of 1).
func.func @flat_packed_tasks(%px: tensor<1x35x31x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>,
                             %w: tensor<32x1x1x64xi8>) -> tensor<1x35x31x32xi32> {
  %pw = bitserial.pack %w : tensor<32x1x1x64xi8>
      -> tensor<32x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x35x31x32xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x35x31x32xi32>) -> tensor<1x35x31x32xi32>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<1x35x31x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>,
                     tensor<32x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>)
      outs(%init : tensor<1x35x31x32xi32>) strides = [1, 1] padding = [0, 0, 0, 0]
      {bitserial.kernel = "int8"} -> tensor<1x35x31x32xi32>
  return %y : tensor<1x35x31x32xi32>
}

// Rows of 14 pixels (one tile each, in pairs of rows), 3 x 3 with padding
// 1, 256 input channels: register blocks of one channel block (two would
// read 72 KB of weights), and 7 pairs of rows, so with threads each pair's
// 64 channels are two tasks of 32.
func.func @odd_pairs(%x: tensor<1x14x14x256xi8>, %w: tensor<64x3x3x256xi8>) -> tensor<1x14x14x64xi32> {
  %px = bitserial.pack %x : tensor<1x14x14x256xi8>
      -> tensor<1x14x14x2x4xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 256>>
  %pw = bitserial.pack %w : tensor<64x3x3x256xi8>
      -> tensor<64x3x3x2x4xi64, #bitserial.packed<bits = 2, encoding = signed, length = 256>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x14x14x64xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x14x14x64xi32>) -> tensor<1x14x14x64xi32>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<1x14x14x2x4xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 256>>,
                     tensor<64x3x3x2x4xi64, #bitserial.packed<bits = 2, encoding = signed, length = 256>>)
      outs(%init : tensor<1x14x14x64xi32>) strides = [1, 1] padding = [1, 1, 1, 1]
      {bitserial.kernel = "int8"} -> tensor<1x14x14x64xi32>
  return %y : tensor<1x14x14x64xi32>
}

// Rows of 40 pixels with an init argument: tiles at 0, 16 and 24 (the last
// overlapping the one before, in another register block), the products
// stored straight into an output buffer and init added after them, once.
func.func @wide_init(%x: tensor<1x4x40x64xi8>, %w: tensor<32x3x3x64xi8>, %init: tensor<1x4x40x32xi32>) -> tensor<1x4x40x32xi32> {
  %px = bitserial.pack %x : tensor<1x4x40x64xi8>
      -> tensor<1x4x40x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
  %pw = bitserial.pack %w : tensor<32x3x3x64xi8>
      -> tensor<32x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
  %y = bitserial.conv2d
      ins(%px, %pw : tensor<1x4x40x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>,
                     tensor<32x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>)
      outs(%init : tensor<1x4x40x32xi32>) strides = [1, 1] padding = [1, 1, 1, 1]
      {bitserial.kernel = "int8"} -> tensor<1x4x40x32xi32>
  return %y : tensor<1x4x40x32xi32>
}
