//===- StaticResultsToOutParams.cpp - Out-parameters where shapes allow ----===//
//
// Upstream's promotion of buffer results to out-parameters refuses dynamic
// shapes: the caller could not size the buffers. Pith's runtime handles both
// conventions, so each graph gets the one its output types allow.
//
//===----------------------------------------------------------------------===//

#include "pith/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace pith {
#define GEN_PASS_DEF_STATICRESULTSTOOUTPARAMSPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {
/// A buffer returned as two outputs becomes one buffer and a copy: the
/// promotion writes each output in place of the buffer that computed it,
/// which one buffer cannot be twice (upstream then erases it twice).
void copyRepeatedResults(ModuleOp module) {
  module.walk([](func::ReturnOp ret) {
    llvm::SmallPtrSet<Value, 8> seen;
    OpBuilder b(ret);
    for (OpOperand &operand : ret->getOpOperands()) {
      Value value = operand.get();
      auto type = dyn_cast<MemRefType>(value.getType());
      if (!type || seen.insert(value).second || !type.hasStaticShape() ||
          !type.getLayout().isIdentity())
        continue;
      Value copy = memref::AllocOp::create(b, ret.getLoc(), type);
      memref::CopyOp::create(b, ret.getLoc(), value, copy);
      operand.set(copy);
    }
  });
}

struct StaticResultsToOutParamsPass
    : public pith::impl::StaticResultsToOutParamsPassBase<StaticResultsToOutParamsPass> {
  void runOnOperation() override {
    copyRepeatedResults(getOperation());
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
