//===- ONNXToLinalg.cpp - Lower the onnx dialect to linalg ----------------===//
//
// The pass: weights become function arguments, then one conversion pattern
// dispatches every onnx op to the lowering registered for its ONNX type.
//
//===----------------------------------------------------------------------===//

#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"
#include "pith/Conversion/Passes.h"

#include <cstring>

#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace pith {
#define GEN_PASS_DEF_CONVERTONNXTOLINALGPASS
#include "pith/Conversion/Passes.h.inc"
} // namespace pith

using namespace mlir;
using namespace pith;

std::vector<std::string> ONNXLoweringTable::operatorTypes() const {
  std::vector<std::string> types;
  for (const auto &entry : lowerings)
    types.push_back(entry.getKey().str());
  std::sort(types.begin(), types.end());
  return types;
}

const ONNXLoweringTable &pith::getONNXLoweringTable() {
  static const ONNXLoweringTable table = [] {
    ONNXLoweringTable t;
    populateElementwiseLowerings(t);
    populateMatMulLowerings(t);
    populateShapeLowerings(t);
    populateReductionLowerings(t);
    populateConvLowerings(t);
    populateResampleLowerings(t);
    populateQuantizationLowerings(t);
    populateRecurrentLowerings(t);
    populateSignalLowerings(t);
    return t;
  }();
  return table;
}

Type pith::convertONNXType(Type type) {
  if (isa<ONNX::UnknownType, ONNX::SeqType, ONNX::OptType>(type))
    return nullptr;
  auto tensor = dyn_cast<TensorType>(type);
  if (!tensor)
    return type;
  auto integer = dyn_cast<IntegerType>(tensor.getElementType());
  if (!integer || integer.isSignless())
    return type;
  return tensor.clone(IntegerType::get(type.getContext(), integer.getWidth()));
}

ONNXToLinalgTypeConverter::ONNXToLinalgTypeConverter() {
  addConversion([](Type type) -> std::optional<Type> {
    if (Type converted = convertONNXType(type))
      return converted;
    return std::nullopt;
  });
  auto cast = [](OpBuilder &b, Type type, ValueRange inputs, Location loc) -> Value {
    return UnrealizedConversionCastOp::create(b, loc, type, inputs).getResult(0);
  };
  addSourceMaterialization(cast);
  addTargetMaterialization(cast);
}

namespace {

/// The ONNX operator type of an onnx-dialect op ("Add" for onnx.AddV7).
StringRef onnxOpType(Operation *op) {
  if (auto custom = dyn_cast<ONNX::CustomOp>(op))
    return custom.getOpType();
  if (const ONNX::OpSchema *schema =
          ONNX::lookupSchemaByOpName(op->getName().getStringRef()))
    return schema->opType;
  return "";
}

// Pattern: any onnx op -> what its ONNX type's lowering builds.
class LowerONNXOp : public ConversionPattern {
public:
  LowerONNXOp(TypeConverter &converter, MLIRContext *context,
              const ONNXLoweringTable &table)
      : ConversionPattern(converter, MatchAnyOpTypeTag(), /*benefit=*/1,
                          context),
        table(table) {}

  LogicalResult
  matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isa<ONNX::ONNXDialect>(op->getDialect()) ||
        isa<ONNX::NoneOp, ONNX::InitializerOp, ONNX::YieldOp>(op))
      return failure();
    const ONNXLowering *lowering = table.lookup(onnxOpType(op));
    if (!lowering || isa<ONNX::CustomOp>(op))
      return rewriter.notifyMatchFailure(op, "no lowering for this operator");
    // Absent optional inputs reach lowerings as null values.
    SmallVector<Value> present;
    for (Value operand : operands)
      present.push_back(isa<NoneType>(operand.getType()) ? Value() : operand);
    FailureOr<SmallVector<Value>> results = (*lowering)(op, present, rewriter);
    if (failed(results))
      return failure();
    // Lowerings may leave trailing optional results (Dropout's mask) out.
    results->resize(op->getNumResults());
    // Absent optional results have no uses: give them a placeholder.
    for (auto [index, value] : llvm::enumerate(*results))
      if (!value) {
        if (!op->getResult(index).use_empty())
          return op->emitError() << "optional result " << index
                                 << " is used but not produced";
        value = ONNX::NoneOp::create(rewriter, op->getLoc(), rewriter.getNoneType());
      }
    rewriter.replaceOp(op, *results);
    return success();
  }

