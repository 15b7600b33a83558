// RUN: pith-opt %s --pith-map-loops-to-gpu --split-input-file --verify-diagnostics | FileCheck %s

// A 2-D loop nest becomes one launch of ceil(6 * 5 / 256) blocks of 256
// threads; each thread delinearizes its index and guards the tail. The
// constant table is read inside the kernel.
memref.global "private" constant @table : memref<5xf32> = dense<[1.0, 2.0, 3.0, 4.0, 5.0]>

// CHECK-LABEL: func.func @nest
// CHECK: %[[BLOCKS:.*]] = arith.ceildivsi %[[TOTAL:[0-9]+]], %[[C256:c256[_0-9]*]] : index
// CHECK: scf.if
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[BLOCKS]], %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]]
// CHECK:   %[[START:.*]] = arith.muli %[[BX]], %[[C256]]
// CHECK:   %[[N:.*]] = arith.addi %[[START]], %[[TX]]
// CHECK:   %[[IN:.*]] = arith.cmpi slt, %[[N]], %[[TOTAL]]
// CHECK:   scf.if %[[IN]] {
// CHECK:     arith.remsi %[[N]]
// CHECK:     arith.divsi %[[N]]
// CHECK:     memref.get_global @table
// CHECK:     memref.load
// CHECK:     memref.store
// CHECK:   gpu.terminator
// CHECK-NOT: scf.parallel
func.func @nest(%x: memref<6x5xf32>, %y: memref<6x5xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %c6 = arith.constant 6 : index
  %t = memref.get_global @table : memref<5xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c6, %c5) step (%c1, %c1) {
    %a = memref.load %x[%i, %j] : memref<6x5xf32>
    %b = memref.load %t[%j] : memref<5xf32>
    %s = arith.addf %a, %b : f32
    memref.store %s, %y[%i, %j] : memref<6x5xf32>
    scf.reduce
  }
  return
}

// -----

// A reduction to a scalar has no parallel dimension: it runs in one thread.
// CHECK-LABEL: func.func @to_scalar
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[ONE:.*]], {{.*}} = %[[ONE]], {{.*}} = %[[ONE]]) threads({{.*}}) in ({{.*}} = %[[ONE]], {{.*}} = %[[ONE]], {{.*}} = %[[ONE]])
// CHECK-NEXT: memref.store
// CHECK: gpu.launch
// CHECK-NEXT: scf.for
func.func @to_scalar(%x: memref<5xf32>, %y: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %zero = arith.constant 0.0 : f32
  memref.store %zero, %y[] : memref<f32>
  scf.for %i = %c0 to %c5 step %c1 {
    %a = memref.load %x[%i] : memref<5xf32>
    %s = memref.load %y[] : memref<f32>
    %t = arith.addf %a, %s : f32
    memref.store %t, %y[] : memref<f32>
  }
  return
}

// -----

// Buffers outside the planned arena are allocated on the device.
// CHECK-LABEL: func.func @buffers
// CHECK: %[[B:.*]] = gpu.alloc (%{{.*}}) : memref<?xf32>
// CHECK: gpu.dealloc %[[B]] : memref<?xf32>
func.func @buffers(%n: index) {
  %b = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %b : memref<?xf32>
  return
}

// -----

// The host cannot read a value in device memory to size a loop.
func.func @host_read(%x: memref<i64>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{not supported on the GPU: 'memref.load' reads or writes tensor data outside a kernel}}
  %n = memref.load %x[] : memref<i64>
  %m = arith.index_cast %n : i64 to index
  scf.parallel (%i) = (%c0) to (%m) step (%c1) {
    %zero = arith.constant 0.0 : f32
    memref.store %zero, %y[%i] : memref<8xf32>
    scf.reduce
  }
  return
}
