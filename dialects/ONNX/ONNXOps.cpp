//===- ONNXOps.cpp - Ops of the onnx dialect ------------------------------===//
//
// The assembly form and common verification of schema ops, and the verifiers
// of the hand-written structural ops. The generated op definitions are
// compiled in shards (ONNXOpsShard*.cpp, made by CMake).
//
//===----------------------------------------------------------------------===//

#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace pith::ONNX;

ParseResult pith::ONNX::parseSchemaOp(OpAsmParser &parser,
                                      OperationState &result) {
  SmallVector<OpAsmParser::UnresolvedOperand> operands;
  llvm::SMLoc attrLoc;
  if (parser.parseOperandList(operands, OpAsmParser::Delimiter::Paren))
    return failure();
  attrLoc = parser.getCurrentLocation();
  if (parser.parseOptionalAttrDict(result.attributes))
    return failure();
  // Inherent attributes live in properties, which would silently drop one of
  // the wrong kind; reject it as the generic syntax does.
  if (std::optional<RegisteredOperationName> name =
          result.name.getRegisteredInfo())
    if (failed(name->verifyInherentAttrs(result.attributes, [&]() {
          return parser.emitError(attrLoc);
        })))
      return failure();
  // Graph attributes: `({...}, {...})`, empty regions allowed for optional
  // ones.
  if (succeeded(parser.parseOptionalLParen())) {
    do {
      Region *region = result.addRegion();
      if (parser.parseRegion(*region, /*arguments=*/{}))
        return failure();
    } while (succeeded(parser.parseOptionalComma()));
    if (parser.parseRParen())
      return failure();
  }
  FunctionType type;
  llvm::SMLoc typeLoc = parser.getCurrentLocation();
  if (parser.parseColonType(type) ||
      parser.resolveOperands(operands, type.getInputs(), typeLoc,
                             result.operands))
    return failure();
  result.addTypes(type.getResults());
  return success();
}

void pith::ONNX::printSchemaOp(Operation *op, OpAsmPrinter &printer) {
  printer << "(" << op->getOperands() << ")";
  printer.printOptionalAttrDict(op->getAttrDictionary().getValue());
  if (op->getNumRegions()) {
    printer << " (";
    llvm::interleaveComma(op->getRegions(), printer, [&](Region &region) {
      printer.printRegion(region, /*printEntryBlockArgs=*/true,
                          /*printBlockTerminators=*/true);
    });
    printer << ")";
  }
  printer << " : ";
  printer.printFunctionalType(op);
}

/// Subgraphs are single blocks ending in onnx.Yield.
static LogicalResult verifySubgraphs(Operation *op) {
  for (Region &region : op->getRegions()) {
    if (region.empty())
      continue;
    if (!region.hasOneBlock())
      return op->emitOpError("subgraph regions must have exactly one block");
    if (region.front().empty() ||
        !isa<YieldOp>(region.front().back()))
      return op->emitOpError("subgraph region must end with onnx.Yield");
  }
  return success();
}

LogicalResult pith::ONNX::verifySchemaOp(Operation *op) {
  if (failed(verifySubgraphs(op)))
    return failure();
  const OpSchema *schema = lookupSchemaByOpName(op->getName().getStringRef());
  if (!schema)
    return op->emitOpError("has no ONNX schema");
  for (auto [index, formal] : llvm::enumerate(schema->inputs))
    if (formal.kind == FormalKind::Single && index < op->getNumOperands() &&
        isa<NoneType>(op->getOperand(index).getType()))
      return op->emitOpError() << "required input '" << formal.name
                               << "' is absent";
  return verifyOperatorSemantics(op, schema->opType);
}

LogicalResult CustomOp::verify() {
  if (getGraphAttrs().size() != getGraphs().size())
    return emitOpError() << "names " << getGraphAttrs().size()
                         << " graph attributes but has " << getGraphs().size()
                         << " regions";
  return verifySubgraphs(getOperation());
}

int64_t pith::ONNX::defaultOpsetOf(ModuleOp module) {
  if (auto opsets = module->getAttrOfType<DictionaryAttr>(attrs::kOpsetImport))
    if (auto version = opsets.getAs<IntegerAttr>(kDefaultDomain))
      return version.getInt();
  return maxSupportedOpset();
}

Value pith::ONNX::createOp(OpBuilder &b, Location loc, ModuleOp module, StringRef opType,
                           ValueRange operands, Type resultType,
                           ArrayRef<NamedAttribute> attributes) {
  const OpSchema *schema = lookupSchema(opType, defaultOpsetOf(module));
  assert(schema && "an operator every opset Pith imports has");
  OperationState state(loc, schema->opName);
  state.addOperands(operands);
  state.addTypes(resultType);
  state.addAttributes(attributes);
  return b.create(state)->getResult(0);
}
