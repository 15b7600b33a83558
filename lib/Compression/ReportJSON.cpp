//===- ReportJSON.cpp - Pass reports as JSON ------------------------------===//

#include "pith/Compression/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/raw_ostream.h"

namespace {
llvm::json::Value toJSON(mlir::Attribute attr) {
  if (auto s = llvm::dyn_cast<mlir::StringAttr>(attr))
    return s.str();
  if (auto b = llvm::dyn_cast<mlir::BoolAttr>(attr))
    return b.getValue();
  if (auto i = llvm::dyn_cast<mlir::IntegerAttr>(attr))
    return i.getInt();
  if (auto f = llvm::dyn_cast<mlir::FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto array = llvm::dyn_cast<mlir::ArrayAttr>(attr)) {
    llvm::json::Array items;
    for (mlir::Attribute item : array)
      items.push_back(toJSON(item));
    return items;
  }
  if (auto dict = llvm::dyn_cast<mlir::DictionaryAttr>(attr)) {
    llvm::json::Object object;
    for (mlir::NamedAttribute field : dict)
      object[field.getName().getValue()] = toJSON(field.getValue());
    return object;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  return text;
}
} // namespace

llvm::json::Value pith::compression::reportToJSON(mlir::ArrayAttr report) {
  return report ? toJSON(report) : llvm::json::Array();
}
