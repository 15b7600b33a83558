//===- LoweringUtils.cpp - Helpers shared by the onnx lowerings -----------===//

#include "LoweringUtils.h"

#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

#include "ONNX/ONNXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace pith::lowering {

FailureOr<RankedTensorType> resultType(Operation *op, unsigned index) {
  Type original = op->getResult(index).getType();
  auto ranked = dyn_cast_or_null<RankedTensorType>(convertONNXType(original));
  if (!ranked) {
    std::string text;
    llvm::raw_string_ostream os(text);
    original.print(os);
    op->emitError() << "result " << index << " has type " << text
                    << "; code generation needs a ranked tensor type";
    return failure();
  }
  return ranked;
}

bool isUnsigned(Value original) {
  auto shaped = dyn_cast<ShapedType>(original.getType());
  return shaped && shaped.getElementType().isUnsignedInteger();
}

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange sizeSources) {
  SmallVector<Value> dynamicSizes;
  int64_t rank = type.getRank();
  for (int64_t d = 0; d < rank; ++d) {
    if (!type.isDynamicDim(d))
      continue;
    Value size;
    for (Value source : sizeSources) {
      auto sourceType = cast<RankedTensorType>(source.getType());
      int64_t sd = d - (rank - sourceType.getRank());
      if (sd < 0 || sourceType.getDimSize(sd) == 1)
        continue;
      size = tensor::DimOp::create(b, loc, source, sd);
      break;
    }
    if (!size)
      size = arith::ConstantIndexOp::create(b, loc, 1);
    dynamicSizes.push_back(size);
  }
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamicSizes);
}

Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                  ValueRange inputs, ScalarBody body) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = resultType.getRank();
  SmallVector<AffineMap> maps;
  for (Value input : inputs) {
    auto type = cast<RankedTensorType>(input.getType());
    SmallVector<AffineExpr> exprs;
    int64_t offset = rank - type.getRank();
    for (int64_t d = 0; d < type.getRank(); ++d) {
      bool broadcast = type.getDimSize(d) == 1 &&
                       resultType.getDimSize(d + offset) != 1;
      exprs.push_back(broadcast ? b.getAffineConstantExpr(0)
                                : b.getAffineDimExpr(d + offset));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = emptyTensor(b, loc, resultType, inputs);
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value result = body(nb, nloc, args.drop_back());
        linalg::YieldOp::create(nb, nloc, result);
      });
  return generic.getResult(0);
}

std::optional<MatMulIndexing> matmulIndexing(OpBuilder &b, RankedTensorType lhs,
                                             RankedTensorType rhs,
                                             RankedTensorType result) {
  bool hasM = lhs.getRank() >= 2, hasN = rhs.getRank() >= 2;
  int64_t batch = result.getRank() - hasM - hasN;
  if (batch < 0)
    return std::nullopt;
  MatMulIndexing ix;
  ix.numLoops = batch + hasM + hasN + 1;
  ix.m = b.getAffineDimExpr(batch);
  ix.n = b.getAffineDimExpr(batch + hasM);
  ix.k = b.getAffineDimExpr(ix.numLoops - 1);
  auto batchExprs = [&](RankedTensorType type, int64_t own) {
    SmallVector<AffineExpr> exprs;
    int64_t operandBatch = type.getRank() - own;
    for (int64_t d = 0; d < operandBatch; ++d) {
      int64_t loop = batch - operandBatch + d;
      bool broadcast = type.getDimSize(d) == 1 && result.getDimSize(loop) != 1;
      exprs.push_back(broadcast ? b.getAffineConstantExpr(0)
                                : b.getAffineDimExpr(loop));
    }
    return exprs;
  };
  ix.lhs = batchExprs(lhs, hasM ? 2 : 1);
  if (hasM)
    ix.lhs.push_back(ix.m);
  ix.lhs.push_back(ix.k);
  ix.rhs = batchExprs(rhs, hasN ? 2 : 1);
  ix.rhs.push_back(ix.k);
  if (hasN)
    ix.rhs.push_back(ix.n);
  for (int64_t d = 0; d < batch; ++d)
    ix.out.push_back(b.getAffineDimExpr(d));
  if (hasM)
    ix.out.push_back(ix.m);
  if (hasN)
    ix.out.push_back(ix.n);
  return ix;
}

Value scalarConstant(OpBuilder &b, Location loc, Type type, double value) {
  if (isa<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  return arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

Value castScalar(OpBuilder &b, Location loc, Value v, Type to,
                 bool fromUnsigned, bool toUnsigned) {
  Type from = v.getType();
  if (from == to)
    return v;
  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);
  if (fromFloat && toFloat)
    return fromFloat.getWidth() < toFloat.getWidth()
               ? arith::ExtFOp::create(b, loc, to, v).getResult()
               : arith::TruncFOp::create(b, loc, to, v).getResult();
  if (fromFloat) {
    if (to.isInteger(1)) {
      Value zero = scalarConstant(b, loc, from, 0.0);
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v, zero);
    }
    return toUnsigned ? arith::FPToUIOp::create(b, loc, to, v).getResult()
                      : arith::FPToSIOp::create(b, loc, to, v).getResult();
  }
  if (toFloat)
    return fromUnsigned || from.isInteger(1)
               ? arith::UIToFPOp::create(b, loc, to, v).getResult()
               : arith::SIToFPOp::create(b, loc, to, v).getResult();
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (to.isInteger(1)) {
    Value zero = scalarConstant(b, loc, from, 0);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v, zero);
  }
  if (fromWidth > toWidth)
    return arith::TruncIOp::create(b, loc, to, v);
  return fromUnsigned || from.isInteger(1)
             ? arith::ExtUIOp::create(b, loc, to, v).getResult()
             : arith::ExtSIOp::create(b, loc, to, v).getResult();
}

std::optional<SmallVector<int64_t>> constantInts(Value value) {
  if (!value)
    return std::nullopt;
  DenseIntElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> values;
  for (const APInt &v : attr.getValues<APInt>())
    values.push_back(v.getSExtValue());
  return values;
}

int64_t intAttr(Operation *op, StringRef name, int64_t fallback) {
  if (auto attr = dyn_cast_or_null<IntegerAttr>(op->getAttrDictionary().get(name)))
    return attr.getInt();
  return fallback;
}

double floatAttr(Operation *op, StringRef name, double fallback) {
  if (auto attr = dyn_cast_or_null<FloatAttr>(op->getAttrDictionary().get(name)))
    return attr.getValueAsDouble();
  return fallback;
}

StringRef stringAttr(Operation *op, StringRef name, StringRef fallback) {
  if (auto attr =
          dyn_cast_or_null<StringAttr>(op->getAttrDictionary().get(name)))
    return attr.getValue();
  return fallback;
}

FailureOr<RankedTensorType> staticSpatialType(Operation *op, Value value,
                                              StringRef what, int64_t minRank) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() < minRank)
    return op->emitError() << what
                           << " must be a ranked tensor of rank >= " << minRank,
           failure();
  for (int64_t d = 1; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      return op->emitError() << what
                             << " needs static dimensions after the batch "
                                "dimension",
             failure();
  return type;
}

Value emptyBatched(OpBuilder &b, Location loc, RankedTensorType type,
                   Value batchSource) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, batchSource, d));
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 sizes);
}

SmallVector<utils::IteratorType> iteratorTypes(int64_t parallel,
                                               int64_t reduction) {
  SmallVector<utils::IteratorType> types(parallel,
                                         utils::IteratorType::parallel);
  types.append(reduction, utils::IteratorType::reduction);
  return types;
}

} // namespace pith::lowering
