// pith-sparsify: exact masks of each pattern on an 8x4 weight whose
// magnitudes are a permutation of 1..32 (rows below), and the same weight
// stored transposed in a Gemm (transB: the reduction axis is 1).
//   17  3 29  8 | 22  1 14 31 |  6 26 11 19 |  2 28  9 24
//   13 32  5 20 | 27 10 16  4 | 30  7 23 15 | 12 25 18 21
// RUN: rm -rf %t && mkdir -p %t

// 2:4 along K: in each column, rows 0-3 and rows 4-7 keep their two largest.
// RUN: pith-opt %s --pith-sparsify="pattern=2:4 min-size=0" -o %t/nm.mlir
// RUN: FileCheck %s --check-prefix=NM-REPORT < %t/nm.mlir
// NM-REPORT: "2 layers pruned (2:4, magnitude): 64 -> 32 nonzero weights (50.0% zeros), output error not measured"
// NM-REPORT-SAME: "dense: 'batched' (onnx.MatMul): its weight is 3-D, not a matrix"
// NM-REPORT-SAME: "dense: 'odd' (onnx.MatMul): its reduction dimension (6) is not a multiple of 4"
// NM-REPORT-SAME: "dense: the node at {{.*}}sparsify.mlir{{.*}} (onnx.MatMul): its weight is computed at run time, not a stored parameter"
// NM-REPORT-SAME: "'w' (8x4): 2:4, 50.0% zeros, 32 -> 16 nonzero"
// NM-REPORT-SAME: "'wt' (4x8): 2:4, 50.0% zeros, 32 -> 16 nonzero"
// NM-REPORT: pith.parameter @w : tensor<8x4xf32> = {{.*}} sparsity <pattern = "2:4", axis = 0, fraction = 5.000000e-01 : f64>
// NM-REPORT: pith.parameter @wt : tensor<4x8xf32> = {{.*}} sparsity <pattern = "2:4", axis = 1, fraction = 5.000000e-01 : f64>
// RUN: pith-translate --export-onnx %t/nm.mlir -o %t/nm.onnx
// RUN: %python %S/Inputs/weight_masks.py %t/nm.onnx w wt | FileCheck %s --check-prefix=NM
// NM:      w 8x4:
// NM-NEXT: 1010
// NM-NEXT: 1011
// NM-NEXT: 0100
// NM-NEXT: 0101
// NM-NEXT: 0101
// NM-NEXT: 1000
// NM-NEXT: 1010
// NM-NEXT: 0111
// NM-NEXT: wt 4x8:
// NM-NEXT: 11000110
// NM-NEXT: 00111001
// NM-NEXT: 11000011
// NM-NEXT: 01011001

// Unstructured 75%, magnitude: the 8 largest of the layer stay (25..32).
// RUN: pith-opt %s --pith-sparsify="pattern=unstructured sparsity=0.75 min-size=0 layers=w" -o %t/u.mlir
// RUN: pith-translate --export-onnx %t/u.mlir -o %t/u.onnx
// RUN: %python %S/Inputs/weight_masks.py %t/u.onnx w | FileCheck %s --check-prefix=UNSTRUCTURED
// UNSTRUCTURED:      w 8x4:
// UNSTRUCTURED-NEXT: 0010
// UNSTRUCTURED-NEXT: 0001
// UNSTRUCTURED-NEXT: 0100
// UNSTRUCTURED-NEXT: 0100
// UNSTRUCTURED-NEXT: 0100
// UNSTRUCTURED-NEXT: 1000
// UNSTRUCTURED-NEXT: 1000
// UNSTRUCTURED-NEXT: 0100

// Exported with sparse initializers: w (8 nonzeros of 32) is stored as
// values + indices; onnx.checker accepts the file (not full_check: ONNX's
// strict shape inference types a sparse initializer as a sparse tensor, which
// no standard op takes), onnxruntime and Pith run it as the dense export.
// RUN: pith-translate --export-onnx --sparse-initializers %t/u.mlir -o %t/u.sparse.onnx
// RUN: %python -c "import onnx; m = onnx.load('%t/u.sparse.onnx'); onnx.checker.check_model(m); print('sparse', [(s.values.name, list(s.values.dims)) for s in m.graph.sparse_initializer], 'dense', sorted(t.name for t in m.graph.initializer))" | FileCheck %s --check-prefix=SPARSE-EXPORT
// SPARSE-EXPORT: sparse [('w', [8])] dense ['batched', 'odd', 'wt']
// RUN: %python -c "import numpy as np; a = dict(x=np.linspace(-1, 1, 32, dtype=np.float32).reshape(4, 8), b=np.ones((2, 3, 4), np.float32), odd_x=np.ones((4, 6), np.float32)); np.savez('%t/feeds.npz', **a); [np.save(f'%t/feed_{k}.npy', v) for k, v in a.items()]"
// RUN: pith run %t/u.sparse.onnx --input x=%t/feed_x.npy --input b=%t/feed_b.npy --input odd_x=%t/feed_odd_x.npy --output-dir %t/sparse-out
// RUN: %python %S/Inputs/pith_vs_onnxruntime.py %t/u.sparse.onnx %t/feeds.npz %t/sparse-out | FileCheck %s --check-prefix=ORT
// RUN: %python %S/Inputs/pith_vs_onnxruntime.py %t/u.onnx %t/feeds.npz %t/sparse-out | FileCheck %s --check-prefix=ORT

