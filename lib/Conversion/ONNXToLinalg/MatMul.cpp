//===- MatMul.cpp - Lower MatMul and Gemm ---------------------------------===//
//
// 2-D MatMul becomes linalg.matmul (the named op later tiling, vectorization
// and library calls recognize); batched and 1-D forms, and Gemm's transposes,
// become a linalg.generic contraction with numpy broadcasting of batch
// dimensions.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace pith;
using namespace pith::lowering;

namespace {

/// acc + a * b in the accumulator's type (16-bit floats are widened first:
/// their products are exact in f32).
Value multiplyAdd(OpBuilder &b, Location loc, Value a, Value x, Value acc) {
  if (isa<FloatType>(a.getType())) {
    if (a.getType() != acc.getType()) {
      a = arith::ExtFOp::create(b, loc, acc.getType(), a);
      x = arith::ExtFOp::create(b, loc, acc.getType(), x);
    }
    return arith::AddFOp::create(b, loc, acc, arith::MulFOp::create(b, loc, a, x));
  }
  return arith::AddIOp::create(b, loc, acc, arith::MulIOp::create(b, loc, a, x));
}

/// The type products are summed in: f32 for fp16 and bf16 results (their
/// own precision would lose the sum, as #pith.precision says: compute in
/// 16 bits, accumulate in 32), the result's type otherwise.
RankedTensorType accumulatorFor(RankedTensorType type) {
  Type element = type.getElementType();
  if (element.isF16() || element.isBF16())
    return type.clone(Float32Type::get(type.getContext()));
  return type;
}

/// `sum` rounded to `type`'s element type, if the accumulator was wider.
Value roundTo(OpBuilder &b, Location loc, Value sum, RankedTensorType type) {
  if (sum.getType() == type)
    return sum;
  return elementwise(b, loc, type, {sum},
                     [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
                       return arith::TruncFOp::create(nb, nloc, type.getElementType(), args[0]);
                     });
}

/// C = A * B for 2-D operands, as linalg.matmul (which the kernel pass runs
/// in a tuned library). With `rhsTransposed`, `rhs` holds B^T ([N, K]) and
/// the matmul reads it through transposed indexing maps: a transposed
/// weight (Gemm transB, MatMul of a Transpose) is never copied.
Value matmul2d(OpBuilder &b, Location loc, Value lhs, Value rhs, RankedTensorType resultType,
               bool rhsTransposed = false) {
  RankedTensorType type = accumulatorFor(resultType);
  SmallVector<Value> sizes;
  if (type.isDynamicDim(0))
    sizes.push_back(tensor::DimOp::create(b, loc, lhs, 0));
  if (type.isDynamicDim(1))
    sizes.push_back(tensor::DimOp::create(b, loc, rhs, rhsTransposed ? 0 : 1));
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                        type.getElementType(), sizes);
  Value zero = scalarConstant(b, loc, type.getElementType(), 0);
  Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  SmallVector<NamedAttribute> attributes;
  if (rhsTransposed) {
    MLIRContext *ctx = b.getContext();
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    auto map = [&](ArrayRef<AffineExpr> results) -> Attribute {
      return AffineMapAttr::get(AffineMap::get(3, 0, results, ctx));
    };
    attributes.push_back(b.getNamedAttr(
        "indexing_maps", b.getArrayAttr({map({m, k}), map({n, k}), map({m, n})})));
  }
  Value sum = linalg::MatmulOp::create(b, loc, TypeRange{type}, ValueRange{lhs, rhs},
                                       ValueRange{init}, attributes)
                  .getResult(0);
  return roundTo(b, loc, sum, resultType);
}

/// The [N, K] tensor `value` ([K, N]) is the 2-D transpose of, if any.
Value transposedSource(Value value) {
  auto transpose = value.getDefiningOp<linalg::TransposeOp>();
  if (!transpose || transpose.getPermutation() != ArrayRef<int64_t>{1, 0})
    return Value();
  return transpose.getInput();
}

/// The transpose of a 2-D tensor.
Value transpose2d(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<Value> sizes;
  for (int64_t d : {1, 0})
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, value, d));
  Value empty = tensor::EmptyOp::create(
      b, loc, {type.getDimSize(1), type.getDimSize(0)}, type.getElementType(), sizes);
  return linalg::TransposeOp::create(b, loc, value, empty,
                                     b.getDenseI64ArrayAttr({1, 0}))
      .getResult()[0];
}

