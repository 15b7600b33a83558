// solver=chain refuses a forward pass that is not a chain, naming the op
// that reads more than the previous op's value.
// RUN: not pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.5 solver=chain" 2>&1 | FileCheck %s
// CHECK: error: pith-remat: solver=chain needs a chain: 'residual' (Add) reads a value other than the previous op's (use solver=ilp)

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @graph(%x: tensor<64x32xf32> {onnx.name = "x"}) -> (tensor<64x10xf32> {onnx.name = "y"}) {
    %w1 = onnx.Initializer "w1" dense<0.01> : tensor<32x32xf32>
    %w2 = onnx.Initializer "w2" dense<0.02> : tensor<32x32xf32>
    %w3 = onnx.Initializer "w3" dense<0.03> : tensor<32x10xf32>
    %h1 = onnx.MatMul(%x, %w1) : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32> loc("mm1")
    %r1 = onnx.Tanh(%h1) : (tensor<64x32xf32>) -> tensor<64x32xf32> loc("tanh1")
    %h2 = onnx.MatMul(%r1, %w2) : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32> loc("mm2")
    %r2 = onnx.Tanh(%h2) : (tensor<64x32xf32>) -> tensor<64x32xf32> loc("tanh2")
    %s = onnx.Add(%r1, %r2) : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32> loc("residual")
    %y = onnx.MatMul(%s, %w3) : (tensor<64x32xf32>, tensor<32x10xf32>) -> tensor<64x10xf32> loc("mm3")
    return %y : tensor<64x10xf32>
  }
}
