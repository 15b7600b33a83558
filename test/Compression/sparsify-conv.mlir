// pith-sparsify with the activation criterion (Wanda) on a grouped
// convolution: each weight is scored by |w| times the norm of the input
// channel it multiplies (over the batch and every position), and the
// channel is the one of the filter's group. Calibration channel norms are
// 1, 10 | 10, 1 (group 0 | group 1); filters 0-1 read channels 0-1, filters
// 2-3 channels 2-3. Per filter, unstructured 50% keeps the better of two:
//   filter 0: |3, 1|   -> scores 3, 10   -> keeps channel 1   01
//   filter 1: |2, 1.5| -> scores 2, 15   -> keeps channel 1   01
//   filter 2: |1, 3|   -> scores 10, 3   -> keeps channel 0   10
//   filter 3: |1.5, 2| -> scores 15, 2   -> keeps channel 0   10
// (group 1 scored with group 0's norms would keep channel 1 in filters 2-3;
// magnitude keeps the four largest of the layer, 3, 2, 3, 2: 10 10 01 01).
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; x = np.ones((2, 4, 3, 3), np.float32); x[:, 1] = 10; x[:, 2] = 10; np.savez('%t/cal.npz', x=x); np.save('%t/x.npy', x)"
// RUN: pith-opt %s --pith-sparsify="pattern=unstructured sparsity=0.5 criterion=activation min-size=0 calibration=%t/cal.npz" -o %t/a.mlir
// RUN: FileCheck %s --check-prefix=REPORT < %t/a.mlir
// REPORT: "1 layers pruned (unstructured, activation): 8 -> 4 nonzero weights (50.0% zeros); output error
// REPORT: pith.parameter @w : tensor<4x2x1x1xf32> = {{.*}} sparsity <pattern = "unstructured", axis = 1
// RUN: pith-translate --export-onnx %t/a.mlir -o %t/a.onnx
// RUN: %python %S/Inputs/weight_masks.py %t/a.onnx w | FileCheck %s --check-prefix=ACTIVATION
// ACTIVATION:      w 4x2x1x1:
// ACTIVATION-NEXT: 01
// ACTIVATION-NEXT: 01
// ACTIVATION-NEXT: 10
// ACTIVATION-NEXT: 10
// RUN: pith-opt %s --pith-sparsify="pattern=unstructured sparsity=0.5 min-size=0" -o %t/m.mlir
// RUN: pith-translate --export-onnx %t/m.mlir -o %t/m.onnx
// RUN: %python %S/Inputs/weight_masks.py %t/m.onnx w | FileCheck %s --check-prefix=MAGNITUDE
// MAGNITUDE:      w 4x2x1x1:
// MAGNITUDE-NEXT: 10
// MAGNITUDE-NEXT: 10
// MAGNITUDE-NEXT: 01
// MAGNITUDE-NEXT: 01

// The pruned model runs in Pith as in onnxruntime.
// RUN: pith run %t/a.onnx --input x=%t/x.npy --output-dir %t/out
// RUN: %python %S/Inputs/pith_vs_onnxruntime.py %t/a.onnx %t/cal.npz %t/out | FileCheck %s --check-prefix=ORT
// ORT: within 1e-4 of onnxruntime

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @graph(%x: tensor<2x4x3x3xf32> {onnx.name = "x"})
      -> (tensor<2x4x3x3xf32> {onnx.name = "y"}) {
    %w = onnx.Initializer "w" dense<[[[[3.0]], [[-1.0]]], [[[2.0]], [[1.5]]],
                                     [[[-1.0]], [[3.0]]], [[[1.5]], [[-2.0]]]]> : tensor<4x2x1x1xf32>
    %none = onnx.None
    %y = onnx.Conv(%x, %w, %none) {group = 2 : i64} : (tensor<2x4x3x3xf32>, tensor<4x2x1x1xf32>, none) -> tensor<2x4x3x3xf32>
    return %y : tensor<2x4x3x3xf32>
  }
}
