// RUN: pith-opt %s --pass-pipeline='builtin.module(func.func(pith-plan-buffers))' | FileCheck %s

// Two intermediates live at the same time get disjoint places; a third that
// starts after the first died reuses the first one's bytes. The arena is the
// peak: 2 x 64 bytes.
// CHECK-LABEL: func.func @reuse
// CHECK-SAME: %[[ARENA:[a-z0-9]+]]: memref<128xi8> {pith.arena}
// CHECK-SAME: pith.arena_bytes = 128
// CHECK-NOT: memref.alloc
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[ARENA]][%[[C0]]][] : memref<128xi8> to memref<16xf32>
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: memref.view %[[ARENA]][%[[C64]]][] : memref<128xi8> to memref<16xf32>
// CHECK: %[[C0_AGAIN:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[ARENA]][%[[C0_AGAIN]]][] : memref<128xi8> to memref<16xf32>
func.func @reuse(%in: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  %c = memref.alloc() : memref<16xf32>
  memref.copy %b, %c : memref<16xf32> to memref<16xf32>
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}

// A view keeps its source alive: %a is used through %v after %b is made,
// so they cannot share.
// CHECK-LABEL: func.func @views_extend_liveness
// CHECK-SAME: pith.arena_bytes = 128
func.func @views_extend_liveness(%in: memref<16xf32>, %out: memref<4x4xf32>) {
  %a = memref.alloc() : memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  %v = memref.expand_shape %a [[0, 1]] output_shape [4, 4] : memref<16xf32> into memref<4x4xf32>
  %b = memref.alloc() : memref<4x4xf32>
  memref.copy %v, %b : memref<4x4xf32> to memref<4x4xf32>
  memref.copy %v, %out : memref<4x4xf32> to memref<4x4xf32>
  return
}

// Dynamically shaped buffers are left to the deallocation pipeline.
// CHECK-LABEL: func.func @dynamic_stays
// CHECK-SAME: pith.arena_bytes = 0
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
func.func @dynamic_stays(%n: index) {
  %a = memref.alloc(%n) : memref<?xf32>
  return
}

// A buffer carried through a loop lives as long as the loop's result is
// used: %a reaches the copy after the loop through iter_args, so %b, made
// after the loop, cannot take its place.
// CHECK-LABEL: func.func @loop_results_extend_liveness
// CHECK-SAME: pith.arena_bytes = 128
func.func @loop_results_extend_liveness(%in: memref<16xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %a = memref.alloc() : memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %a) -> (memref<16xf32>) {
    scf.yield %acc : memref<16xf32>
  }
  %b = memref.alloc() : memref<16xf32>
  memref.copy %in, %b : memref<16xf32> to memref<16xf32>
  memref.copy %r, %out : memref<16xf32> to memref<16xf32>
  memref.copy %b, %out : memref<16xf32> to memref<16xf32>
  return
}