private:
  const ONNXLoweringTable &table;
};

/// Small integer initializers are shapes, axes and indices: lowerings need
/// their values at compile time, so they stay constants.
constexpr int64_t kConstantIntegerLimit = 256;

bool staysConstant(ONNX::InitializerOp op) {
  ShapedType type = op.getValue().getShapedType();
  return isa<IntegerType>(type.getElementType()) &&
         type.getNumElements() <= kConstantIntegerLimit;
}

/// A small integer initializer as an onnx.Constant (lowered like any other).
void toConstant(ONNX::InitializerOp op) {
  OpBuilder b(op);
  ElementsAttr value = op.getValue();
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    ArrayRef<char> data = resource.getRawHandle().getBlob()->getData();
    ShapedType type = value.getShapedType();
    if (type.getElementType().isInteger(1)) {
      SmallVector<bool> bits(data.begin(), data.end());
      value = DenseElementsAttr::get(type, ArrayRef<bool>(bits));
    } else {
      value = DenseElementsAttr::getFromRawBuffer(type, data);
    }
  }
  OperationState state(op.getLoc(), "onnx.Constant");
  state.addTypes(op.getType());
  state.addAttribute("value", value);
  Operation *constant = b.create(state);
  op.getResult().replaceAllUsesWith(constant->getResult(0));
  op->erase();
}

/// The fraction of an f32 weight's elements that are zero, if its data is
/// at hand.
std::optional<double> zeroFraction(ElementsAttr value) {
  if (!value.getShapedType().getElementType().isF32() || value.getNumElements() == 0)
    return std::nullopt;
  ArrayRef<char> data;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    data = blob->getData();
  } else if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    if (dense.isSplat())
      return dense.getSplatValue<float>() == 0.0f ? 1.0 : 0.0;
    data = dense.getRawData();
  } else {
    return std::nullopt;
  }
  int64_t count = static_cast<int64_t>(data.size() / sizeof(float)), zeros = 0;
  for (int64_t e = 0; e < count; ++e) {
    float v;
    std::memcpy(&v, data.data() + e * sizeof(float), sizeof(float));
    zeros += v == 0.0f;
  }
  return count ? std::optional<double>(double(zeros) / count) : std::nullopt;
}

/// Turns the graph function's initializers into trailing arguments marked
/// `pith.weight` (and, for f32 data, pith::kZeroFractionAttrName: mostly-zero
/// weights go to the sparse matmul kernel), so the data is passed in at run
/// time. Unused ones (graph
/// input defaults overridden by the input) are dropped.
void weightsToArguments(func::FuncOp func) {
  Block &entry = func.getBody().front();
  SmallVector<ONNX::InitializerOp> initializers;
  for (auto op : llvm::make_early_inc_range(entry.getOps<ONNX::InitializerOp>())) {
    if (op->use_empty())
      op->erase();
    else if (staysConstant(op))
      toConstant(op);
    else
      initializers.push_back(op);
  }
  MLIRContext *ctx = func.getContext();
  for (ONNX::InitializerOp init : initializers) {
    unsigned index = func.getNumArguments();
    SmallVector<NamedAttribute> attrs = {
        NamedAttribute(StringAttr::get(ctx, "pith.weight"), StringAttr::get(ctx, init.getName()))};
    if (std::optional<double> zeros = zeroFraction(init.getValue()))
      attrs.push_back(NamedAttribute(StringAttr::get(ctx, pith::kZeroFractionAttrName),
                                     FloatAttr::get(Float64Type::get(ctx), *zeros)));
    if (failed(func.insertArgument(index, init.getType(), DictionaryAttr::get(ctx, attrs),
                                   init.getLoc())))
      continue;
    init.getResult().replaceAllUsesWith(func.getArgument(index));
    init->erase();
  }
}

