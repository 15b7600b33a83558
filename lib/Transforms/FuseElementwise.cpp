//===- FuseElementwise.cpp - Elementwise fusion that spares contractions --===//
//
// Upstream's elementwise fusion generalizes a producer with reductions into
// its consumer (matmul + bias add becomes one generic). Pith runs matmuls
// and convolutions in library kernels, so those producers must stay named
// ops; only all-parallel producers fuse.
//
//===----------------------------------------------------------------------===//

#include "pith/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace pith {
#define GEN_PASS_DEF_FUSEELEMENTWISEPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {
struct FuseElementwisePass
    : public pith::impl::FuseElementwisePassBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::ControlFusionFn onlyParallelProducers = [](OpOperand *operand) {
      auto producer = operand->get().getDefiningOp<linalg::LinalgOp>();
      // A producer with several users would be recomputed inside each of
      // them: along a transformer's residual stream that re-runs every
      // earlier layer's elementwise work in every later layer.
      // Generics tagged for a kernel call must keep their exact form.
      if (operand->getOwner()->hasAttr("pith.kernel"))
        return false;
      // Likewise a consumer that reads each element several times (a
      // contraction, a broadcast) would recompute the producer for each
      // read: fused into attention's probabilities x V product, softmax
      // would run once per output column.
      auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
      return producer && isa<linalg::GenericOp>(producer) &&
             producer.getNumReductionLoops() == 0 && operand->get().hasOneUse() &&
             consumer && consumer.getMatchingIndexingMap(operand).isPermutation();
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, onlyParallelProducers);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
