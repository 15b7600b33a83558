// RUN: pith-opt %s | pith-opt | FileCheck %s

// Round trip of onnx.Custom, the op that keeps nodes of other domains (and
// ai.onnx operators the opset lacks) verbatim: domain, op type, attributes,
// graph attributes as regions, and the discardable attributes the importer
// adds (onnx.names, onnx.subgraphs).

// A node of another domain, with ONNX attributes of several kinds.
// CHECK-LABEL: func.func @other_domain
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<3x4xf32>)
func.func @other_domain(%x: tensor<2x3xf32>, %y: tensor<3x4xf32>) -> tensor<2x4xf32> {
  // CHECK: onnx.Custom "com.microsoft" "FusedMatMul"(%[[X]], %[[Y]]) {alpha = 1.000000e+00 : f32, mode = "fast", perm = array<i64: 1, 0>} graphs []
  // CHECK-SAME: : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %0 = onnx.Custom "com.microsoft" "FusedMatMul"(%x, %y) {alpha = 1.0 : f32, mode = "fast", perm = array<i64: 1, 0>} graphs [] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// Every imported node carries onnx.names, printed between the ONNX
// attributes and the graphs; a Custom op without graphs reads it back.
// CHECK-LABEL: func.func @names_without_graphs
func.func @names_without_graphs(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: onnx.Custom "ai.onnx.ml" "Normalizer"(%{{.*}}) {norm = "L2"} {onnx.names = ["w"]} graphs []
  %0 = onnx.Custom "ai.onnx.ml" "Normalizer"(%x) {norm = "L2"} {onnx.names = ["w"]} graphs [] : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// Graph attributes are regions, named by graph_attrs in order; they may read
// values of the enclosing graph.
// CHECK-LABEL: func.func @graphs
// CHECK-SAME: (%[[C:.*]]: tensor<i1>, %[[X:.*]]: tensor<2xf32>)
func.func @graphs(%c: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: onnx.Custom "com.example" "Branch"(%[[C]]) {} {onnx.names = ["z"]} graphs ["then_branch", "else_branch"] {
  // CHECK-NEXT: %[[R:.*]] = onnx.Relu(%[[X]])
  // CHECK-NEXT: onnx.Yield %[[R]] : tensor<2xf32>
  // CHECK-NEXT: }, {
  // CHECK-NEXT: onnx.Yield %[[X]] : tensor<2xf32>
  // CHECK-NEXT: } : (tensor<i1>) -> tensor<2xf32>
  %0 = onnx.Custom "com.example" "Branch"(%c) {} {onnx.names = ["z"]} graphs ["then_branch", "else_branch"] {
    %r = onnx.Relu(%x) : (tensor<2xf32>) -> tensor<2xf32>
    onnx.Yield %r : tensor<2xf32>
  }, {
    onnx.Yield %x : tensor<2xf32>
  } : (tensor<i1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// Several results, and no operands.
// CHECK-LABEL: func.func @no_inputs_two_outputs
func.func @no_inputs_two_outputs() -> (tensor<f32>, tensor<i64>) {
  // CHECK: %[[R:.*]]:2 = onnx.Custom "com.example" "Source"() {} graphs [] : () -> (tensor<f32>, tensor<i64>)
  %0:2 = onnx.Custom "com.example" "Source"() {} graphs [] : () -> (tensor<f32>, tensor<i64>)
  // CHECK: return %[[R]]#0, %[[R]]#1
  return %0#0, %0#1 : tensor<f32>, tensor<i64>
}
