// RUN: pith-opt %s --pith-expand-to-onnx | FileCheck %s
// RUN: pith-translate --export-onnx %s --onnx-text | FileCheck %s --check-prefix=ONNX
// RUN: pith-translate --export-onnx %s -o %t.onnx
// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.arange(8, dtype=np.float32).reshape(2, 4))"
// RUN: pith run %t.onnx --input x=%t.x.npy --output-dir %t.out
// RUN: %python -c "import numpy as np; print(np.load('%t.out/y.npy').tolist())" | FileCheck %s --check-prefix=VALUES

// A parameter shared by two layers is one initializer with two consumers; a
// factored linear map is two MatMuls and an Add; the checkpoint and the
// precision mark disappear.
module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  pith.parameter @shared : tensor<4x4xf32> = dense<0.5> : tensor<4x4xf32> sources ["layer.0.w", "layer.1.w"]
  pith.parameter @u : tensor<4x2xf32> = dense<1.0> : tensor<4x2xf32> sources ["fc.weight"]
  pith.parameter @v : tensor<2x3xf32> = dense<0.25> : tensor<2x3xf32> sources ["fc.weight"]
  pith.parameter @bias : tensor<3xf32> = dense<[1.0, 2.0, 3.0]> : tensor<3xf32> sources ["fc.bias"]

  // CHECK-NOT:   pith.
  // CHECK-LABEL: func @graph
  // CHECK-DAG:     %[[W:.*]] = onnx.Initializer "shared" dense<5.000000e-01> : tensor<4x4xf32>
  // CHECK-DAG:     %[[U:.*]] = onnx.Initializer "u"
  // CHECK-DAG:     %[[V:.*]] = onnx.Initializer "v"
  // CHECK-DAG:     %[[B:.*]] = onnx.Initializer "bias"
  // CHECK:         %[[H0:.*]] = onnx.MatMul(%arg0, %[[W]])
  // CHECK:         %[[H1:.*]] = onnx.MatMul(%[[H0]], %[[W]])
  // CHECK:         %[[XU:.*]] = onnx.MatMul(%[[H1]], %[[U]]) : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  // CHECK:         %[[XUV:.*]] = onnx.MatMul(%[[XU]], %[[V]]) : (tensor<2x2xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK:         %[[Y:.*]] = onnx.Add(%[[XUV]], %[[B]])
  // CHECK-NOT:     pith.precision
  // CHECK:         return %[[Y]]
  func.func @graph(%x: tensor<2x4xf32> {onnx.name = "x"}) -> (tensor<2x3xf32> {onnx.name = "y"}) {
    %w0 = pith.use @shared : tensor<4x4xf32>
    %h0 = onnx.MatMul(%x, %w0) {onnx.names = ["h0"], pith.precision = #pith.precision<compute = f16, accumulate = f32>} : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
    %c = pith.checkpoint "recompute" %h0 : tensor<2x4xf32>
    %w1 = pith.use @shared : tensor<4x4xf32>
    %h1 = onnx.MatMul(%c, %w1) {onnx.names = ["h1"]} : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
    %u = pith.use @u : tensor<4x2xf32>
    %v = pith.use @v : tensor<2x3xf32>
    %b = pith.use @bias : tensor<3xf32>
    %y = pith.factored_linear %h1, %u, %v bias %b : (tensor<2x4xf32>, tensor<4x2xf32>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %y : tensor<2x3xf32>
  }
}

// One initializer per parameter, the shared one read by both layers.
// ONNX: <float[4,4] shared = {0.5, {{.*}}}, float[4,2] u = {{.*}}, float[2,3] v = {{.*}}, float[3] bias = {1.0, 2.0, 3.0}>
// ONNX: h0 = MatMul (x, shared)
// ONNX: h1 = MatMul (h0, shared)
// ONNX: = MatMul (h1, u)
// ONNX: = MatMul ({{.*}}, v)
// ONNX: y = Add ({{.*}}, bias)

// The exported model runs: x is [[0,1,2,3],[4,5,6,7]]; through the shared
// 0.5 weight twice, the all-ones U and the 0.25 V, each row becomes
// 2 * sum(x row) + bias.
// VALUES: {{\[\[}}13.0, 14.0, 15.0], [45.0, 46.0, 47.0]]
