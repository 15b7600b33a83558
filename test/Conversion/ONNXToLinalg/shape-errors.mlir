// RUN: pith-opt %s --pith-convert-onnx-to-linalg -split-input-file -verify-diagnostics

module attributes {onnx.opset_import = {ai.onnx = 18 : i64}} {
func.func @expand_to_dynamic(%x: tensor<1xf32>, %shape: tensor<1xi64>) -> tensor<?xf32> {
  // expected-error @+2 {{Expand to a dynamic size is not supported}}
  // expected-error @+1 {{failed to legalize operation 'onnx.Expand'}}
  %0 = onnx.Expand(%x, %shape) : (tensor<1xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 18 : i64}} {
func.func @squeeze_runtime_axes(%x: tensor<?x?xf32>, %axes: tensor<1xi64>) -> tensor<?xf32> {
  // expected-error @+2 {{Squeeze of dynamic shapes needs constant axes}}
  // expected-error @+1 {{failed to legalize operation 'onnx.Squeeze'}}
  %0 = onnx.Squeeze(%x, %axes) : (tensor<?x?xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 18 : i64}} {
func.func @pad_runtime_axes(%x: tensor<3xf32>, %pads: tensor<2xi64>, %axes: tensor<1xi64>) -> tensor<5xf32> {
  %none = onnx.None
  // expected-error @+2 {{Pad with run-time 'axes' is not supported}}
  // expected-error @+1 {{failed to legalize operation 'onnx.Pad'}}
  %0 = onnx.Pad(%x, %pads, %none, %axes) : (tensor<3xf32>, tensor<2xi64>, none, tensor<1xi64>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 18 : i64}} {
func.func @pad_unknown_mode(%x: tensor<3xf32>, %pads: tensor<2xi64>) -> tensor<5xf32> {
  %none = onnx.None
  // expected-error @+2 {{Pad mode 'mirror' is not supported}}
  // expected-error @+1 {{failed to legalize operation 'onnx.Pad'}}
  %0 = onnx.Pad(%x, %pads, %none, %none) {mode = "mirror"} : (tensor<3xf32>, tensor<2xi64>, none, none) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}
}
