//===- ConvolutionsToNHWC.cpp - Channels-last layout around convolutions --===//
//
// ONNX convolutions are NCHW. oneDNN's fast f32 convolutions on AVX-512
// (brgemm, direct depthwise) want channels last: on MobileNetV2's layers
// NHWC runs 10-40x faster than NCHW, and converting layouts around each
// call costs more than the convolution. So the whole convolutional part of
// the graph moves to NHWC, once:
//
//  - each 2-D convolution (one group, or depthwise) becomes a linalg.generic
//    over an NHWC image and the original FCHW weights (weights are
//    arguments, so reordering them in the graph would cost a copy per run;
//    the kernel reorders them once), tagged for pith-linalg-to-kernel-calls;
//  - max/sum pooling becomes linalg's NHWC pooling;
//  - zero padding and all-parallel elementwise ops (bias, clip, residual
//    adds) whose 4-D operand is already NHWC follow into NHWC by permuting
//    their loops, so consecutive layers never convert;
//  - a transpose back to NCHW is left for every other user; the ones that
//    end up unused are erased.
//
//===----------------------------------------------------------------------===//

#include "pith/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/IRMapping.h"

namespace pith {
#define GEN_PASS_DEF_CONVOLUTIONSTONHWCPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {

// NCHW dimension d sits at NHWC position kToNHWC[d]; NHWC position p holds
// NCHW dimension kFromNHWC[p].
constexpr int64_t kFromNHWC[4] = {0, 2, 3, 1};
constexpr int64_t kToNHWC[4] = {0, 3, 1, 2};

RankedTensorType nhwcType(RankedTensorType nchw) {
  auto shape = nchw.getShape();
  return RankedTensorType::get({shape[0], shape[2], shape[3], shape[1]},
                               nchw.getElementType());
}

bool isStatic4DF32(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getRank() == 4 && type.hasStaticShape() &&
         type.getElementType().isF32();
}

/// Rewrites the graph, remembering for each NCHW value its NHWC twin.
class LayoutRewriter {
public:
  explicit LayoutRewriter(func::FuncOp func) : func(func) {}

  void run() {
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) { ops.push_back(op); });
    for (Operation *op : ops) {
      if (auto conv = dyn_cast<linalg::Conv2DNchwFchwOp>(op))
        convertConvolution(conv, conv.getStrides(), conv.getDilations(), false);
      else if (auto conv = dyn_cast<linalg::DepthwiseConv2DNchwChwOp>(op))
        convertConvolution(conv, conv.getStrides(), conv.getDilations(), true);
      else if (isa<linalg::PoolingNchwMaxOp, linalg::PoolingNchwSumOp>(op))
        convertPooling(cast<linalg::LinalgOp>(op));
      else if (auto pad = dyn_cast<tensor::PadOp>(op);
               pad && twins.count(pad.getSource()) && pad.getConstantPaddingValue())
        publish(pad.getResult(), padInNHWC(pad));
      else if (auto generic = dyn_cast<linalg::GenericOp>(op);
               generic && isLayoutFree(generic) &&
               llvm::any_of(generic.getDpsInputs(),
                            [&](Value v) { return twins.count(v); }))
        publish(generic.getResult(0), genericInNHWC(generic));
    }
    for (Operation *op : llvm::reverse(replaced))
      if (op->use_empty())
        op->erase();
    // Transposes back that no NCHW user needed.
    for (linalg::TransposeOp back : llvm::reverse(transposesBack))
      if (back->use_empty())
        back->erase();
  }

