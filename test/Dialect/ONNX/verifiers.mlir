// RUN: pith-opt %s | FileCheck %s

// Valid edge cases the semantic verifiers (ONNXVerifiers.cpp) must accept;
// invalid.mlir has the cases they reject.

// Axes at both ends of [-rank, rank); Flatten's axis may equal the rank.
// CHECK-LABEL: func.func @axis_bounds
func.func @axis_bounds(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<6x1xf32>) {
  // CHECK: onnx.Softmax(%{{.*}}) {axis = -2 : i64}
  %0 = onnx.Softmax(%x) {axis = -2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: onnx.Softmax(%{{.*}}) {axis = 1 : i64}
  %1 = onnx.Softmax(%x) {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: onnx.Flatten(%{{.*}}) {axis = 2 : i64}
  %2 = onnx.Flatten(%x) {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return %0, %1, %2 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<6x1xf32>
}

// Checks apply only where types are known: unranked and unknown operands
// pass.
// CHECK-LABEL: func.func @unknown_ranks
func.func @unknown_ranks(%a: tensor<*xf32>, %b: !onnx.unknown, %c: tensor<2x3xf32>) -> (!onnx.unknown, !onnx.unknown, !onnx.unknown) {
  %none = onnx.None
  // CHECK: onnx.Gemm
  %0 = onnx.Gemm(%a, %b, %none) : (tensor<*xf32>, !onnx.unknown, none) -> !onnx.unknown
  // CHECK: onnx.Concat
  %1 = onnx.Concat(%a, %c, %b) {axis = 1 : i64} : (tensor<*xf32>, tensor<2x3xf32>, !onnx.unknown) -> !onnx.unknown
  // CHECK: onnx.Transpose
  %2 = onnx.Transpose(%a) {perm = array<i64: 2, 0, 1>} : (tensor<*xf32>) -> !onnx.unknown
  return %0, %1, %2 : !onnx.unknown, !onnx.unknown, !onnx.unknown
}

// QLinearConv's weight is operand 3; its scalar scales and zero points
// (operands 1, 2) are no weights.
// CHECK-LABEL: func.func @qlinearconv_scalars
func.func @qlinearconv_scalars(%x: tensor<1x3x8x8xi8>, %s: tensor<f32>, %z: tensor<i8>, %w: tensor<4x3x3x3xi8>, %b: tensor<4xi32>) -> tensor<1x4x6x6xi8> {
  // CHECK: onnx.QLinearConv
  %0 = onnx.QLinearConv(%x, %s, %z, %w, %s, %z, %s, %z, %b) : (tensor<1x3x8x8xi8>, tensor<f32>, tensor<i8>, tensor<4x3x3x3xi8>, tensor<f32>, tensor<i8>, tensor<f32>, tensor<i8>, tensor<4xi32>) -> tensor<1x4x6x6xi8>
  return %0 : tensor<1x4x6x6xi8>
}

// Cast-25 adds UINT2 (25) and INT2 (26), Cast-28 FLOAT6E2M3 (27) and
// FLOAT6E3M2 (28); Pith's schema table is ONNX 1.23's (opset 28).
// CHECK-LABEL: func.func @cast_newest_types
func.func @cast_newest_types(%x: tensor<2xf32>) -> (!onnx.unknown, !onnx.unknown, !onnx.unknown) {
  // CHECK: onnx.Cast(%{{.*}}) {to = 25 : i64}
  %0 = onnx.Cast(%x) {to = 25 : i64} : (tensor<2xf32>) -> !onnx.unknown
  // CHECK: onnx.Cast(%{{.*}}) {to = 26 : i64}
  %1 = onnx.Cast(%x) {to = 26 : i64} : (tensor<2xf32>) -> !onnx.unknown
  // CHECK: onnx.Cast(%{{.*}}) {to = 28 : i64}
  %2 = onnx.Cast(%x) {to = 28 : i64} : (tensor<2xf32>) -> !onnx.unknown
  return %0, %1, %2 : !onnx.unknown, !onnx.unknown, !onnx.unknown
}

// A Loop with no carried values and only scan outputs; an If without
// results.
// CHECK-LABEL: func.func @subgraph_arities
func.func @subgraph_arities(%m: tensor<i64>, %c: tensor<i1>, %x: tensor<2xf32>) -> tensor<?x2xf32> {
  // CHECK: onnx.Loop
  %0 = onnx.Loop(%m, %c) ({
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>):
    onnx.Yield %cond, %x : tensor<i1>, tensor<2xf32>
  }) : (tensor<i64>, tensor<i1>) -> tensor<?x2xf32>
  // CHECK: onnx.If
  onnx.If(%c) ({
    onnx.Yield
  }, {
    onnx.Yield
  }) : (tensor<i1>) -> ()
  return %0 : tensor<?x2xf32>
}
