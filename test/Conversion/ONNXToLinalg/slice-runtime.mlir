// RUN: pith-opt %s --pith-convert-onnx-to-linalg | FileCheck %s

// Slice with run-time starts and ends of a symbolic dimension: the result's
// size is computed at run time (clamped, ceil(distance / step)) and sizes
// the result tensor.
module attributes {onnx.opset_import = {ai.onnx = 18 : i64}} {
  // CHECK-LABEL: func @slice_runtime_dynamic_result
  // CHECK:         %[[SIZE:.*]] = arith.ceildivsi
  // CHECK:         %[[CLAMPED:.*]] = arith.maxsi %{{.*}}, %[[SIZE]]
  // CHECK:         %[[N:.*]] = arith.index_cast %[[CLAMPED]] : i64 to index
  // CHECK:         tensor.empty(%[[N]]) : tensor<?xf32>
  // CHECK:         linalg.generic
  // CHECK:           tensor.extract
  func.func @slice_runtime_dynamic_result(%x: tensor<?xf32>, %starts: tensor<1xi64>, %ends: tensor<1xi64>) -> tensor<?xf32> {
    %none = onnx.None
    %0 = onnx.Slice(%x, %starts, %ends, %none, %none) : (tensor<?xf32>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<?xf32>
    return %0 : tensor<?xf32>
  }
}
