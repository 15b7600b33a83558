// A convolution whose [F=3, C=2, 2, 2] weight has rank 1 as a (C kh kw) x F
// matrix: with conv=true, rank 1 reproduces it as a convolution with one
// filter and a 1x1 convolution (keeping the bias and the padding).
// RUN: pith-opt %s --pith-low-rank="rank=1 conv=true min-size=0" > %t.mlir
// RUN: FileCheck %s < %t.mlir
// CHECK: "1 of 1 layers factored (plain SVD): 24 -> 11 parameters (0.458 kept), output error not measured"
// CHECK-SAME: "'w' (8x3): rank 1, 24 -> 11 parameters, energy kept 1.0000, weight error {{.*}}"
// CHECK:      %[[F:.*]] = onnx.Conv(%arg0, %{{.*}}, %{{.*}}) {kernel_shape = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>, none) -> tensor<1x1x5x5xf32>
// CHECK:      onnx.Conv(%[[F]], %{{.*}}, %{{.*}}) {kernel_shape = array<i64: 1, 1>, onnx.names = ["y"]} : (tensor<1x1x5x5xf32>, tensor<3x1x1x1xf32>, tensor<3xf32>) -> tensor<1x3x5x5xf32>
// RUN: pith-translate --export-onnx %t.mlir -o %t.onnx
// RUN: pith-translate --export-onnx %s -o %t.original.onnx
// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.random.default_rng(0).normal(size=(1, 2, 4, 4)).astype(np.float32)); np.savez('%t.npz', x=np.load('%t.x.npy'))"
// RUN: pith run %t.onnx --input x=%t.x.npy --output-dir %t.out
// RUN: %python %S/Inputs/pith_vs_onnxruntime.py %t.original.onnx %t.npz %t.out | FileCheck %s --check-prefix=SAME
// SAME: within 1e-4 of onnxruntime

// Without conv=true, convolutions stay, with the reason.
// RUN: pith-opt %s --pith-low-rank="rank=1 min-size=0" | FileCheck %s --check-prefix=NO-CONV
// NO-CONV: "not factored: 'w' (onnx.Conv): a convolution (conv=true factors it as a matrix)"

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @graph(%x: tensor<1x2x4x4xf32> {onnx.name = "x"}) -> (tensor<1x3x5x5xf32> {onnx.name = "y"}) {
    // Filter f is (f + 1) times one 2x2x2 pattern.
    %w = onnx.Initializer "w" dense<[[[[1.0, -1.0], [0.5, 2.0]], [[0.0, 1.0], [-2.0, 0.25]]],
                                     [[[2.0, -2.0], [1.0, 4.0]], [[0.0, 2.0], [-4.0, 0.5]]],
                                     [[[3.0, -3.0], [1.5, 6.0]], [[0.0, 3.0], [-6.0, 0.75]]]]> : tensor<3x2x2x2xf32>
    %b = onnx.Initializer "b" dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
    %y = onnx.Conv(%x, %w, %b) {kernel_shape = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, onnx.names = ["y"]} : (tensor<1x2x4x4xf32>, tensor<3x2x2x2xf32>, tensor<3xf32>) -> tensor<1x3x5x5xf32>
    return %y : tensor<1x3x5x5xf32>
  }
}
