//===- Weights.cpp - Reading, making and reporting weights ----------------===//

#include "Weights.h"

#include "ONNX/ONNXDialect.h"
#include "ONNX/ONNXSchema.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace pith;
using namespace pith::compression;

namespace {
/// IEEE half precision bits as a float (exact).
float halfToFloat(uint16_t h) {
  int sign = h >> 15, exponent = (h >> 10) & 31, mantissa = h & 1023;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = std::ldexp(static_cast<float>(mantissa + 1024), exponent - 25);
  return sign ? -magnitude : magnitude;
}
} // namespace

WeightData::WeightData(ElementsAttr value)
    : elementType(value.getElementType()), count(value.getNumElements()) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      data = blob->getData();
    return;
  }
  auto dense = cast<DenseElementsAttr>(value);
  ArrayRef<char> raw = dense.getRawData();
  if (!dense.isSplat()) {
    data = raw;
    return;
  }
  owned.reserve(raw.size() * count);
  for (int64_t i = 0; i < count; ++i)
    owned.insert(owned.end(), raw.begin(), raw.end());
  data = owned;
}

double WeightData::operator[](int64_t i) const {
  const char *at = data.data() + i * elementBytes(elementType);
  if (elementType.isF32()) {
    float v;
    std::memcpy(&v, at, sizeof v);
    return v;
  }
  if (elementType.isF64()) {
    double v;
    std::memcpy(&v, at, sizeof v);
    return v;
  }
  uint16_t bits;
  std::memcpy(&bits, at, sizeof bits);
  if (elementType.isF16())
    return halfToFloat(bits);
  uint32_t widened = static_cast<uint32_t>(bits) << 16; // bf16: the top half of an f32
  float v;
  std::memcpy(&v, &widened, sizeof v);
  return v;
}

std::vector<float> WeightData::toFloats() const {
  std::vector<float> values(count);
  if (elementType.isF32() && !data.empty()) {
    std::memcpy(values.data(), data.data(), count * sizeof(float));
    return values;
  }
  for (int64_t i = 0; i < count; ++i)
    values[i] = static_cast<float>((*this)[i]);
  return values;
}

int64_t compression::elementBytes(Type elementType) {
  return (elementType.getIntOrFloatBitWidth() + 7) / 8;
}

int64_t compression::parameterBytes(dialect::ParameterOp parameter) {
  auto type = cast<RankedTensorType>(parameter.getType());
  return type.getNumElements() * elementBytes(type.getElementType());
}

ElementsAttr compression::makeWeight(RankedTensorType type, StringRef key,
                                     ArrayRef<float> values) {
  auto f32 = RankedTensorType::get(type.getShape(), Float32Type::get(type.getContext()));
  return DenseResourceElementsAttr::get(
      f32, key, HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
}

dialect::ParameterOp compression::createParameter(ModuleOp module, StringRef name,
                                                  ElementsAttr value,
                                                  ArrayRef<Attribute> sources) {
  OpBuilder atEnd(module.getBodyRegion());
  atEnd.setInsertionPointToEnd(module.getBody());
  auto type = cast<RankedTensorType>(value.getType());
  auto parameter = dialect::ParameterOp::create(
      atEnd, module.getLoc(), atEnd.getStringAttr(name), TypeAttr::get(type), value,
      atEnd.getArrayAttr(sources), dialect::SparsityAttr());
  SymbolTable(module).insert(parameter); // renames on a clash
  return parameter;
}

dialect::ParameterOp compression::parameterOf(dialect::UseOp use) {
  return SymbolTable::lookupNearestSymbolFrom<dialect::ParameterOp>(use, use.getParameterAttr());
}

llvm::DenseMap<StringAttr, SmallVector<dialect::UseOp>>
compression::collectUses(ModuleOp module) {
  llvm::DenseMap<StringAttr, SmallVector<dialect::UseOp>> uses;
  module.walk([&](dialect::UseOp use) {
    uses[use.getParameterAttr().getAttr()].push_back(use);
  });
  return uses;
}

void compression::appendReport(ModuleOp module, StringRef pass, ArrayRef<std::string> lines,
                               ArrayRef<NamedAttribute> figures) {
  Builder b(module.getContext());
  SmallVector<Attribute> entries;
  if (auto existing = module->getAttrOfType<ArrayAttr>(kReportAttrName))
    entries.assign(existing.begin(), existing.end());
  SmallVector<NamedAttribute> fields(figures);
  fields.push_back(b.getNamedAttr("pass", b.getStringAttr(pass)));
  SmallVector<StringRef> lineRefs(lines.begin(), lines.end());
  fields.push_back(b.getNamedAttr("lines", b.getStrArrayAttr(lineRefs)));
  entries.push_back(b.getDictionaryAttr(fields));
  module->setAttr(kReportAttrName, b.getArrayAttr(entries));
}

std::string compression::formatBytes(int64_t bytes) {
  if (bytes >= 1000000)
    return llvm::formatv("{0:f2} MB", bytes / 1e6).str();
  if (bytes >= 1000)
    return llvm::formatv("{0:f1} kB", bytes / 1e3).str();
  return std::to_string(bytes) + " B";
}

std::string compression::describeNode(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return "node '" + name.getName().str() + "'";
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return llvm::formatv("the node at {0}:{1}:{2}", file.getFilename(), file.getLine(),
                         file.getColumn());
  return "a node";
}
