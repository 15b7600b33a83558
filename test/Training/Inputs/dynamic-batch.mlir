module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @graph(%x: tensor<?x8xf32> {onnx.name = "x"}) -> (tensor<?x5xf32> {onnx.name = "y"}) {
    %w1 = onnx.Initializer "w1" dense<0.1> : tensor<8x5xf32>
    %y = onnx.MatMul(%x, %w1) : (tensor<?x8xf32>, tensor<8x5xf32>) -> tensor<?x5xf32>
    return %y : tensor<?x5xf32>
  }
}
