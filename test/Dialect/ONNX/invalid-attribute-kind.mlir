// RUN: pith-opt %s -split-input-file -verify-diagnostics

// An ONNX attribute of the wrong kind is an error in the ops' printed form,
// as it is in the generic form: the parser must not drop the attribute (which
// would silently turn `axis = "foo"` into the default axis).

// Generic form: the ODS constraint reports the wrong kind.
func.func @generic_form_string_for_int(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Softmax' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = "onnx.Softmax"(%x) {axis = "foo"} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Printed form, optional INT attribute given a STRING.
func.func @string_for_optional_int(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{custom op 'onnx.Softmax' attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = onnx.Softmax(%x) {axis = "foo"} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Printed form, required INT attribute given a FLOAT: the error is about the
// kind, not a missing attribute.
func.func @float_for_required_int(%x: tensor<2xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{custom op 'onnx.Concat' attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = onnx.Concat(%x, %x) {axis = 1.0 : f32} : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Printed form, INTS attribute given a STRING.
func.func @string_for_ints(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %none = onnx.None
  // expected-error @+1 {{custom op 'onnx.Conv' attribute 'kernel_shape' failed to satisfy constraint: i64 dense array attribute}}
  %0 = onnx.Conv(%x, %w, %none) {kernel_shape = "3x3"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}
