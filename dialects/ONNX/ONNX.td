//===- ONNX.td - The onnx dialect, umbrella -*- tablegen -*-===//
#ifndef PITH_ONNX_TD
#define PITH_ONNX_TD
include "ONNXDialect.td"
include "ONNXAttrs.td"
include "ONNXTypes.td"
include "ONNXOps.td"
#endif // PITH_ONNX_TD
