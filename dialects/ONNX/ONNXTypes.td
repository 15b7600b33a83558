//===- ONNXTypes.td - Types of ONNX values that MLIR lacks -*- tablegen -*-===//
//
// ONNX tensors map to builtin tensor types; these cover the rest: string
// elements, sequences, optionals, and values whose type the model leaves
// unknown.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_ONNX_TYPES_TD
#define PITH_ONNX_TYPES_TD

include "ONNXDialect.td"

class ONNX_Type<string name, string typeMnemonic> : TypeDef<ONNX_Dialect, name> {
  let mnemonic = typeMnemonic;
}

def ONNX_StringType : ONNX_Type<"String", "string"> {
  let summary = "ONNX string element type";
  let description = [{ The element type of ONNX STRING tensors: `tensor<2x!onnx.string>`. }];
}

def ONNX_SeqType : ONNX_Type<"Seq", "seq"> {
  let summary = "ONNX sequence";
  let description = [{ An ONNX sequence of values of one type: `!onnx.seq<tensor<?xf32>>`. }];
  let parameters = (ins "::mlir::Type":$elementType);
  let assemblyFormat = "`<` $elementType `>`";
}

def ONNX_OptType : ONNX_Type<"Opt", "opt"> {
  let summary = "ONNX optional";
  let description = [{ An ONNX optional value, present or not: `!onnx.opt<tensor<f32>>`. }];
  let parameters = (ins "::mlir::Type":$elementType);
  let assemblyFormat = "`<` $elementType `>`";
}

def ONNX_UnknownType : ONNX_Type<"Unknown", "unknown"> {
  let summary = "a value whose type the model does not state";
  let description = [{
    Intermediate values without value_info and without an inferable type.
    Export writes no value_info for them.
  }];
}

#endif // PITH_ONNX_TYPES_TD
