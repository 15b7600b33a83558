//===- MapLoopsToGPU.cpp - Parallel loop nests as GPU kernel launches -----===//
//
// The GPU pipeline keeps Pith's lowering to linalg and its bufferization
// (one planned arena, outputs written in place); what differs is where the
// loops run. Each top-level scf.parallel nest becomes one gpu.launch with a
// thread per iteration. The iteration space is linearized rather than
// mapped dimension by dimension to the grid: any rank fits (the grid has
// three dimensions, loops up to eight), no dimension overflows a grid limit,
// and every block is full but the last.
//
//===----------------------------------------------------------------------===//

#include "pith/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

namespace pith {
#define GEN_PASS_DEF_MAPLOOPSTOGPUPASS
#include "pith/Conversion/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {

/// Threads per block: enough to hide latency on every SM generation Pith
/// targets, few enough that a block's registers never limit occupancy.
constexpr int64_t kThreadsPerBlock = 256;

bool insideKernel(Operation *op) {
  return op->getParentOfType<gpu::LaunchOp>() != nullptr;
}

/// scf.parallel (ivs) = (lb) to (ub) step (s) { body }  ==>
///   if (total > 0) gpu.launch blocks(ceil(total / 256)) threads(256) {
///     n = block * 256 + thread; if (n < total) { ivs = delinearize(n); body } }
LogicalResult launchLoop(scf::ParallelOp loop) {
  if (loop.getNumResults() != 0)
    return loop.emitError("a parallel reduction is not supported on the GPU");
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  auto index = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, loc, v); };
  SmallVector<Value> extents;
  Value total = index(1);
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value span = arith::SubIOp::create(b, loc, ub, lb);
    extents.push_back(arith::CeilDivSIOp::create(b, loc, span, step));
    total = arith::MulIOp::create(b, loc, total, extents.back());
  }
  Value threads = index(kThreadsPerBlock), one = index(1);
  Value blocks = arith::CeilDivSIOp::create(b, loc, total, threads);
  // CUDA rejects a launch of zero blocks.
  Value nonEmpty =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, total, index(0));
  auto guard = scf::IfOp::create(b, loc, nonEmpty, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&guard.getThenRegion().front());
  auto launch = gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one, one);
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  Value linear = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, threads),
      launch.getThreadIds().x);
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, linear, total);
  auto inside = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  if (body.empty() || !body.back().hasTrait<OpTrait::IsTerminator>())
    gpu::TerminatorOp::create(b, loc);

  b.setInsertionPointToStart(&inside.getThenRegion().front());
  IRMapping map;
  Value rest = linear;
  for (int i = static_cast<int>(extents.size()) - 1; i >= 0; --i) {
    Value position = i == 0 ? rest : arith::RemSIOp::create(b, loc, rest, extents[i]);
    if (i > 0)
      rest = arith::DivSIOp::create(b, loc, rest, extents[i]);
    Value scaled = arith::MulIOp::create(b, loc, position, loop.getStep()[i]);
    map.map(loop.getInductionVars()[i],
            arith::AddIOp::create(b, loc, loop.getLowerBound()[i], scaled));
  }
  // A global read in the body (a constant table) is taken inside the
  // kernel: outlining then copies the global into the device module, where
  // a host-side address would be meaningless.
  loop.walk([&](Operation *op) {
    for (Value operand : op->getOperands())
      if (auto global = operand.getDefiningOp<memref::GetGlobalOp>())
        if (!loop->isAncestor(global) && !map.contains(global.getResult()))
          map.map(global.getResult(), b.clone(*global)->getResult(0));
  });
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, map);
  loop.erase();
  return success();
}

bool touchesMemory(Operation *op) {
  return isa<memref::LoadOp, memref::StoreOp, memref::CopyOp, memref::AtomicRMWOp,
             memref::GenericAtomicRMWOp, linalg::LinalgOp, bufferization::CloneOp>(op) ||
         op->getDialect()->getNamespace() == vector::VectorDialect::getDialectNamespace();
}

/// Sequential work left on the host (a reduction to a scalar, whose loops
/// have no parallel dimension) runs in one GPU thread: slow for large
/// tensors, but the data never leaves the device. Only ops whose results
/// the host does not use can move.
void launchSequential(func::FuncOp func) {
  for (Block &block : func.getBody())
    for (Operation &op : llvm::make_early_inc_range(block)) {
      if (isa<gpu::LaunchOp>(op) || op.hasTrait<OpTrait::IsTerminator>() ||
          !op.use_empty())
        continue;
      // Host loops around kernel launches stay on the host.
      bool touches = false, launches = false;
      op.walk([&](Operation *inner) {
        launches |= isa<gpu::LaunchOp>(inner);
        touches |= touchesMemory(inner);
      });
      if (!touches || launches)
        continue;
      OpBuilder b(&op);
      Location loc = op.getLoc();
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      auto launch = gpu::LaunchOp::create(b, loc, one, one, one, one, one, one);
      Block &body = launch.getBody().front();
      b.setInsertionPointToStart(&body);
      if (body.empty() || !body.back().hasTrait<OpTrait::IsTerminator>())
        gpu::TerminatorOp::create(b, loc);
      op.moveBefore(&body.back());
      // As for loop nests: globals are read inside the kernel.
      op.walk([&](Operation *inner) {
        for (OpOperand &operand : inner->getOpOperands())
          if (auto global = operand.get().getDefiningOp<memref::GetGlobalOp>())
            if (!launch->isAncestor(global)) {
              OpBuilder inside(&body.front());
              operand.set(inside.clone(*global)->getResult(0));
            }
      });
    }
}

/// Buffers not in the planned arena live in device memory too.
void allocateOnDevice(func::FuncOp func) {
  func.walk([](Operation *op) {
    if (insideKernel(op))
      return;
    OpBuilder b(op);
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      auto device = gpu::AllocOp::create(b, alloc.getLoc(), alloc.getType(), Type(),
                                         ValueRange(), alloc.getDynamicSizes(),
                                         alloc.getSymbolOperands(), /*hostShared=*/false);
      alloc.replaceAllUsesWith(device.getMemref());
      alloc.erase();
    } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
      gpu::DeallocOp::create(b, dealloc.getLoc(), Type(), ValueRange(), dealloc.getMemref());
      dealloc.erase();
    }
  });
}

/// Host code may compute shapes and launch kernels, but not touch tensor
/// data: that lives in device memory.
LogicalResult checkHostCode(func::FuncOp func) {
  WalkResult result = func.walk([](Operation *op) {
    if (insideKernel(op))
      return WalkResult::skip();
    if (touchesMemory(op)) {
      op->emitError("not supported on the GPU: '")
          << op->getName() << "' reads or writes tensor data outside a kernel";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

struct MapLoopsToGPUPass : public pith::impl::MapLoopsToGPUPassBase<MapLoopsToGPUPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isDeclaration())
        continue;
      SmallVector<scf::ParallelOp> outermost;
      func.walk([&](scf::ParallelOp loop) {
        if (!loop->getParentOfType<scf::ParallelOp>())
          outermost.push_back(loop);
      });
      for (scf::ParallelOp loop : outermost)
        if (failed(launchLoop(loop)))
          return signalPassFailure();
      launchSequential(func);
      allocateOnDevice(func);
      if (failed(checkHostCode(func)))
        return signalPassFailure();
    }
  }
};

} // namespace
