//===- ONNXSchema.h - ONNX operator signatures, by opset -------*- C++ -*-===//
//
// The table generated from ONNX's schema registry (ONNXSchema.inc): for every
// ai.onnx operator version, its formal inputs, outputs and attributes, and
// the onnx-dialect op that mirrors it. The importer picks an op by (op type,
// opset); the exporter maps an op back to its ONNX type and attribute kinds.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_DIALECTS_ONNX_ONNXSCHEMA_H
#define PITH_DIALECTS_ONNX_ONNXSCHEMA_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include <cstdint>
#include <vector>

namespace pith::ONNX {

enum class FormalKind { Single, Optional, Variadic };

/// ONNX attribute kinds (AttributeProto.type), plus Graph for subgraphs.
enum class AttrKind {
  Float, Int, String, Tensor, SparseTensor, Type, Graph,
  Floats, Ints, Strings, Tensors, SparseTensors, Types, Graphs
};

struct FormalSpec {
  const char *name;
  FormalKind kind;
};

struct AttrSpec {
  const char *name;
  AttrKind kind;
  bool required;
};

struct OpSchema {
  const char *opType;
  int64_t sinceVersion;
  /// The onnx-dialect op name, e.g. "onnx.SplitV13".
  const char *opName;
  std::vector<FormalSpec> inputs;
  std::vector<FormalSpec> outputs;
  /// Non-graph attributes, by name.
  std::vector<AttrSpec> attributes;
  /// Graph attributes, in region order.
  std::vector<const char *> graphAttributes;

  const AttrSpec *findAttribute(llvm::StringRef name) const;
};

/// The schema of `opType` in ai.onnx at `opset`: the newest version not
/// newer than `opset`. Null when the operator does not exist at that opset.
const OpSchema *lookupSchema(llvm::StringRef opType, int64_t opset);

/// The schema an onnx-dialect op mirrors (any of the versions sharing it).
const OpSchema *lookupSchemaByOpName(llvm::StringRef opName);

/// Every entry of the table: one per operator version.
llvm::ArrayRef<OpSchema> allOpSchemas();

/// The newest ai.onnx opset the schema table knows.
int64_t maxSupportedOpset();

/// The largest TensorProto.DataType the schema's ONNX version defines.
int32_t maxDataType();

/// "INT", "FLOATS", ... as ONNX spells attribute kinds.
llvm::StringRef stringifyAttrKind(AttrKind kind);

} // namespace pith::ONNX

#endif // PITH_DIALECTS_ONNX_ONNXSCHEMA_H