/// Groups all dimensions but the last `keep` into one: [[0..n-keep], ...].
SmallVector<ReassociationIndices> collapseLeading(int64_t rank, int64_t keep) {
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t d = 0; d <= rank - keep; ++d)
    groups[0].push_back(d);
  for (int64_t d = rank - keep + 1; d < rank; ++d)
    groups.push_back({d});
  return groups;
}

/// The symbolic sizes of numpy matmul's result, in order: batch dimensions
/// from the operand that is not broadcast along them, m from the left
/// operand, n from the right one.
SmallVector<Value> matmulResultSizes(OpBuilder &b, Location loc, RankedTensorType result,
                                     Value lhs, Value rhs) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  int64_t rank = result.getRank(), lhsRank = lhsType.getRank(), rhsRank = rhsType.getRank();
  // Result dimensions: batch..., m (if lhs is 2-D or more), n (if rhs is).
  int64_t nDim = rhsRank >= 2 ? rank - 1 : -1;
  int64_t mDim = lhsRank >= 2 ? rank - (rhsRank >= 2 ? 2 : 1) : -1;
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < rank; ++d) {
    if (!result.isDynamicDim(d))
      continue;
    if (d == nDim) {
      sizes.push_back(tensor::DimOp::create(b, loc, rhs, rhsRank - 1));
    } else if (d == mDim) {
      sizes.push_back(tensor::DimOp::create(b, loc, lhs, lhsRank - 2));
    } else {
      // Batch dimension d, aligned from the right with each operand's batch
      // dimensions (their last two dimensions are matrix dimensions).
      int64_t batchRank = rank - (mDim >= 0) - (nDim >= 0);
      int64_t fromEnd = batchRank - d;
      int64_t l = lhsRank - 2 - fromEnd, r = rhsRank - 2 - fromEnd;
      bool useLhs = lhsRank >= 2 && l >= 0 && lhsType.getDimSize(l) != 1;
      sizes.push_back(useLhs ? tensor::DimOp::create(b, loc, lhs, l)
                             : tensor::DimOp::create(b, loc, rhs, r));
    }
  }
  return sizes;
}

/// A contraction over loops (batch..., m?, n?, k): the caller gives each
/// operand's indexing expressions and the result's symbolic sizes.
Value contraction(OpBuilder &b, Location loc, RankedTensorType roundedType,
                  Value lhs, Value rhs, unsigned numLoops,
                  ArrayRef<AffineExpr> lhsExprs, ArrayRef<AffineExpr> rhsExprs,
                  ArrayRef<AffineExpr> outExprs, ValueRange dynamicSizes) {
  RankedTensorType resultType = accumulatorFor(roundedType);
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, lhsExprs, ctx),
                                 AffineMap::get(numLoops, 0, rhsExprs, ctx),
                                 AffineMap::get(numLoops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(numLoops - 1,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Value empty = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                        resultType.getElementType(), dynamicSizes);
  Value init =
      linalg::FillOp::create(b, loc, scalarConstant(b, loc, resultType.getElementType(), 0),
                             empty)
          .getResult(0);
  Value sum = linalg::GenericOp::create(
             b, loc, TypeRange{resultType}, ValueRange{lhs, rhs},
             ValueRange{init}, maps, iterators,
             [](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nloc, multiplyAdd(nb, nloc, args[0], args[1], args[2]));
             })
      .getResult(0);
  return roundTo(b, loc, sum, roundedType);
}

