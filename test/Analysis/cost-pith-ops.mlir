// RUN: pith-opt %s --pith-print-cost -o /dev/null | FileCheck %s

// The cost model on pith ops: a parameter shared by two layers counts once
// (in the first layer using it); a factored linear map costs
// rows * (K*R + R*N) MACs: 8 * (384*32 + 32*1536) = 491520.
// CHECK:      layer{{ +}}nodes   parameters
// CHECK-NEXT: /layers.0{{ +}}2{{ +}}208896
// CHECK-NEXT: /layers.1{{ +}}1{{ +}}0
// CHECK-NEXT: total{{ +}}3{{ +}}208896
// CHECK-NEXT: parameters: 208896 (208896 nonzero)
// CHECK-NEXT: weight bytes: f32 835584
// CHECK-NEXT: MACs: 2850816
// shared: 8*384*384 = 1179648 MACs per use, twice; factored: 491520.
// CHECK-NEXT: FLOPs: 5701632
module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  pith.parameter @shared : tensor<384x384xf32> = dense<1.0> : tensor<384x384xf32> sources ["layers.0.w", "layers.1.w"]
  pith.parameter @u : tensor<384x32xf32> = dense<1.0> : tensor<384x32xf32> sources ["layers.0.fc"]
  pith.parameter @v : tensor<32x1536xf32> = dense<1.0> : tensor<32x1536xf32> sources ["layers.0.fc"]
  func.func @graph(%x: tensor<8x384xf32>) -> (tensor<8x1536xf32>, tensor<8x384xf32>) {
    %w = pith.use @shared : tensor<384x384xf32>
    %h = onnx.MatMul(%x, %w) : (tensor<8x384xf32>, tensor<384x384xf32>) -> tensor<8x384xf32> loc("/layers.0/attn/MatMul")
    %u = pith.use @u : tensor<384x32xf32>
    %v = pith.use @v : tensor<32x1536xf32>
    %y = pith.factored_linear %h, %u, %v : (tensor<8x384xf32>, tensor<384x32xf32>, tensor<32x1536xf32>) -> tensor<8x1536xf32> loc("/layers.0/ffn/MatMul")
    %w1 = pith.use @shared : tensor<384x384xf32>
    %z = onnx.MatMul(%h, %w1) : (tensor<8x384xf32>, tensor<384x384xf32>) -> tensor<8x384xf32> loc("/layers.1/attn/MatMul")
    return %y, %z : tensor<8x1536xf32>, tensor<8x384xf32>
  }
}
