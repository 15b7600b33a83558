// W has singular values 8, 4, 2, 1, 1/2, ... (energies 64, 16, 4, 1, ...):
// energy=0.9 keeps two directions, max-rel-error=0.25 too, rank=3 three.
// RUN: pith-opt %s --pith-low-rank="energy=0.9 min-size=0" | FileCheck %s --check-prefix=ENERGY
// RUN: pith-opt %s --pith-low-rank="max-rel-error=0.25 min-size=0" | FileCheck %s --check-prefix=ENERGY
// ENERGY: "1 of 1 layers factored (plain SVD): 64 -> 32 parameters (0.500 kept), output error not measured"
// ENERGY-SAME: "not factored: the node at {{.*}}low-rank.mlir:{{[0-9]+}}:10 (onnx.MatMul): its weight is computed at run time, not a stored parameter"
// ENERGY-SAME: "not factored: 'batched' (onnx.MatMul): its weight is 3-D, not a matrix"
// ENERGY-SAME: "'w' (8x8): rank 2, 64 -> 32 parameters, energy kept 0.9375, weight error 2.50e-01"
// ENERGY:      %[[U:.*]] = pith.use @lowrank.w.u : tensor<8x2xf32>
// ENERGY-NEXT: %[[V:.*]] = pith.use @lowrank.w.v : tensor<2x8xf32>
// ENERGY-NEXT: pith.factored_linear %arg0, %[[U]], %[[V]] : (tensor<3x8xf32>, tensor<8x2xf32>, tensor<2x8xf32>) -> tensor<3x8xf32>
// ENERGY: pith.parameter @lowrank.w.u : tensor<8x2xf32> = {{.*}} sources ["w"]
// RUN: pith-opt %s --pith-low-rank="rank=3 min-size=0" | FileCheck %s --check-prefix=RANK3
// RANK3: "'w' (8x8): rank 3, 64 -> 48 parameters, energy kept 0.9844, weight error 1.25e-01"

// Where the rank saves nothing, or is not below min(K, N), or the layer is
// small, the layer stays, with the reason.
// RUN: pith-opt %s --pith-low-rank="rank=4 min-size=0" | FileCheck %s --check-prefix=BREAK-EVEN
// BREAK-EVEN: "not factored: 'w' (8x8): rank 4 would not save (break-even 4)"
// BREAK-EVEN-NOT: pith.factored_linear
// RUN: pith-opt %s --pith-low-rank="rank=9 min-size=0" | FileCheck %s --check-prefix=TOO-HIGH
// TOO-HIGH: "not factored: 'w' (8x8): rank 9 is not below min(K, N) = 8"
// RUN: pith-opt %s --pith-low-rank="rank=2" | FileCheck %s --check-prefix=SMALL
// SMALL: "not factored: 'w' (8x8): smaller than min-size 4096"

// Asked for by name, a layer that cannot be factored is an error.
// RUN: not pith-opt %s --pith-low-rank="rank=2 min-size=0 layers=batched" 2>&1 | FileCheck %s --check-prefix=NAMED
// NAMED: error: pith-low-rank: layers: 'batched' cannot be factored: its weight is 3-D, not a matrix
// RUN: not pith-opt %s --pith-low-rank="rank=2 layers=nothing" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: pith-low-rank: layers: no MatMul, Gemm or Conv weight 'nothing'
// RUN: not pith-opt %s --pith-low-rank="rank=2 energy=0.5" 2>&1 | FileCheck %s --check-prefix=TWO
// TWO: error: pith-low-rank: set exactly one of energy, rank, max-rel-error, target-params
// RUN: not pith-opt %s --pith-low-rank="rank=2 activation-aware=true" 2>&1 | FileCheck %s --check-prefix=AWARE
// AWARE: error: pith-low-rank: activation-aware needs calibration inputs

// Calibration inputs that only use input directions 3 and 4 (where W's
// singular values are 1 and 1/2): plain rank 2 keeps 8 and 4 and loses the
// layer's whole output on them; activation-aware rank 2 keeps exactly what
// the data uses.
// RUN: %python -c "import numpy as np; r = np.random.default_rng(0); x = np.zeros((3, 8), np.float32); x[:, 3:5] = r.normal(size=(3, 2)); np.savez('%t.npz', x=x, b=r.normal(size=(2, 3, 4)).astype(np.float32)); np.save('%t.x.npy', x); np.save('%t.b.npy', np.load('%t.npz')['b'])"
// RUN: pith-opt %s --pith-low-rank="rank=2 min-size=0 calibration=%t.npz" | FileCheck %s --check-prefix=PLAIN
// PLAIN: "1 of 1 layers factored (plain SVD): 64 -> 32 parameters (0.500 kept); output error 1.000e+00"
// PLAIN-SAME: "'w' (8x8): rank 2, 64 -> 32 parameters, energy kept 0.9375, output error 1.00e+00 on calibration activations"
// RUN: pith-opt %s --pith-low-rank="rank=2 min-size=0 activation-aware=true calibration=%t.npz" > %t.aware.mlir
// RUN: FileCheck %s --check-prefix=WHITENED < %t.aware.mlir
// WHITENED: "1 of 1 layers factored (activation-aware SVD): 64 -> 32 parameters (0.500 kept); output error {{[0-9.]+}}e-{{0[6-9]|[1-9][0-9]}}"
// WHITENED-SAME: "'w' (8x8): rank 2, 64 -> 32 parameters, energy kept 1.0000, output error {{[0-9.]+}}e-{{[1-9][0-9]}} on calibration activations"
// Exported: two MatMuls that onnxruntime runs as Pith's compiled code does.
// RUN: pith-translate --export-onnx %t.aware.mlir -o %t.aware.onnx
// RUN: %python -c "import onnx; m = onnx.load('%t.aware.onnx'); onnx.checker.check_model(m); print(sorted(n.op_type for n in m.graph.node))" | FileCheck %s --check-prefix=NODES
// NODES: ['MatMul', 'MatMul', 'MatMul', 'MatMul', 'Transpose']
// RUN: pith run %t.aware.onnx --input x=%t.x.npy --input b=%t.b.npy --output-dir %t.out
// RUN: %python %S/Inputs/pith_vs_onnxruntime.py %t.aware.onnx %t.npz %t.out | FileCheck %s --check-prefix=ORT
// ORT: within 1e-4 of onnxruntime

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @graph(%x: tensor<3x8xf32> {onnx.name = "x"}, %b: tensor<2x3x4xf32> {onnx.name = "b"})
      -> (tensor<3x8xf32> {onnx.name = "y"}, tensor<3x3xf32> {onnx.name = "s"}, tensor<2x3x5xf32> {onnx.name = "z"}) {
    %w = onnx.Initializer "w" dense<[[8.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                                     [0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                                     [0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                                     [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
                                     [0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0],
                                     [0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0],
                                     [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.125, 0.0],
                                     [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0625]]> : tensor<8x8xf32>
    %batched = onnx.Initializer "batched" dense<0.5> : tensor<2x4x5xf32>
    %y = onnx.MatMul(%x, %w) : (tensor<3x8xf32>, tensor<8x8xf32>) -> tensor<3x8xf32>
    %t = onnx.Transpose(%y) {perm = array<i64: 1, 0>} : (tensor<3x8xf32>) -> tensor<8x3xf32>
    %s = onnx.MatMul(%y, %t) : (tensor<3x8xf32>, tensor<8x3xf32>) -> tensor<3x3xf32>
    %z = onnx.MatMul(%b, %batched) : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
    return %y, %s, %z : tensor<3x8xf32>, tensor<3x3xf32>, tensor<2x3x5xf32>
  }
}
