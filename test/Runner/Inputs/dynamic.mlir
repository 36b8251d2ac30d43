func.func @pack_rows(%x: tensor<?x70xi8>)
    -> tensor<?x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>> {
  %p = bitserial.pack %x : tensor<?x70xi8>
      -> tensor<?x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
  return %p : tensor<?x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
}
