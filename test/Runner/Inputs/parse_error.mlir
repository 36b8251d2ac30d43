// A truncated function signature.
func.func @broken(%x: tensor<4xi8>
  return
