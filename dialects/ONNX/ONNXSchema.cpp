//===- ONNXSchema.cpp - ONNX operator signatures, by opset ------------------===//
//
// Builds the lookup indices over the generated schema table.
//
//===----------------------------------------------------------------------===//

#include "ONNX/ONNXSchema.h"

#include "llvm/ADT/StringMap.h"
#include <algorithm>

using namespace pith::ONNX;

#define PITH_ONNX_MAX_OPSET(N) static constexpr int64_t kMaxOpset = N;
#define PITH_ONNX_MAX_DATA_TYPE(N) static constexpr int32_t kMaxDataType = N;
#define PITH_ONNX_SCHEMA_BEGIN                                                 \
  static const std::vector<OpSchema> &allSchemas() {                           \
    static const std::vector<OpSchema> schemas = {
#define PITH_ONNX_SCHEMA_END                                                   \
  }                                                                            \
  ;                                                                            \
  return schemas;                                                              \
  }
#include "ONNX/ONNXSchema.inc"

namespace {
struct SchemaIndex {
  /// op type -> versions, oldest first.
  llvm::StringMap<std::vector<const OpSchema *>> byType;
  llvm::StringMap<const OpSchema *> byOpName;

  SchemaIndex() {
    for (const OpSchema &schema : allSchemas()) {
      byType[schema.opType].push_back(&schema);
      byOpName.try_emplace(schema.opName, &schema);
    }
    for (auto &entry : byType)
      std::sort(entry.second.begin(), entry.second.end(),
                [](const OpSchema *a, const OpSchema *b) {
                  return a->sinceVersion < b->sinceVersion;
                });
  }
};
} // namespace

static const SchemaIndex &index() {
  static const SchemaIndex instance;
  return instance;
}

const AttrSpec *OpSchema::findAttribute(llvm::StringRef name) const {
  for (const AttrSpec &spec : attributes)
    if (name == spec.name)
      return &spec;
  return nullptr;
}

const OpSchema *pith::ONNX::lookupSchema(llvm::StringRef opType,
                                         int64_t opset) {
  auto it = index().byType.find(opType);
  if (it == index().byType.end())
    return nullptr;
  const OpSchema *found = nullptr;
  for (const OpSchema *schema : it->second)
    if (schema->sinceVersion <= opset)
      found = schema;
  return found;
}

const OpSchema *pith::ONNX::lookupSchemaByOpName(llvm::StringRef opName) {
  return index().byOpName.lookup(opName);
}

llvm::ArrayRef<OpSchema> pith::ONNX::allOpSchemas() { return allSchemas(); }

int64_t pith::ONNX::maxSupportedOpset() { return kMaxOpset; }

int32_t pith::ONNX::maxDataType() { return kMaxDataType; }

llvm::StringRef pith::ONNX::stringifyAttrKind(AttrKind kind) {
  switch (kind) {
  case AttrKind::Float: return "FLOAT";
  case AttrKind::Int: return "INT";
  case AttrKind::String: return "STRING";
  case AttrKind::Tensor: return "TENSOR";
  case AttrKind::SparseTensor: return "SPARSE_TENSOR";
  case AttrKind::Type: return "TYPE_PROTO";
  case AttrKind::Graph: return "GRAPH";
  case AttrKind::Floats: return "FLOATS";
  case AttrKind::Ints: return "INTS";
  case AttrKind::Strings: return "STRINGS";
  case AttrKind::Tensors: return "TENSORS";
  case AttrKind::SparseTensors: return "SPARSE_TENSORS";
  case AttrKind::Types: return "TYPE_PROTOS";
  case AttrKind::Graphs: return "GRAPHS";
  }
  return "UNDEFINED";
}
