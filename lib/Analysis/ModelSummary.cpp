//===- ModelSummary.cpp - What an imported model contains -----------------===//

#include "pith/Analysis/ModelSummary.h"

#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace pith;

static std::string typeString(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

static int64_t storageBytes(ShapedType type) {
  Type element = type.getElementType();
  int64_t bits = 8;
  if (element.isIntOrFloat())
    bits = element.getIntOrFloatBitWidth();
  else if (auto complex = dyn_cast<ComplexType>(element))
    bits = 2 * complex.getElementType().getIntOrFloatBitWidth();
  // ONNX stores booleans in a byte each.
  return (type.getNumElements() * (bits == 1 ? 8 : bits) + 7) / 8;
}

ModelSummary pith::summarizeModel(ModuleOp module) {
  ModelSummary summary;
  if (auto opsets = module->getAttrOfType<DictionaryAttr>(ONNX::attrs::kOpsetImport))
    for (NamedAttribute entry : opsets)
      summary.opsets[entry.getName().str()] =
          cast<IntegerAttr>(entry.getValue()).getInt();
  if (auto ir = module->getAttrOfType<IntegerAttr>(ONNX::attrs::kIrVersion))
    summary.irVersion = ir.getInt();
  if (auto producer = module->getAttrOfType<StringAttr>("onnx.producer_name"))
    summary.producer = producer.str();

  for (auto func : module.getOps<func::FuncOp>()) {
    summary.graphName = func.getSymName().str();
    auto name = [&](DictionaryAttr attrs, unsigned i) {
      auto named = attrs ? attrs.getAs<StringAttr>(ONNX::attrs::kName) : nullptr;
      return named ? named.str() : "#" + std::to_string(i);
    };
    for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
      summary.inputs.push_back({name(func.getArgAttrDict(i), i), typeString(type)});
    for (auto [i, type] : llvm::enumerate(func.getResultTypes()))
      summary.outputs.push_back({name(func.getResultAttrDict(i), i), typeString(type)});
  }

  module.walk([&](Operation *op) {
    if (auto init = dyn_cast<ONNX::InitializerOp>(op)) {
      ShapedType type = init.getValue().getShapedType();
      ++summary.initializers;
      summary.parameters += type.getNumElements();
      summary.parameterBytes += storageBytes(type);
      return;
    }
    if (auto custom = dyn_cast<ONNX::CustomOp>(op)) {
      ++summary.nodes;
      // Qualified outside ai.onnx only (an ai.onnx operator the opset does
      // not define is a Custom op with an empty domain).
      StringRef domain = custom.getDomain();
      bool isDefault = domain.empty() || domain == ONNX::kDefaultDomain;
      ++summary.opCounts[isDefault ? custom.getOpType().str()
                                   : (domain + "." + custom.getOpType()).str()];
    } else if (const ONNX::OpSchema *schema =
                   ONNX::lookupSchemaByOpName(op->getName().getStringRef())) {
      ++summary.nodes;
      ++summary.opCounts[schema->opType];
    }
    if (isa<ONNX::ONNXDialect>(op->getDialect()))
      for (Region &region : op->getRegions())
        summary.subgraphs += !region.empty();
  });
  return summary;
}

void pith::printModelSummary(const ModelSummary &summary, llvm::raw_ostream &os) {
  os << "graph:        " << summary.graphName << "\n";
  os << "ir version:   " << summary.irVersion << "\n";
  if (!summary.producer.empty())
    os << "producer:     " << summary.producer << "\n";
  os << "opsets:      ";
  for (auto &[domain, version] : summary.opsets)
    os << " " << domain << " " << version;
  os << "\n";
  for (auto &input : summary.inputs)
    os << "input:        " << input.name << " : " << input.type << "\n";
  for (auto &output : summary.outputs)
    os << "output:       " << output.name << " : " << output.type << "\n";
  os << "nodes:        " << summary.nodes << " (" << summary.opCounts.size()
     << " op types";
  if (summary.subgraphs)
    os << ", " << summary.subgraphs << " subgraphs";
  os << ")\n";
  for (auto &[op, count] : summary.opCounts)
    os << llvm::format("  %-24s %lld\n", op.c_str(), static_cast<long long>(count));
  os << "parameters:   " << summary.parameters << " in " << summary.initializers
     << " initializers, " << summary.parameterBytes << " bytes\n";
}