// block2x2 at 50%: of the eight 2x2 blocks, the four with the smallest sum
// of squares (697, 783, 1139, 1500) are zeroed.
// RUN: pith-opt %s --pith-sparsify="pattern=block2x2 sparsity=0.5 min-size=0 layers=w" -o %t/b.mlir
// RUN: FileCheck %s --check-prefix=BLOCK-ATTR < %t/b.mlir
// BLOCK-ATTR: pith.parameter @w : tensor<8x4xf32> = {{.*}} sparsity <pattern = "block2x2", axis = 0, fraction = 5.000000e-01 : f64>
// RUN: pith-translate --export-onnx %t/b.mlir -o %t/b.onnx
// RUN: %python %S/Inputs/weight_masks.py %t/b.onnx w | FileCheck %s --check-prefix=BLOCK
// BLOCK:      w 8x4:
// BLOCK-NEXT: 0011
// BLOCK-NEXT: 0011
// BLOCK-NEXT: 0000
// BLOCK-NEXT: 0000
// BLOCK-NEXT: 1100
// BLOCK-NEXT: 1100
// BLOCK-NEXT: 1111
// BLOCK-NEXT: 1111
// RUN: not pith-opt %s --pith-sparsify="pattern=block3x3 sparsity=0.5 min-size=0 layers=odd" 2>&1 | FileCheck %s --check-prefix=BLOCK-SKIP
// BLOCK-SKIP: error: pith-sparsify: layers: 'odd' cannot be pruned: its 6 x 4 matrix does not divide into block3x3 blocks

// Activation (Wanda), 50%: input feature 7 is 10x larger than the others,
// so row 7 stays whole; each column keeps its own four best.
// RUN: %python -c "import numpy as np; x = np.ones((4, 8), np.float32); x[:, 7] = 10; a = dict(x=x, b=np.ones((2, 3, 4), np.float32), odd_x=np.ones((4, 6), np.float32)); np.savez('%t/cal.npz', **a); [np.save(f'%t/{k}.npy', v) for k, v in a.items()]"
// RUN: pith-opt %s --pith-sparsify="pattern=unstructured sparsity=0.5 criterion=activation min-size=0 layers=w calibration=%t/cal.npz" -o %t/a.mlir
// RUN: FileCheck %s --check-prefix=ACT-REPORT < %t/a.mlir
// ACT-REPORT: "1 layers pruned (unstructured, activation): 32 -> 16 nonzero weights (50.0% zeros); output error
// RUN: pith-translate --export-onnx %t/a.mlir -o %t/a.onnx
// RUN: %python %S/Inputs/weight_masks.py %t/a.onnx w | FileCheck %s --check-prefix=ACTIVATION
// ACTIVATION:      w 8x4:
// ACTIVATION-NEXT: 0010
// ACTIVATION-NEXT: 1001
// ACTIVATION-NEXT: 0100
// ACTIVATION-NEXT: 0101
// ACTIVATION-NEXT: 0101
// ACTIVATION-NEXT: 1010
// ACTIVATION-NEXT: 1010
// ACTIVATION-NEXT: 1111

// Global: 50% of both layers' weights together, shared out by each
// layer's measured sensitivity; the parameters verify.
// RUN: pith-opt %s --pith-sparsify="pattern=unstructured sparsity=0.5 global=true min-size=0 layers=w,wt calibration=%t/cal.npz" | FileCheck %s --check-prefix=GLOBAL
// GLOBAL: "2 layers pruned (unstructured, magnitude, global): 64 -> {{3[0-4]}} nonzero weights
// GLOBAL: sparsity <pattern = "unstructured"
// GLOBAL: sparsity <pattern = "unstructured"

