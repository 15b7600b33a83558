// RUN: pith-opt %s --pith-strided-copies-to-linalg | FileCheck %s

// A copy into a strided view (the interior of a padded buffer) becomes a
// linalg.copy; a copy between contiguous buffers stays a memcpy.
// CHECK-LABEL: func @copies
// CHECK:         linalg.copy ins(%{{.*}} : memref<4x4xf32>) outs(%{{.*}} : memref<4x4xf32, strided<[6, 1], offset: 7>>)
// CHECK:         memref.copy %{{.*}}, %{{.*}} : memref<4x4xf32> to memref<4x4xf32>
func.func @copies(%src: memref<4x4xf32>, %padded: memref<6x6xf32>, %dst: memref<4x4xf32>) {
  %interior = memref.subview %padded[1, 1] [4, 4] [1, 1] : memref<6x6xf32> to memref<4x4xf32, strided<[6, 1], offset: 7>>
  memref.copy %src, %interior : memref<4x4xf32> to memref<4x4xf32, strided<[6, 1], offset: 7>>
  memref.copy %src, %dst : memref<4x4xf32> to memref<4x4xf32>
  return
}
