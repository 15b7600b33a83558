// REQUIRES: cuda
// RUN: pith-opt %s --pith-cuda-pipeline=ptx-only=true | FileCheck %s
// RUN: pith-opt %s --pith-cuda-pipeline | FileCheck %s --check-prefix=FATBIN
// RUN: pith-opt %s --pith-cuda-pipeline="ptx-only=true library-calls=false" | FileCheck %s --check-prefix=GENERATED

// The GPU pipeline on a matmul, elementwise work and a softmax: the matmul
// is a cuBLAS call on device buffers, the zero fill, the fused bias + ReLU
// and the softmax's loop nests are kernels in one device module, compiled to
// PTX for sm_80 (which ptxas also assembles for sm_90).
module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  // CHECK-LABEL: llvm.func @main_graph
  // CHECK:         gpu.launch_func {{ *}}@main_graph_kernel::@main_graph_kernel blocks
  // CHECK:         llvm.call @pith_cuda_matmul_f32
  // CHECK:         gpu.launch_func {{ *}}@main_graph_kernel::@main_graph_kernel_0
  // CHECK-NOT:     llvm.call @pith_kernel_
  // CHECK-NOT:     scf.parallel
  // CHECK:       gpu.binary @main_graph_kernel {{.*}}#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">
  // CHECK-SAME:    assembly = "
  // CHECK-SAME:    .target sm_80
  // The fused bias + ReLU reads both operands from global memory.
  // CHECK-SAME:    ld.global
  // CHECK-SAME:    max.NaN.f32
  // The softmax's exponentials come from libdevice.
  // CHECK-SAME:    ex2.approx

  // Without library calls the matmul is a kernel tiled through shared memory.
  // GENERATED-NOT: pith_cuda_matmul
  // GENERATED:     gpu.binary
  // GENERATED-SAME:  .shared .align 4 .b8
  // GENERATED-SAME:  st.shared.b32
  // GENERATED-SAME:  bar.sync
  // GENERATED-SAME:  ld.shared.b32

  // After ptxas and fatbinary: one object, a fatbin (its magic 0xBA55ED50).
  // FATBIN:      gpu.binary @main_graph_kernel {{ *}}[#gpu.object<#nvvm.target<
  // FATBIN-SAME:   "P\EDU\BA
  func.func @main_graph(%x: tensor<128x384xf32>, %w: tensor<384x384xf32>, %b: tensor<384xf32>) -> tensor<128x384xf32> {
    %y = onnx.MatMul(%x, %w) : (tensor<128x384xf32>, tensor<384x384xf32>) -> tensor<128x384xf32>
    %z = onnx.Add(%y, %b) : (tensor<128x384xf32>, tensor<384xf32>) -> tensor<128x384xf32>
    %r = onnx.Relu(%z) : (tensor<128x384xf32>) -> tensor<128x384xf32>
    %s = onnx.Softmax(%r) {axis = -1 : i64} : (tensor<128x384xf32>) -> tensor<128x384xf32>
    return %s : tensor<128x384xf32>
  }
}
