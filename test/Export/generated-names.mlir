// RUN: pith-translate --export-onnx %s --onnx-text | FileCheck %s

// IR written by hand has no onnx.names or onnx.name: export makes up unique
// names (input_<i>, output_<i>, pith_<n>), and a name wanted twice gets a
// suffix, so every ONNX value name is defined once.

// CHECK-LABEL: main_graph (float[2] input_0, float[2] y) => (float[2] output_0, float[2] output_1)
// CHECK-NEXT: {
// CHECK-NEXT: [[A:pith_[0-9]+]] = Add (input_0, y)
// CHECK-NEXT: output_0 = Relu ([[A]])
// CHECK-NEXT: [[DUP1:y__[0-9]+]] = Neg (output_0)
// CHECK-NEXT: [[DUP2:y__[0-9]+]] = Neg ([[DUP1]])
// CHECK-NEXT: output_1 = Abs ([[DUP2]])
// CHECK-NEXT: }
module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @main_graph(%a: tensor<2xf32>, %b: tensor<2xf32> {onnx.name = "y"}) -> (tensor<2xf32>, tensor<2xf32>) {
    %0 = onnx.Add(%a, %b) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %1 = onnx.Relu(%0) : (tensor<2xf32>) -> tensor<2xf32>
    // Both want the name of the input "y".
    %2 = onnx.Neg(%1) {onnx.names = ["y"]} : (tensor<2xf32>) -> tensor<2xf32>
    %3 = onnx.Neg(%2) {onnx.names = ["y"]} : (tensor<2xf32>) -> tensor<2xf32>
    %4 = onnx.Abs(%3) : (tensor<2xf32>) -> tensor<2xf32>
    return %1, %4 : tensor<2xf32>, tensor<2xf32>
  }
}
