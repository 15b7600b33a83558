// RUN: pith-opt %s --pith-merge-gpu-modules | FileCheck %s

// Outlining gives every kernel the graph's name, each in its own module:
// merged, the second kernel is renamed after its module, a global both read
// is kept once, and the launches follow.
// CHECK: gpu.module @g_kernel {
// CHECK-DAG: memref.global "private" constant @table
// CHECK-DAG: gpu.func @g_kernel(
// CHECK-DAG: gpu.func @g_kernel_0(
// CHECK: }
// CHECK-NOT: gpu.module
// CHECK: gpu.launch_func @g_kernel::@g_kernel
// CHECK: gpu.launch_func @g_kernel::@g_kernel_0
module attributes {gpu.container_module} {
  gpu.module @g_kernel {
    memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>
    gpu.func @g_kernel(%x: memref<2xf32>) kernel {
      gpu.return
    }
  }
  gpu.module @g_kernel_0 {
    memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>
    gpu.func @g_kernel(%x: memref<2xf32>) kernel {
      gpu.return
    }
  }
  func.func @g(%x: memref<2xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @g_kernel::@g_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<2xf32>)
    gpu.launch_func @g_kernel_0::@g_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<2xf32>)
    return
  }
}
