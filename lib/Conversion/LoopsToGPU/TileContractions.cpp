//===- TileContractions.cpp - Matmuls as shared-memory tiled kernels ------===//
//
// A matmul that no library call took (--gpu-contractions generated, or
// element types cuBLAS is not given: f64, integers) would otherwise become
// a loop nest with one thread per output reading its whole row of A and
// column of B from global memory. Here each block of 16 x 16 threads
// computes a 16 x 16 tile of C: A and B pass through shared memory a
// 16 x 16 tile at a time, each element loaded once per block instead of
// once per thread (16 times less global traffic), with a barrier between
// loading a tile and using it.
//
//===----------------------------------------------------------------------===//

#include "pith/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace pith {
#define GEN_PASS_DEF_TILECONTRACTIONSFORGPUPASS
#include "pith/Conversion/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {

constexpr int64_t kTile = 16;

/// a + b * c in the element type's arithmetic.
Value multiplyAdd(OpBuilder &b, Location loc, Value acc, Value x, Value y) {
  if (isa<FloatType>(acc.getType()))
    return arith::AddFOp::create(b, loc, acc, arith::MulFOp::create(b, loc, x, y));
  return arith::AddIOp::create(b, loc, acc, arith::MulIOp::create(b, loc, x, y));
}

/// C[batch] += A[batch] * B[batch]: `batched` says whether the operands
/// have a leading batch dimension (linalg.batch_matmul).
void tileMatmul(linalg::LinalgOp op, bool batched) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value a = op.getDpsInputOperand(0)->get(), bm = op.getDpsInputOperand(1)->get();
  Value c = op.getDpsInitOperand(0)->get();
  Type element = cast<MemRefType>(c.getType()).getElementType();
  auto index = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, loc, v); };
  auto dim = [&](Value memref, int64_t d) -> Value {
    return memref::DimOp::create(b, loc, memref, d);
  };
  int64_t first = batched ? 1 : 0;
  Value m = dim(c, first), n = dim(c, first + 1), k = dim(a, first + 1);
  Value batch = batched ? dim(c, 0) : index(1);
  Value tile = index(kTile), one = index(1), zeroIndex = index(0);
  Value gridX = arith::CeilDivSIOp::create(b, loc, n, tile);
  Value gridY = arith::CeilDivSIOp::create(b, loc, m, tile);
  // CUDA rejects empty grids.
  Value nonEmpty = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                            arith::MulIOp::create(b, loc, gridX, gridY), zeroIndex),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, batch, zeroIndex));
  auto guard = scf::IfOp::create(b, loc, nonEmpty, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&guard.getThenRegion().front());
  auto shared = MemRefType::get(
      {kTile, kTile}, element, MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup));
  auto launch = gpu::LaunchOp::create(b, loc, gridX, gridY, batch, tile, tile, one,
                                      /*dynamicSharedMemorySize=*/nullptr, Type(), ValueRange(),
                                      TypeRange{shared, shared});
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  if (body.empty() || !body.back().hasTrait<OpTrait::IsTerminator>()) {
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);
  }
  Value aTile = launch.getWorkgroupAttributions()[0];
  Value bTile = launch.getWorkgroupAttributions()[1];
  Value tx = launch.getThreadIds().x, ty = launch.getThreadIds().y;
  Value row = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().y, tile), ty);
  Value col = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, tile), tx);
  Value batchIndex = launch.getBlockIds().z;
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(element));
  auto indices = [&](Value i, Value j) {
    SmallVector<Value> at;
    if (batched)
      at.push_back(batchIndex);
    at.append({i, j});
    return at;
  };
  auto inBounds = [&](Value i, Value bound) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, i, bound);
  };
  /// memref[at] where `ok`, else zero (tiles past the edges add nothing).
  auto loadOrZero = [&](Value memref, SmallVector<Value> at, Value ok) -> Value {
    auto load = scf::IfOp::create(b, loc, TypeRange{element}, ok, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(&load.getThenRegion().front());
    scf::YieldOp::create(b, loc, memref::LoadOp::create(b, loc, memref, at).getResult());
    b.setInsertionPointToStart(&load.getElseRegion().front());
    scf::YieldOp::create(b, loc, zero);
    return load.getResult(0);
  };

  auto tiles = scf::ForOp::create(b, loc, zeroIndex, k, tile, ValueRange{zero});
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(tiles.getBody());
    Value k0 = tiles.getInductionVar(), acc = tiles.getRegionIterArgs()[0];
    Value aColumn = arith::AddIOp::create(b, loc, k0, tx);
    Value bRow = arith::AddIOp::create(b, loc, k0, ty);
    Value aOk = arith::AndIOp::create(b, loc, inBounds(row, m), inBounds(aColumn, k));
    Value bOk = arith::AndIOp::create(b, loc, inBounds(bRow, k), inBounds(col, n));
    memref::StoreOp::create(b, loc, loadOrZero(a, indices(row, aColumn), aOk), aTile,
                            ValueRange{ty, tx});
    memref::StoreOp::create(b, loc, loadOrZero(bm, indices(bRow, col), bOk), bTile,
                            ValueRange{ty, tx});
    gpu::BarrierOp::create(b, loc);
    auto dot = scf::ForOp::create(b, loc, zeroIndex, tile, one, ValueRange{acc});
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(dot.getBody());
      Value kk = dot.getInductionVar();
      Value x = memref::LoadOp::create(b, loc, aTile, ValueRange{ty, kk});
      Value y = memref::LoadOp::create(b, loc, bTile, ValueRange{kk, tx});
      scf::YieldOp::create(b, loc, multiplyAdd(b, loc, dot.getRegionIterArgs()[0], x, y));
    }
    // The next tile overwrites shared memory only after every thread used it.
    gpu::BarrierOp::create(b, loc);
    scf::YieldOp::create(b, loc, dot.getResult(0));
  }
  Value ok = arith::AndIOp::create(b, loc, inBounds(row, m), inBounds(col, n));
  auto store = scf::IfOp::create(b, loc, ok, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&store.getThenRegion().front());
  // linalg's accumulate semantics: C += A * B.
  SmallVector<Value> at = indices(row, col);
  Value old = memref::LoadOp::create(b, loc, c, at);
  Value sum = isa<FloatType>(element)
                  ? arith::AddFOp::create(b, loc, old, tiles.getResult(0)).getResult()
                  : arith::AddIOp::create(b, loc, old, tiles.getResult(0)).getResult();
  memref::StoreOp::create(b, loc, sum, c, at);
  op->erase();
}

bool sameElementType(linalg::LinalgOp op) {
  Type element = getElementTypeOrSelf(op->getOperand(0).getType());
  return llvm::all_of(op->getOperandTypes(), [&](Type t) {
    return getElementTypeOrSelf(t) == element &&
           (isa<FloatType>(element) || element.isSignlessInteger());
  });
}

struct TileContractionsForGPUPass
    : public pith::impl::TileContractionsForGPUPassBase<TileContractionsForGPUPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> matmuls, batched;
    getOperation().walk([&](linalg::LinalgOp op) {
      // Only the plain forms (transposed maps keep the loop nest).
      if (!op.hasPureBufferSemantics() || !sameElementType(op))
        return;
      if (auto matmul = dyn_cast<linalg::MatmulOp>(*op); matmul && !matmul.hasUserDefinedMaps())
        matmuls.push_back(op);
      else if (auto bmm = dyn_cast<linalg::BatchMatmulOp>(*op); bmm && !bmm.hasUserDefinedMaps())
        batched.push_back(op);
    });
    for (linalg::LinalgOp op : matmuls)
      tileMatmul(op, /*batched=*/false);
    for (linalg::LinalgOp op : batched)
      tileMatmul(op, /*batched=*/true);
  }
};

} // namespace