struct ConvertONNXToLinalgPass
    : public pith::impl::ConvertONNXToLinalgPassBase<ConvertONNXToLinalgPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    const ONNXLoweringTable &table = getONNXLoweringTable();
    if (failed(checkLowerable(module, table)))
      return signalPassFailure();
    for (auto func : module.getOps<func::FuncOp>())
      weightsToArguments(func);

    MLIRContext *context = &getContext();
    ONNXToLinalgTypeConverter typeConverter;
    RewritePatternSet patterns(context);
    populateONNXToLinalgConversionPatterns(typeConverter, patterns, table);

    ConversionTarget target(*context);
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           scf::SCFDialect>();
    target.addIllegalDialect<ONNX::ONNXDialect>();
    // Absent values die with their users; erased below.
    target.addLegalOp<ONNX::NoneOp>();
    target.addLegalOp<ModuleOp>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return typeConverter.isSignatureLegal(op.getFunctionType());
    });
    target.addDynamicallyLegalOp<func::ReturnOp>(
        [&](func::ReturnOp op) { return typeConverter.isLegal(op); });
    if (failed(applyFullConversion(module, target, std::move(patterns))))
      return signalPassFailure();
    module.walk([](ONNX::NoneOp op) {
      if (op->use_empty())
        op->erase();
    });
  }
};
} // namespace

void pith::populateONNXToLinalgConversionPatterns(
    ONNXToLinalgTypeConverter &typeConverter, RewritePatternSet &patterns,
    const ONNXLoweringTable &table) {
  MLIRContext *context = patterns.getContext();
  patterns.add<LowerONNXOp>(typeConverter, context, table);
  populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                 typeConverter);
  populateReturnOpTypeConversionPattern(patterns, typeConverter);
}

/// " (computing 'y')" for a node without a name, so that errors identify it.
static std::string outputsOf(Operation *op) {
  if (isa<NameLoc>(op->getLoc()))
    return "";
  auto names = op->getAttrOfType<ArrayAttr>(ONNX::attrs::kNames);
  if (!names || names.empty())
    return "";
  return " (computing '" + cast<StringAttr>(names[0]).str() + "')";
}

LogicalResult pith::checkLowerable(ModuleOp module,
                                   const ONNXLoweringTable &table) {
  bool ok = true;
  module.walk([&](Operation *op) {
    if (!isa_and_nonnull<ONNX::ONNXDialect>(op->getDialect()) ||
        isa<ONNX::NoneOp, ONNX::InitializerOp, ONNX::YieldOp>(op))
      return;
    if (auto custom = dyn_cast<ONNX::CustomOp>(op)) {
      StringRef domain = custom.getDomain();
      op->emitError() << "operator '"
                      << (domain.empty() ? "" : (domain + ".").str())
                      << custom.getOpType() << "'" << outputsOf(op)
                      << " is not supported by code generation";
      ok = false;
      return;
    }
    StringRef type = onnxOpType(op);
    auto isString = [](Type t) {
      auto shaped = dyn_cast<ShapedType>(t);
      return shaped && isa<ONNX::StringType>(shaped.getElementType());
    };
    if (llvm::any_of(op->getOperandTypes(), isString) ||
        llvm::any_of(op->getResultTypes(), isString)) {
      op->emitError() << "operator '" << type << "'" << outputsOf(op)
                      << " on string tensors is not supported by code generation";
      ok = false;
      return;
    }
    if (!table.lookup(type)) {
      op->emitError() << "operator '" << type << "'" << outputsOf(op)
                      << " is not supported by code generation yet";
      ok = false;
      return;
    }
    for (auto [index, result] : llvm::enumerate(op->getResults()))
      if (!isa<NoneType, RankedTensorType>(result.getType())) {
        op->emitError() << "result " << index
                        << " has no known ranked tensor type; code "
                           "generation needs one";
        ok = false;
        return;
      }
  });
  return success(ok);
}