FailureOr<SmallVector<Value>> lowerMatMul(Operation *op, ArrayRef<Value> operands,
                                          ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value a = operands[0], b = operands[1];
  auto aType = cast<RankedTensorType>(a.getType());
  auto bType = cast<RankedTensorType>(b.getType());
  Value bTransposed = bType.getRank() == 2 ? transposedSource(b) : Value();
  if (aType.getRank() == 2 && bType.getRank() == 2)
    return SmallVector<Value>{bTransposed ? matmul2d(rewriter, loc, a, bTransposed, *result, true)
                                          : matmul2d(rewriter, loc, a, b, *result)};
  bool staticShapes = aType.hasStaticShape() && bType.hasStaticShape() &&
                      result->hasStaticShape();
  // Pattern: [batch..., M, K] x [K, N] -> collapse batch into M, one 2-D
  // matmul, expand back.
  if (staticShapes && aType.getRank() >= 3 && bType.getRank() == 2) {
    auto groups = collapseLeading(aType.getRank(), 2);
    Value flat = tensor::CollapseShapeOp::create(rewriter, loc, a, groups);
    int64_t rows = cast<RankedTensorType>(flat.getType()).getDimSize(0);
    auto flatType = RankedTensorType::get({rows, bType.getDimSize(1)},
                                          result->getElementType());
    Value product = bTransposed ? matmul2d(rewriter, loc, flat, bTransposed, flatType, true)
                                : matmul2d(rewriter, loc, flat, b, flatType);
    return SmallVector<Value>{tensor::ExpandShapeOp::create(
        rewriter, loc, *result, product, collapseLeading(result->getRank(), 2))};
  }
  // Pattern: [batch..., M, K] x [batch..., K, N] with equal batch dims ->
  // one linalg.batch_matmul over the flattened batch.
  if (staticShapes && aType.getRank() >= 3 && aType.getRank() == bType.getRank() &&
      aType.getShape().drop_back(2) == bType.getShape().drop_back(2)) {
    int64_t rank = aType.getRank();
    auto groups = collapseLeading(rank, 3);
    Value lhs = tensor::CollapseShapeOp::create(rewriter, loc, a, groups);
    Value rhs = tensor::CollapseShapeOp::create(rewriter, loc, b, groups);
    int64_t batch = cast<RankedTensorType>(lhs.getType()).getDimSize(0);
    auto roundedType = RankedTensorType::get(
        {batch, aType.getDimSize(rank - 2), bType.getDimSize(rank - 1)},
        result->getElementType());
    RankedTensorType flatType = accumulatorFor(roundedType);
    Value empty = tensor::EmptyOp::create(rewriter, loc, flatType.getShape(),
                                          flatType.getElementType());
    Value zero = scalarConstant(rewriter, loc, flatType.getElementType(), 0);
    Value init = linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
    Value product = roundTo(rewriter, loc,
                            linalg::BatchMatmulOp::create(rewriter, loc, TypeRange{flatType},
                                                          ValueRange{lhs, rhs}, ValueRange{init})
                                .getResult(0),
                            roundedType);
    return SmallVector<Value>{tensor::ExpandShapeOp::create(
        rewriter, loc, *result, product, collapseLeading(rank, 3))};
  }
  // numpy matmul: 1-D operands and broadcast batch dimensions.
  std::optional<MatMulIndexing> ix = matmulIndexing(rewriter, aType, bType, *result);
  if (!ix)
    return op->emitError("result rank does not match the operands"), failure();
  return SmallVector<Value>{contraction(rewriter, loc, *result, a, b,
                                        ix->numLoops, ix->lhs, ix->rhs, ix->out,
                                        matmulResultSizes(rewriter, loc, *result, a, b))};
}

/// Gemm: alpha * op(A) * op(B) + beta * C, op = optional transpose.
FailureOr<SmallVector<Value>> lowerGemm(Operation *op, ArrayRef<Value> operands,
                                        ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value a = operands[0], b = operands[1];
  Value c = operands.size() > 2 ? operands[2] : Value();
  bool transA = intAttr(op, "transA", 0), transB = intAttr(op, "transB", 0);
  double alpha = floatAttr(op, "alpha", 1.0), beta = floatAttr(op, "beta", 1.0);
  // A transposed A is copied transposed; a transposed B (the usual
  // layout of exported linear layers) is read in place.
  if (transA)
    a = transpose2d(rewriter, loc, a);
  Value product = matmul2d(rewriter, loc, a, b, *result, transB);
  if (alpha == 1.0 && (!c || beta == 0.0))
    return SmallVector<Value>{product};
  SmallVector<Value> inputs{product};
  if (c && beta != 0.0)
    inputs.push_back(c);
  Value out = elementwise(
      rewriter, loc, *result, inputs,
      [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
        Type type = args[0].getType();
        bool isFloat = isa<FloatType>(type);
        auto mul = [&](Value x, double s) -> Value {
          if (s == 1.0)
            return x;
          Value factor = scalarConstant(nb, nloc, type, s);
          return isFloat ? arith::MulFOp::create(nb, nloc, x, factor).getResult()
                         : arith::MulIOp::create(nb, nloc, x, factor).getResult();
        };
        Value value = mul(args[0], alpha);
        if (args.size() > 1) {
          Value bias = mul(args[1], beta);
          value = isFloat ? arith::AddFOp::create(nb, nloc, value, bias).getResult()
                          : arith::AddIOp::create(nb, nloc, value, bias).getResult();
        }
        return value;
      });
  return SmallVector<Value>{out};
}
} // namespace

void pith::populateMatMulLowerings(ONNXLoweringTable &table) {
  table.add("MatMul", lowerMatMul);
  table.add("Gemm", lowerGemm);
}
