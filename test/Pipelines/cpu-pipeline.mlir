// RUN: pith-opt %s --pith-cpu-pipeline | FileCheck %s

// The whole CPU pipeline on a matmul followed by elementwise work: the
// matmul becomes a kernel call, the elementwise ops one fused loop nest
// shared among threads by OpenMP, and everything ends in the LLVM dialect.
module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  // (The zero fill of the matmul's output is a parallel loop too.)
  // CHECK-LABEL: llvm.func @main_graph
  // CHECK:         omp.parallel
  // CHECK:         llvm.call @pith_kernel_matmul_f32
  // CHECK:         omp.parallel
  // CHECK:           omp.wsloop
  // CHECK:             llvm.intr.maximum
  // CHECK-NOT:     linalg.
  // CHECK-NOT:     scf.
  func.func @main_graph(%x: tensor<128x384xf32>, %w: tensor<384x384xf32>, %b: tensor<384xf32>) -> tensor<128x384xf32> {
    %y = onnx.MatMul(%x, %w) : (tensor<128x384xf32>, tensor<384x384xf32>) -> tensor<128x384xf32>
    %z = onnx.Add(%y, %b) : (tensor<128x384xf32>, tensor<384xf32>) -> tensor<128x384xf32>
    %r = onnx.Relu(%z) : (tensor<128x384xf32>) -> tensor<128x384xf32>
    return %r : tensor<128x384xf32>
  }
}
