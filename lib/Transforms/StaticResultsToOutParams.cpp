//===- StaticResultsToOutParams.cpp - Out-parameters where shapes allow ----===//
//
// Upstream's promotion of buffer results to out-parameters refuses dynamic
// shapes: the caller could not size the buffers. Pith's runtime handles both
// conventions, so each graph gets the one its output types allow.
//
//===----------------------------------------------------------------------===//

#include "pith/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace pith {
#define GEN_PASS_DEF_STATICRESULTSTOOUTPARAMSPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {
struct StaticResultsToOutParamsPass
    : public pith::impl::StaticResultsToOutParamsPassBase<StaticResultsToOutParamsPass> {
  void runOnOperation() override {
    bufferization::BufferResultsToOutParamsOpts options;
    options.modifyPublicFunctions = true;
    options.hoistStaticAllocs = true;
    options.filterFn = [](func::FuncOp *func) {
      return llvm::all_of(func->getResultTypes(), [](Type type) {
        auto memref = dyn_cast<MemRefType>(type);
        return !memref || memref.hasStaticShape();
      });
    };
    if (failed(bufferization::promoteBufferResultsToOutParams(getOperation(), options)))
      signalPassFailure();
  }
};
} // namespace
