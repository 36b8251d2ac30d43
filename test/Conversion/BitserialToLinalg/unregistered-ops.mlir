// Unregistered ops with packed types are rebuilt with plain types (and do
// not crash the conversion).
// RUN: bitserial-opt %s --allow-unregistered-dialect --convert-bitserial-to-linalg | FileCheck %s
// CHECK-LABEL: func.func @unregistered_producer
// CHECK: "test.make"() : () -> tensor<1x1x1xi64>
func.func @unregistered_producer() -> tensor<1x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>> {
  %0 = "test.make"() : () -> tensor<1x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>
  return %0 : tensor<1x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>
}
