// The model: Inputs/repeated_blocks.py. With --weights rank2 every matrix
// of a slot is B.C_i (or C_i.B) for one rank-2 basis B shared by the
// blocks, so a shared basis of rank 2 reproduces the model.

// RUN: %python %S/Inputs/repeated_blocks.py --blocks 3 --weights rank2 --calibration %t.npz > %t.rank2.mlir
// RUN: pith-opt %t.rank2.mlir --pith-share-basis="rank=2 calibration=%t.npz" | FileCheck %s --check-prefix=EXACT
// EXACT: "3 repeated blocks of 14 ops; groups (all): {0,1,2}"
// EXACT-SAME: "attention 'block0.wq' in {0,1,2} (4x4 x3): basis 4 x 2 shared, rank 2: 48 -> 32 parameters, energy kept 1.0000"
// EXACT-SAME: "ffn 'block0.w1' in {0,1,2} (4x8 x3): basis 8 x 2 shared, rank 2: 96 -> 40 parameters, energy kept 1.0000"
// EXACT-SAME: "factored matrices: 384 -> 208 parameters (704 B saved); output error {{[0-9]\.[0-9]+}}e-0{{[6-9]}}"
// The input-side basis multiplies first, the output-side one last.
// EXACT:      %[[B:.*]] = pith.use @basis.block0.wq : tensor<4x2xf32>
// EXACT-NEXT: %[[C:.*]] = pith.use @coeff.block0.wq : tensor<2x4xf32>
// EXACT-NEXT: pith.factored_linear %arg0, %[[B]], %[[C]] : (tensor<2x4xf32>, tensor<4x2xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// EXACT:      %[[C1:.*]] = pith.use @coeff.block0.w1 : tensor<4x2xf32>
// EXACT-NEXT: %[[B1:.*]] = pith.use @basis.block0.w1 : tensor<2x8xf32>
// EXACT-NEXT: pith.factored_linear %{{.*}}, %[[C1]], %[[B1]] : (tensor<2x4xf32>, tensor<4x2xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
// EXACT-COUNT-3: pith.use @basis.block0.w2
// EXACT: pith.parameter @basis.block0.w2 : tensor<8x2xf32> = {{.*}} sources ["block0.w2", "block1.w2", "block2.w2"]

// Gemm with transB, how exported linear layers look: the same.
// RUN: %python %S/Inputs/repeated_blocks.py --blocks 3 --weights rank2 --linear gemm > %t.gemm.mlir
// RUN: pith-opt %t.gemm.mlir --pith-share-basis="rank=2 calibration=%t.npz" > %t.gemm.shared.mlir
// RUN: FileCheck %s --check-prefix=GEMM < %t.gemm.shared.mlir
// GEMM: output error {{[0-9]\.[0-9]+}}e-0{{[6-9]}}
// GEMM-NOT: onnx.Gemm
// Exported, it runs in onnxruntime as Pith's compiled code does.
// RUN: pith-translate --export-onnx %t.gemm.shared.mlir -o %t.gemm.shared.onnx
// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.load('%t.npz')['x'])"
// RUN: pith run %t.gemm.shared.onnx --input x=%t.x.npy --output-dir %t.gemm.out
// RUN: %python %S/Inputs/pith_vs_onnxruntime.py %t.gemm.shared.onnx %t.npz %t.gemm.out | FileCheck %s --check-prefix=ORT
// ORT: within 1e-4 of onnxruntime

// A group of one block is plain truncated SVD; a rank that saves nothing
// leaves the layer alone.
// RUN: %python %S/Inputs/repeated_blocks.py --blocks 2 > %t.different.mlir
// RUN: pith-opt %t.different.mlir --pith-share-basis="weights=ffn groups=adjacent group-size=1 param-fraction=0.5" | FileCheck %s --check-prefix=SVD
// SVD: "2 repeated blocks of 14 ops; groups (adjacent): {0} {1}"
// SVD-SAME: "ffn 'block0.w1' in {0} (4x8 x1): basis 8 x 1 shared, rank 1: 32 -> 12 parameters, energy kept
// SVD-SAME: "ffn 'block1.w1' in {1} (4x8 x1)
// SVD-NOT: attention
// RUN: pith-opt %t.different.mlir --pith-share-basis="rank=4" | FileCheck %s --check-prefix=NO-SAVING
// NO-SAVING: "not factored: attention 'block0.wq' in {0,1} (4x4 x2): rank 4 would save nothing"
// NO-SAVING: factored matrices: 0 -> 0 parameters (0 B saved), output error not measured
// NO-SAVING-NOT: pith.factored_linear

// Bad options.
// RUN: not pith-opt %t.different.mlir --pith-share-basis="param-fraction=1.5" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: pith-share-basis: set rank > 0, or param-fraction between 0 and 1 (exclusive)
