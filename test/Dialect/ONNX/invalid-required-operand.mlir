// RUN: pith-opt %s -split-input-file -verify-diagnostics

// `onnx.None` stands for an absent *optional* input. The importer rejects a
// node that leaves out a required one; the verifier must too, or IR built by
// hand or by a pass exports nodes ONNX rejects (`Reshape(x)`).

func.func @none_for_required_input(%x: tensor<4xf32>) -> tensor<2x2xf32> {
  %none = onnx.None
  // expected-error @+1 {{required input 'shape'}}
  %0 = onnx.Reshape(%x, %none) : (tensor<4xf32>, none) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// Optional inputs may be absent (control case: no error).
func.func @none_for_optional_input(%x: tensor<4xf32>) -> tensor<4xf32> {
  %none = onnx.None
  %0 = onnx.Clip(%x, %none, %none) : (tensor<4xf32>, none, none) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