private:
  /// An all-parallel generic with one 4-D result, written in loop order:
  /// its loops can be permuted freely.
  static bool isLayoutFree(linalg::GenericOp op) {
    return op.getNumDpsInits() == 1 && op.getNumReductionLoops() == 0 &&
           op.getNumLoops() == 4 && isStatic4DF32(op.getResult(0)) &&
           op.getIndexingMapsArray().back().isIdentity() &&
           llvm::none_of(op.getBody()->getOperations(),
                         [](Operation &nested) { return isa<linalg::IndexOp>(nested); });
  }

  /// `value` (NCHW) now has the NHWC twin `nhwc`: NCHW users read it through
  /// a transpose back, converted users read the twin.
  void publish(Value value, Value nhwc) {
    OpBuilder b(nhwc.getContext());
    b.setInsertionPointAfterValue(nhwc);
    auto back = linalg::TransposeOp::create(
        b, value.getLoc(), nhwc,
        tensor::EmptyOp::create(b, value.getLoc(), value.getType(), ValueRange()),
        ArrayRef<int64_t>(kToNHWC));
    transposesBack.push_back(back);
    Value nchw = back.getResult()[0];
    value.replaceAllUsesWith(nchw);
    replaced.push_back(value.getDefiningOp());
    twins[value] = nhwc;
    twins[nchw] = nhwc;
  }

  /// The NHWC form of `value`, built where `value` is defined: a fill or a
  /// layout-free generic is rebuilt, anything else transposed.
  Value toNHWC(Value value) {
    if (auto it = twins.find(value); it != twins.end())
      return it->second;
    OpBuilder b(value.getContext());
    b.setInsertionPointAfterValue(value);
    Location loc = value.getLoc();
    auto type = nhwcType(cast<RankedTensorType>(value.getType()));
    Value nhwc;
    if (auto fill = value.getDefiningOp<linalg::FillOp>();
        fill && fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>()) {
      Value empty = tensor::EmptyOp::create(b, loc, type, ValueRange());
      nhwc = linalg::FillOp::create(b, loc, fill.getInputs()[0], empty).getResult(0);
    } else if (auto generic = value.getDefiningOp<linalg::GenericOp>();
               generic && isLayoutFree(generic)) {
      nhwc = genericInNHWC(generic);
    } else {
      Value empty = tensor::EmptyOp::create(b, loc, type, ValueRange());
      nhwc = linalg::TransposeOp::create(b, loc, value, empty,
                                         ArrayRef<int64_t>(kFromNHWC))
                 .getResult()[0];
    }
    twins[value] = nhwc;
    return nhwc;
  }

  /// The generic with its loops in NHWC order: operands with an NHWC twin
  /// are read through it, the others (bias vectors, NCHW tensors) through
  /// their maps composed with the loop permutation.
  Value genericInNHWC(linalg::GenericOp op) {
    OpBuilder b(op);
    MLIRContext *context = op.getContext();
    Location loc = op.getLoc();
    // NCHW loop d is NHWC loop kToNHWC[d].
    SmallVector<AffineExpr> nchwLoops;
    for (int64_t d = 0; d < 4; ++d)
      nchwLoops.push_back(getAffineDimExpr(kToNHWC[d], context));
    AffineMap fromNHWCLoops = AffineMap::get(4, 0, nchwLoops, context);

    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    for (OpOperand *operand : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(operand);
      Value value = operand->get();
      if (map.isIdentity() && twins.count(value)) {
        inputs.push_back(twins[value]);
        maps.push_back(AffineMap::getMultiDimIdentityMap(4, context));
      } else {
        inputs.push_back(value);
        maps.push_back(map.compose(fromNHWCLoops));
      }
    }
    maps.push_back(AffineMap::getMultiDimIdentityMap(4, context));
    auto type = nhwcType(cast<RankedTensorType>(op.getResult(0).getType()));
    Value init = tensor::EmptyOp::create(b, loc, type, ValueRange());
    if (op.payloadUsesValueFromOperand(op.getDpsInitOperand(0)))
      init = toNHWC(op.getDpsInits()[0]);
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{type}, inputs, ValueRange{init}, maps,
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel));
    IRMapping mapping;
    op.getRegion().cloneInto(&generic.getRegion(), mapping);
    return generic.getResult(0);
  }

  Value padInNHWC(tensor::PadOp pad) {
    OpBuilder b(pad);
    auto permute = [](ArrayRef<OpFoldResult> nchw) {
      SmallVector<OpFoldResult> nhwc;
      for (int64_t p = 0; p < 4; ++p)
        nhwc.push_back(nchw[kFromNHWC[p]]);
      return nhwc;
    };
    auto type = nhwcType(cast<RankedTensorType>(pad.getType()));
    return tensor::PadOp::create(b, pad.getLoc(), type, twins[pad.getSource()],
                                 permute(pad.getMixedLowPad()),
                                 permute(pad.getMixedHighPad()),
                                 pad.getConstantPaddingValue(), pad.getNofold())
        .getResult();
  }

  /// NHWC convolution over FCHW (or depthwise CHW) weights, as a generic the
  /// kernel-call pass recognizes by its `pith.kernel` attribute.
  void convertConvolution(linalg::LinalgOp conv, DenseIntElementsAttr stridesAttr,
                          DenseIntElementsAttr dilationsAttr, bool depthwise) {
    Value image = conv.getDpsInputs()[0], weights = conv.getDpsInputs()[1];
    Value init = conv.getDpsInits()[0];
    if (!isStatic4DF32(image) || !isStatic4DF32(init) ||
        !cast<RankedTensorType>(weights.getType()).getElementType().isF32())
      return;
    SmallVector<int64_t> strides(stridesAttr.getValues<int64_t>());
    SmallVector<int64_t> dilations(dilationsAttr.getValues<int64_t>());
    MLIRContext *context = conv.getContext();
    OpBuilder b(conv);
    Location loc = conv.getLoc();
    // Loops: n, oh, ow, f (or c), kh, kw[, c].
    auto d = [&](unsigned i) { return getAffineDimExpr(i, context); };
    unsigned loops = depthwise ? 6 : 7;
    AffineExpr channel = depthwise ? d(3) : d(6);
    AffineMap imageMap = AffineMap::get(
        loops, 0,
        {d(0), d(1) * strides[0] + d(4) * dilations[0],
         d(2) * strides[1] + d(5) * dilations[1], channel},
        context);
    AffineMap weightsMap =
        depthwise ? AffineMap::get(loops, 0, {d(3), d(4), d(5)}, context)
                  : AffineMap::get(loops, 0, {d(3), d(6), d(4), d(5)}, context);
    AffineMap outputMap = AffineMap::get(loops, 0, {d(0), d(1), d(2), d(3)}, context);
    SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
    iterators.append(loops - 4, utils::IteratorType::reduction);

    Value nhwcImage = toNHWC(image), nhwcInit = toNHWC(init);
    b.setInsertionPoint(conv);
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{nhwcInit.getType()}, ValueRange{nhwcImage, weights},
        ValueRange{nhwcInit}, ArrayRef<AffineMap>{imageMap, weightsMap, outputMap},
        iterators, [](OpBuilder &nested, Location at, ValueRange args) {
          Value product = arith::MulFOp::create(nested, at, args[0], args[1]);
          Value sum = arith::AddFOp::create(nested, at, args[2], product);
          linalg::YieldOp::create(nested, at, sum);
        });
    generic->setAttr("pith.kernel",
                     b.getStringAttr(depthwise ? "depthwise_conv2d_nhwc_f32"
                                               : "conv2d_nhwc_fchw_f32"));
    generic->setAttr("pith.strides", b.getDenseI64ArrayAttr(strides));
    generic->setAttr("pith.dilations", b.getDenseI64ArrayAttr(dilations));
    publish(conv->getResult(0), generic.getResult(0));
  }

  void convertPooling(linalg::LinalgOp pool) {
    Value image = pool.getDpsInputs()[0], window = pool.getDpsInputs()[1];
    Value init = pool.getDpsInits()[0];
    if (!isStatic4DF32(image) || !isStatic4DF32(init))
      return;
    Value nhwcImage = toNHWC(image), nhwcInit = toNHWC(init);
    OpBuilder b(pool);
    auto strides = pool->getAttrOfType<DenseIntElementsAttr>("strides");
    auto dilations = pool->getAttrOfType<DenseIntElementsAttr>("dilations");
    Operation *nhwc;
    if (isa<linalg::PoolingNchwMaxOp>(pool))
      nhwc = linalg::PoolingNhwcMaxOp::create(
          b, pool.getLoc(), TypeRange{nhwcInit.getType()},
          ValueRange{nhwcImage, window}, ValueRange{nhwcInit}, strides, dilations);
    else
      nhwc = linalg::PoolingNhwcSumOp::create(
          b, pool.getLoc(), TypeRange{nhwcInit.getType()},
          ValueRange{nhwcImage, window}, ValueRange{nhwcInit}, strides, dilations);
    publish(pool->getResult(0), nhwc->getResult(0));
  }

  func::FuncOp func;
  llvm::DenseMap<Value, Value> twins;
  SmallVector<Operation *> replaced;
  SmallVector<linalg::TransposeOp> transposesBack;
};

struct ConvolutionsToNHWCPass
    : public pith::impl::ConvolutionsToNHWCPassBase<ConvolutionsToNHWCPass> {
  void runOnOperation() override { LayoutRewriter(getOperation()).run(); }
};

} // namespace
