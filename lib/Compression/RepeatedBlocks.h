//===- RepeatedBlocks.h - A graph's repeated blocks, found by structure -*- C++ -*-===//
//
// Layer tying and shared-basis factorization both work on the blocks a
// model repeats (a transformer's layers): which weights correspond across
// blocks, what each one does (attention, feed-forward, normalization), and
// which blocks form a group.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_COMPRESSION_REPEATEDBLOCKS_H
#define PITH_LIB_COMPRESSION_REPEATEDBLOCKS_H

#include "Pith/PithDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <optional>
#include <string>

namespace pith::compression {

enum class WeightKind { Attention, FeedForward, Norm };
llvm::StringRef kindName(WeightKind kind);

/// One weight of the repeated block and its counterpart in every block.
struct BlockWeight {
  WeightKind kind;
  /// Weights tied or factored together share a unit: a linear layer's
  /// matrix with its bias, a normalization's scale with its shift.
  unsigned unit;
  /// A linear layer's matrix: operand 1 of a MatMul or Gemm.
  bool isMatrix;
  unsigned operandIndex;
  /// Per block: the op using the weight and the pith.use it reads.
  llvm::SmallVector<mlir::Operation *> users;
  llvm::SmallVector<dialect::UseOp> uses;
};

struct RepeatedBlocks {
  int64_t numBlocks = 0;
  int64_t opsPerBlock = 0;
  llvm::SmallVector<BlockWeight> weights;
};

/// The longest run of consecutive copies of one op graph (same ops,
/// attributes, types and wiring inside the block, weights of the same
/// shapes) in the module's main graph, at least two blocks long.
std::optional<RepeatedBlocks> findRepeatedBlocks(mlir::ModuleOp module);

/// Whether the `weights` option value ("attention", "ffn", "all") selects
/// `kind`. Other values are rejected by `checkWeightsOption`.
bool selectsKind(llvm::StringRef weights, WeightKind kind);
mlir::LogicalResult checkWeightsOption(llvm::StringRef weights, std::string &error);

/// The groups of block indices `groups` ("adjacent", "cycle", "all") and
/// `groupSize` form out of `numBlocks` blocks; groups smaller than
/// `minMembers` are dropped.
mlir::FailureOr<llvm::SmallVector<llvm::SmallVector<int64_t>>>
formGroups(llvm::StringRef groups, int64_t groupSize, int64_t numBlocks, int64_t minMembers,
           std::string &error);

/// "{0,1} {2,3}".
std::string describeGroups(llvm::ArrayRef<llvm::SmallVector<int64_t>> groups);

} // namespace pith::compression

#endif // PITH_LIB_COMPRESSION_REPEATEDBLOCKS_H
