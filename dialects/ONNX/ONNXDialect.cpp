//===- ONNXDialect.cpp - The onnx dialect ---------------------------------===//
//
// Registers the dialect's ops (generated in shards, see CMakeLists.txt),
// types and attributes, and verifies the model header attributes Pith puts on
// modules and ops.
//
//===----------------------------------------------------------------------===//

#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace pith::ONNX;

#include "ONNX/ONNXDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "ONNX/ONNXTypes.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "ONNX/ONNXAttrs.cpp.inc"

void ONNXDialect::initialize() {
  registerTypes();
  registerAttributes();
  // The op definitions are split over several translation units to keep the
  // build parallel; this registers all shards.
  registerONNXDialectOperations(this);
}

void ONNXDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "ONNX/ONNXTypes.cpp.inc"
      >();
}

void ONNXDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ONNX/ONNXAttrs.cpp.inc"
      >();
}

/// `onnx.opset_import = {"ai.onnx" = 17 : i64, "com.microsoft" = 1 : i64}`.
static LogicalResult verifyOpsetImport(Operation *op, Attribute value) {
  auto dict = llvm::dyn_cast<DictionaryAttr>(value);
  if (!dict)
    return op->emitOpError() << "'" << attrs::kOpsetImport
                             << "' must be a dictionary of domain to version";
  for (NamedAttribute entry : dict) {
    auto version = llvm::dyn_cast<IntegerAttr>(entry.getValue());
    if (!version)
      return op->emitOpError() << "opset version of domain '"
                               << entry.getName().getValue()
                               << "' must be an integer";
    if (entry.getName() == kDefaultDomain &&
        (version.getInt() < 1 || version.getInt() > maxSupportedOpset()))
      return op->emitOpError()
             << "unsupported ai.onnx opset " << version.getInt()
             << " (Pith supports 1 to " << maxSupportedOpset() << ")";
  }
  return success();
}

LogicalResult ONNXDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name == attrs::kOpsetImport)
    return verifyOpsetImport(op, attribute.getValue());
  if (name == attrs::kIrVersion && !llvm::isa<IntegerAttr>(attribute.getValue()))
    return op->emitOpError() << "'" << name << "' must be an integer";
  if (name == attrs::kNames) {
    auto names = llvm::dyn_cast<ArrayAttr>(attribute.getValue());
    if (!names || names.size() != op->getNumResults() ||
        !llvm::all_of(names, [](Attribute a) { return isa<StringAttr>(a); }))
      return op->emitOpError()
             << "'" << name << "' must hold one string per result";
  }
  return success();
}
