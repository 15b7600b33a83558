module attributes {onnx.opset_import = {ai.onnx = 13 : i64}} {
  func.func @graph(%x: tensor<4x8xf32> {onnx.name = "x"}) -> (tensor<4x5xf32> {onnx.name = "y"}) {
    %w1 = onnx.Initializer "w1" dense<0.1> : tensor<8x5xf32>
    %y = onnx.MatMul(%x, %w1) : (tensor<4x8xf32>, tensor<8x5xf32>) -> tensor<4x5xf32>
    return %y : tensor<4x5xf32>
  }
}
