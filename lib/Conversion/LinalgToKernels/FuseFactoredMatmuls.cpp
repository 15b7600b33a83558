//===- FuseFactoredMatmuls.cpp - (x . U) . V as one row-tiled kernel call -===//
//
// A low-rank layer, bufferized, is two matmuls and a buffer between them
// holding x . U whole (rows x rank). Replacing the pair by one call to a
// kernel that computes x . U a tile of rows at a time removes that buffer,
// so factoring a layer never raises the peak memory of the intermediates.
// It runs before pith-plan-buffers, which then has nothing to place.
//
//===----------------------------------------------------------------------===//

#include "pith/Conversion/Passes.h"

#include "KernelCalls.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace pith {
#define GEN_PASS_DEF_FUSEFACTOREDMATMULSPASS
#include "pith/Conversion/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {

/// Whether `op` is linalg.matmul over plain f32 buffers in a form the
/// kernels read: A[m,k] * B[k,n] or A[m,k] * B[n,k].
bool isKernelMatmul(linalg::MatmulOp op) {
  return op.hasPureBufferSemantics() &&
         (!op.hasUserDefinedMaps() || pith::kernels::readsTransposedRhs(op)) &&
         llvm::all_of(op->getOperands(), pith::kernels::isPlainF32);
}

/// The buffer a view (or chain of views) looks into.
Value rootOf(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

bool isZeroFillOf(Operation *op, Value buffer) {
  auto fill = dyn_cast<linalg::FillOp>(op);
  if (!fill || fill.getOutputs()[0] != buffer)
    return false;
  auto zero = fill.getInputs()[0].getDefiningOp<arith::ConstantFloatOp>();
  return zero && zero.value().isZero();
}

/// The pair first = x . U into `product` (zeroed just for it), second =
/// product . V, where nothing but the pair, the zeroing and views leading
/// to the second matmul touch `product`.
struct FactoredPair {
  linalg::MatmulOp first, second;
  memref::AllocOp product;
  linalg::FillOp zero;
  SmallVector<Operation *> views; // from the product to the second's lhs
};

std::optional<FactoredPair> matchPair(linalg::MatmulOp second) {
  if (!isKernelMatmul(second))
    return std::nullopt;
  FactoredPair pair;
  pair.second = second;
  Value lhs = second.getDpsInputs()[0];
  Value current = lhs;
  while (auto view = current.getDefiningOp()) {
    if (!isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(view))
      break;
    pair.views.push_back(view);
    current = view->getOperand(0);
  }
  pair.product = current.getDefiningOp<memref::AllocOp>();
  // The reshapes must come back to the product's own 2-D shape: the same
  // elements in the same order.
  if (!pair.product || pair.product.getType() != lhs.getType() ||
      !pair.product.getType().hasStaticShape() ||
      pair.product->getBlock() != second->getBlock())
    return std::nullopt;
  for (Operation *user : pair.product->getUsers()) {
    auto matmul = dyn_cast<linalg::MatmulOp>(user);
    if (matmul && matmul.getDpsInits()[0] == current && !pair.first &&
        !llvm::is_contained(matmul.getDpsInputs(), current))
      pair.first = matmul;
    else if (isZeroFillOf(user, current) && !pair.zero)
      pair.zero = cast<linalg::FillOp>(user);
    else if (!(pair.views.empty() ? user == second.getOperation()
                                  : user == pair.views.back()))
      return std::nullopt;
  }
  for (Operation *view : pair.views)
    if (!view->getResult(0).hasOneUse())
      return std::nullopt;
  if (!pair.first || !pair.zero || !isKernelMatmul(pair.first) ||
      pair.first->getBlock() != second->getBlock() ||
      !pair.zero->isBeforeInBlock(pair.first) || !pair.first->isBeforeInBlock(second))
    return std::nullopt;
  // Only where the product is the narrow middle of a low-rank map.
  auto dim = [](Value v, unsigned i) { return cast<MemRefType>(v.getType()).getDimSize(i); };
  int64_t rank = dim(current, 1);
  if (rank >= dim(pair.first.getDpsInputs()[0], 1) || rank >= dim(second.getDpsInits()[0], 1))
    return std::nullopt;
  // The call reads x and U where the second matmul was: nothing between
  // may write them. Between the two there may only be what allocates,
  // views or zeroes other buffers.
  llvm::SmallDenseSet<Value> read{rootOf(pair.first.getDpsInputs()[0]),
                                  rootOf(pair.first.getDpsInputs()[1])};
  if (read.contains(rootOf(second.getDpsInits()[0])))
    return std::nullopt;
  for (Operation *op = pair.first->getNextNode(); op != second; op = op->getNextNode()) {
    if (isa<memref::AllocOp, arith::ConstantOp, ViewLikeOpInterface>(op))
      continue;
    auto fill = dyn_cast<linalg::FillOp>(op);
    if (!fill || !fill.hasPureBufferSemantics() || read.contains(rootOf(fill.getOutputs()[0])))
      return std::nullopt;
  }
  return pair;
}

/// Pattern: t = 0; t += x . U; y += t . V  (t used by nothing else)
///          ==> call @pith_kernel_factored_matmul_f32(x, U, V, y)
void fuse(ModuleOp module, FactoredPair &pair) {
  OpBuilder b(pair.second);
  Location loc = pair.second.getLoc();
  SmallVector<Value> args;
  for (Value operand : {pair.first.getDpsInputs()[0], pith::kernels::rhsAsRead(b, pair.first),
                        pith::kernels::rhsAsRead(b, pair.second), pair.second.getDpsInits()[0]})
    args.push_back(pith::kernels::toStrided(b, loc, operand));
  func::FuncOp decl = pith::kernels::kernelDecl(module, "pith_kernel_factored_matmul_f32",
                                                ValueRange(args).getTypes());
  func::CallOp::create(b, loc, decl, args);
  pair.second->erase();
  for (Operation *view : pair.views)
    view->erase();
  pair.first->erase();
  pair.zero->erase();
  pair.product->erase();
}

struct FuseFactoredMatmulsPass
    : public pith::impl::FuseFactoredMatmulsPassBase<FuseFactoredMatmulsPass> {
  void runOnOperation() override {
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation().walk([&](linalg::MatmulOp op) { matmuls.push_back(op); });
    SmallVector<FactoredPair> pairs;
    for (linalg::MatmulOp op : matmuls)
      if (std::optional<FactoredPair> pair = matchPair(op))
        pairs.push_back(std::move(*pair));
    // A matmul is the second of at most one pair; as a first it may also be
    // another pair's second (a chain): fuse those of a chain once.
    llvm::SmallPtrSet<Operation *, 8> fused;
    for (FactoredPair &pair : pairs) {
      if (fused.contains(pair.first) || fused.contains(pair.second))
        continue;
      fused.insert(pair.first);
      fused.insert(pair.second);
      fuse(getOperation(), pair);
    }
  }
};

} // namespace