// The pruned model runs in Pith as in onnxruntime.
// RUN: pith run %t/nm.onnx --input x=%t/x.npy --input b=%t/b.npy --input odd_x=%t/odd_x.npy --output-dir %t/out
// RUN: %python %S/Inputs/pith_vs_onnxruntime.py %t/nm.onnx %t/cal.npz %t/out | FileCheck %s --check-prefix=ORT
// ORT: within 1e-4 of onnxruntime

// Bad options are errors.
// RUN: not pith-opt %s --pith-sparsify="pattern=3:2" 2>&1 | FileCheck %s --check-prefix=BAD-PATTERN
// BAD-PATTERN: error: pith-sparsify: pattern: expected 'N:M' (1 <= N < M), 'blockRxC' or 'unstructured', got '3:2'
// RUN: not pith-opt %s --pith-sparsify="pattern=2:4 sparsity=0.7" 2>&1 | FileCheck %s --check-prefix=NM-SPARSITY
// NM-SPARSITY: error: pith-sparsify: sparsity: a 2:4 pattern zeroes 0.50 of the weights; leave sparsity unset or set it to that
// RUN: not pith-opt %s --pith-sparsify="pattern=unstructured" 2>&1 | FileCheck %s --check-prefix=NO-SPARSITY
// NO-SPARSITY: error: pith-sparsify: sparsity: block and unstructured patterns need the fraction of zeros, in (0, 1)
// RUN: not pith-opt %s --pith-sparsify="sparsity=0.5 criterion=activation" 2>&1 | FileCheck %s --check-prefix=NO-CALIBRATION
// NO-CALIBRATION: error: pith-sparsify: criterion=activation needs calibration inputs
// RUN: not pith-opt %s --pith-sparsify="sparsity=0.5 criterion=size" 2>&1 | FileCheck %s --check-prefix=CRITERION
// CRITERION: error: pith-sparsify: criterion: expected 'magnitude' or 'activation', got 'size'
// RUN: not pith-opt %s --pith-sparsify="pattern=2:4 global=true calibration=%t/cal.npz" 2>&1 | FileCheck %s --check-prefix=GLOBAL-NM
// GLOBAL-NM: error: pith-sparsify: global allocates block or unstructured sparsity

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @graph(%x: tensor<4x8xf32> {onnx.name = "x"}, %b: tensor<2x3x4xf32> {onnx.name = "b"},
                   %odd_in: tensor<4x6xf32> {onnx.name = "odd_x"})
      -> (tensor<4x4xf32> {onnx.name = "y"}, tensor<4x4xf32> {onnx.name = "yt"},
          tensor<2x3x5xf32> {onnx.name = "z"}, tensor<4x4xf32> {onnx.name = "o"},
          tensor<4x4xf32> {onnx.name = "c"}) {
    %w = onnx.Initializer "w" dense<[[17.0, 3.0, 29.0, 8.0], [-22.0, -1.0, -14.0, -31.0],
                                     [6.0, 26.0, 11.0, 19.0], [-2.0, -28.0, -9.0, -24.0],
                                     [13.0, 32.0, 5.0, 20.0], [-27.0, -10.0, -16.0, -4.0],
                                     [30.0, 7.0, 23.0, 15.0], [-12.0, -25.0, -18.0, -21.0]]> : tensor<8x4xf32>
    %wt = onnx.Initializer "wt" dense<[[17.0, -22.0, 6.0, -2.0, 13.0, -27.0, 30.0, -12.0],
                                       [3.0, -1.0, 26.0, -28.0, 32.0, -10.0, 7.0, -25.0],
                                       [29.0, -14.0, 11.0, -9.0, 5.0, -16.0, 23.0, -18.0],
                                       [8.0, -31.0, 19.0, -24.0, 20.0, -4.0, 15.0, -21.0]]> : tensor<4x8xf32>
    %odd = onnx.Initializer "odd" dense<1.5> : tensor<6x4xf32>
    %batched = onnx.Initializer "batched" dense<0.5> : tensor<2x4x5xf32>
    %y = onnx.MatMul(%x, %w) : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
    %none = onnx.None
    %yt = onnx.Gemm(%x, %wt, %none) {transB = 1 : i64} : (tensor<4x8xf32>, tensor<4x8xf32>, none) -> tensor<4x4xf32>
    %z = onnx.MatMul(%b, %batched) : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
    %o = onnx.MatMul(%odd_in, %odd) : (tensor<4x6xf32>, tensor<6x4xf32>) -> tensor<4x4xf32>
    %c = onnx.MatMul(%y, %yt) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    return %y, %yt, %z, %o, %c : tensor<4x4xf32>, tensor<4x4xf32>, tensor<2x3x5xf32>, tensor<4x4xf32>, tensor<4x4xf32>
  }
}
