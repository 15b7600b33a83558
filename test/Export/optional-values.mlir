// RUN: pith-translate --export-onnx %s --onnx-text | FileCheck %s

// Absent optional values are empty names: trailing ones are dropped, those
// before a present one stay (for inputs and for outputs).

// CHECK-LABEL: optional_values (float[4] x, float hi, float[1,1,4] img) => (float[4] upper, float[4] same, float[4] normed, float[4] inv, float[1,1,3] pooled)
module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @optional_values(%x: tensor<4xf32> {onnx.name = "x"}, %hi: tensor<f32> {onnx.name = "hi"}, %img: tensor<1x1x4xf32> {onnx.name = "img"})
      -> (tensor<4xf32> {onnx.name = "upper"}, tensor<4xf32> {onnx.name = "same"}, tensor<4xf32> {onnx.name = "normed"}, tensor<4xf32> {onnx.name = "inv"}, tensor<1x1x3xf32> {onnx.name = "pooled"}) {
    %none = onnx.None
    %scale = onnx.Initializer "scale" dense<[1.0, 1.0, 1.0, 1.0]> : tensor<4xf32>
    // An absent input before a present one is kept.
    // CHECK: upper = Clip (x, , hi)
    %0 = onnx.Clip(%x, %none, %hi) {onnx.names = ["upper"]} : (tensor<4xf32>, none, tensor<f32>) -> tensor<4xf32>
    // Trailing absent inputs are dropped.
    // CHECK-NEXT: same = Clip (x)
    %1 = onnx.Clip(%x, %none, %none) {onnx.names = ["same"]} : (tensor<4xf32>, none, none) -> tensor<4xf32>
    // An absent output before a present one is kept, trailing ones dropped:
    // Mean is absent, InvStdDev present.
    // CHECK-NEXT: normed, , inv = LayerNormalization <axis = -1> (x, scale)
    %2:3 = onnx.LayerNormalization(%x, %scale, %none) {axis = -1 : i64, onnx.names = ["normed", "", "inv"]} : (tensor<4xf32>, tensor<4xf32>, none) -> (tensor<4xf32>, none, tensor<4xf32>)
    // Only an absent trailing output: MaxPool without Indices.
    // CHECK-NEXT: pooled = MaxPool <kernel_shape = [2]> (img)
    %3:2 = onnx.MaxPool(%img) {kernel_shape = array<i64: 2>, onnx.names = ["pooled", ""]} : (tensor<1x1x4xf32>) -> (tensor<1x1x3xf32>, none)
    return %0, %1, %2#0, %2#2, %3#0 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x1x3xf32>
  }
}
