//===- ONNXAttrs.td - Attributes of the onnx dialect -*- tablegen -*-===//
//
// ONNX attribute values map to builtin attributes (I64Attr for INT,
// DenseI64ArrayAttr for INTS, ElementsAttr for TENSOR, ...). The rare kinds
// Pith does not interpret are kept as their serialized protobuf so that they
// round-trip unchanged.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_ONNX_ATTRS_TD
#define PITH_ONNX_ATTRS_TD

include "ONNXDialect.td"
include "mlir/IR/CommonAttrConstraints.td"

def ONNX_SerializedProtoAttr : AttrDef<ONNX_Dialect, "SerializedProto"> {
  let mnemonic = "proto";
  let summary = "an ONNX protobuf message kept verbatim";
  let description = [{
    A SparseTensorProto (attribute kind SPARSE_TENSOR), a FunctionProto or a
    TrainingInfoProto that Pith carries through unchanged:
    `#onnx.proto<"SparseTensorProto", "\08\02...">`.
  }];
  let parameters = (ins StringRefParameter<"protobuf message type">:$kind,
                        StringRefParameter<"serialized bytes">:$bytes);
  let assemblyFormat = "`<` $kind `,` $bytes `>`";
}

def ONNX_TensorArrayAttr : TypedArrayAttrBase<ElementsAttr, "array of tensors">;

#endif // PITH_ONNX_ATTRS_TD
