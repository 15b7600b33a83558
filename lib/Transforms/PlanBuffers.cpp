//===- PlanBuffers.cpp - Place intermediate buffers by liveness -----------===//
//
// A linear-scan placement over the entry block: each statically shaped
// allocation lives from its definition to the last operation that uses it
// or a view derived from it. Buffers are placed largest first at the lowest
// aligned offset that does not collide with a placed buffer whose live range
// overlaps. The result is one arena whose size is the peak memory the
// intermediates need at once.
//
//===----------------------------------------------------------------------===//

#include "pith/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/DenseSet.h"

#include <limits>

namespace pith {
#define GEN_PASS_DEF_PLANBUFFERSPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {

struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes;
  int64_t first, last; // live range, as positions in the entry block
  int64_t offset = -1;
};

/// The position in `block` of the ancestor of `op` that lies in it.
int64_t positionIn(Block &block, Operation *op,
                   const llvm::DenseMap<Operation *, int64_t> &positions) {
  Operation *ancestor = block.findAncestorOpInBlock(*op);
  return ancestor ? positions.lookup(ancestor) : -1;
}

/// The last position at which `value`, or any memref that may alias it, is
/// used. Any memref result of a user may alias the buffer (views, casts, and
/// loop or branch results carrying it through iter_args or yields); counting
/// them all only lengthens live ranges, which is safe.
int64_t lastUse(Value value, Block &block,
                const llvm::DenseMap<Operation *, int64_t> &positions) {
  int64_t last = -1;
  SmallVector<Value> worklist{value};
  llvm::DenseSet<Value> seen{value};
  while (!worklist.empty()) {
    Value current = worklist.pop_back_val();
    for (OpOperand &use : current.getUses()) {
      Operation *user = use.getOwner();
      last = std::max(last, positionIn(block, user, positions));
      // A buffer copied into the interior of a padded buffer that a kernel
      // call reads may be read by that call directly instead
      // (pith-linalg-to-kernel-calls folds the padding): it lives as long.
      if (auto copy = dyn_cast<memref::CopyOp>(user); copy && copy.getSource() == current)
        if (auto interior = copy.getTarget().getDefiningOp<memref::SubViewOp>()) {
          int64_t copied = positionIn(block, user, positions);
          int64_t reader = std::numeric_limits<int64_t>::max();
          for (Operation *next : interior.getSource().getUsers())
            if (next->hasAttr("pith.kernel") && positionIn(block, next, positions) > copied)
              reader = std::min(reader, positionIn(block, next, positions));
          if (reader != std::numeric_limits<int64_t>::max())
            last = std::max(last, reader);
        }
      for (Value result : user->getResults())
        if (isa<BaseMemRefType>(result.getType()) && seen.insert(result).second)
          worklist.push_back(result);
    }
  }
  return last;
}

/// Where a buffer's life must start at the latest. pith-linalg-to-kernel-calls
/// may fuse a convolution tagged `pith.kernel` with the elementwise op that
/// reads its result, computing that op's output during the convolution: the
/// output then must not share bytes with the convolution's operands, so its
/// life starts at the convolution.
int64_t firstUse(memref::AllocOp alloc, Block &block,
                 const llvm::DenseMap<Operation *, int64_t> &positions) {
  int64_t first = positions.lookup(alloc);
  for (Operation *writer : alloc->getUsers()) {
    auto linalgOp = dyn_cast<linalg::LinalgOp>(writer);
    if (!linalgOp || !llvm::is_contained(linalgOp.getDpsInits(), alloc.getResult()))
      continue;
    for (Value input : linalgOp.getDpsInputs())
      for (Operation *producer : input.getUsers())
        if (producer->hasAttr("pith.kernel") && producer->getBlock() == &block &&
            positions.lookup(producer) < positions.lookup(writer))
          first = std::min(first, positions.lookup(producer));
  }
  return first;
}

std::optional<int64_t> staticBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !type.getElementType().isIntOrFloat())
    return std::nullopt;
  int64_t bits = type.getElementTypeBitWidth();
  return (type.getNumElements() * std::max<int64_t>(bits, 8) + 7) / 8;
}

struct PlanBuffersPass : public pith::impl::PlanBuffersPassBase<PlanBuffersPass> {
  using PlanBuffersPassBase::PlanBuffersPassBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    Block &block = func.getBody().front();
    llvm::DenseMap<Operation *, int64_t> positions;
    int64_t index = 0;
    for (Operation &op : block)
      positions[&op] = index++;

    std::vector<Buffer> buffers;
    for (auto alloc : block.getOps<memref::AllocOp>()) {
      std::optional<int64_t> bytes = staticBytes(alloc.getType());
      // Deallocations are inserted later; a buffer that escapes (returned)
      // is not an intermediate.
      bool escapes = llvm::any_of(alloc->getUsers(), [](Operation *user) {
        return user->hasTrait<OpTrait::ReturnLike>();
      });
      if (!bytes || escapes)
        continue;
      int64_t first = firstUse(alloc, block, positions);
      buffers.push_back({alloc, *bytes, first,
                         std::max(first, lastUse(alloc, block, positions))});
    }

    // Largest first, each at the lowest offset free during its live range.
    std::vector<Buffer *> order;
    for (Buffer &buffer : buffers)
      order.push_back(&buffer);
    std::stable_sort(order.begin(), order.end(),
                     [](Buffer *a, Buffer *b) { return a->bytes > b->bytes; });
    auto alignUp = [&](int64_t n) { return (n + alignment - 1) / alignment * alignment; };
    int64_t arenaBytes = 0;
    std::vector<Buffer *> placed;
    for (Buffer *buffer : order) {
      std::vector<std::pair<int64_t, int64_t>> busy;
      for (Buffer *other : placed)
        if (other->first <= buffer->last && buffer->first <= other->last)
          busy.push_back({other->offset, other->offset + other->bytes});
      std::sort(busy.begin(), busy.end());
      int64_t offset = 0;
      for (auto [begin, end] : busy) {
        if (offset + buffer->bytes <= begin)
          break;
        offset = std::max(offset, alignUp(end));
      }
      buffer->offset = offset;
      arenaBytes = std::max(arenaBytes, offset + buffer->bytes);
      placed.push_back(buffer);
    }
    arenaBytes = alignUp(arenaBytes);

    MLIRContext *context = &getContext();
    auto arenaType = MemRefType::get({std::max<int64_t>(arenaBytes, 1)},
                                     IntegerType::get(context, 8));
    unsigned arenaIndex = func.getNumArguments();
    if (failed(func.insertArgument(
            arenaIndex, arenaType,
            DictionaryAttr::get(context, {NamedAttribute(
                                             StringAttr::get(context, "pith.arena"),
                                             UnitAttr::get(context))}),
            func.getLoc())))
      return signalPassFailure();
    Value arena = func.getArgument(arenaIndex);
    for (Buffer &buffer : buffers) {
      OpBuilder b(buffer.alloc);
      Location loc = buffer.alloc.getLoc();
      Value offset = arith::ConstantIndexOp::create(b, loc, buffer.offset);
      Value view = memref::ViewOp::create(b, loc, buffer.alloc.getType(), arena,
                                          offset, ValueRange{});
      buffer.alloc.getResult().replaceAllUsesWith(view);
      buffer.alloc->erase();
    }
    func->setAttr("pith.arena_bytes",
                  IntegerAttr::get(IntegerType::get(context, 64), arenaBytes));
  }
};
} // namespace
