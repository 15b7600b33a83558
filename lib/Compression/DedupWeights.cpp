//===- DedupWeights.cpp - Store weights that copy each other once ---------===//
//
// Exporters often write one tensor several times: an output projection
// stored as the transposed copy of the embedding it is tied to, a weight
// duplicated into each branch of an If, a reshaped or up-cast copy. Copies
// are found by a fingerprint of their values that ignores order and type
// (a commutative sum of hashed element values), then confirmed element by
// element under each relation: same order (identical, reshape, cast) or a
// permutation of the dimensions (transpose). The kept copy is the
// narrowest; the others are rebuilt from it by onnx ops, which are cheap
// views or casts, so the outputs are bit-identical.
//
//===----------------------------------------------------------------------===//

#include "pith/Compression/Passes.h"

#include "Weights.h"

#include "ONNX/ONNXOps.h"
#include "Pith/PithDialect.h"
#include "pith/Proto/ONNXProto.h"
#include "pith/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>

namespace pith {
#define GEN_PASS_DEF_DEDUPWEIGHTSPASS
#include "pith/Compression/Passes.h.inc"
} // namespace pith

using namespace mlir;
using namespace pith;
using namespace pith::compression;
using dialect::ParameterOp;
using dialect::UseOp;

namespace {

/// How a copy is rebuilt from the kept weight: cast, then transpose
/// (`perm`, ONNX semantics: result dim i is input dim perm[i]) or reshape.
struct Relation {
  bool cast = false;
  SmallVector<int64_t> perm; // empty: same element order
  bool reshape = false;
  std::string describe() const {
    std::string text;
    if (cast)
      text += "cast";
    if (!perm.empty()) {
      text += text.empty() ? "transpose [" : " + transpose [";
      for (size_t i = 0; i < perm.size(); ++i)
        text += (i ? "," : "") + std::to_string(perm[i]);
      text += "]";
    }
    if (reshape)
      text += text.empty() ? "reshape" : " + reshape";
    return text.empty() ? "identical" : text;
  }
};

uint64_t bitsOf(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

/// Order- and type-independent: equal for copies under every relation.
uint64_t fingerprint(const WeightData &data) {
  uint64_t sum = 0;
  for (int64_t i = 0; i < data.size(); ++i)
    sum += llvm::hash_value(bitsOf(data[i]));
  return sum;
}

bool sameInOrder(const WeightData &kept, const WeightData &copy) {
  for (int64_t i = 0; i < kept.size(); ++i)
    if (bitsOf(kept[i]) != bitsOf(copy[i]))
      return false;
  return true;
}

/// Whether copy == Transpose(kept, perm).
bool isTransposed(const WeightData &kept, ArrayRef<int64_t> keptShape, const WeightData &copy,
                  ArrayRef<int64_t> copyShape, ArrayRef<int64_t> perm) {
  int64_t rank = keptShape.size();
  SmallVector<int64_t> keptStrides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    keptStrides[d] = keptStrides[d + 1] * keptShape[d + 1];
  // Walk the copy in order; `index` is its multi-index.
  SmallVector<int64_t> index(rank, 0);
  for (int64_t j = 0; j < copy.size(); ++j) {
    int64_t source = 0;
    for (int64_t d = 0; d < rank; ++d)
      source += index[d] * keptStrides[perm[d]];
    if (bitsOf(copy[j]) != bitsOf(kept[source]))
      return false;
    for (int64_t d = rank - 1; d >= 0 && ++index[d] == copyShape[d]; --d)
      index[d] = 0;
  }
  return true;
}

/// How `copy` is rebuilt from `kept`, if it holds the same values.
std::optional<Relation> relate(ParameterOp kept, const WeightData &keptData, ParameterOp copy,
                               const WeightData &copyData) {
  auto keptType = cast<RankedTensorType>(kept.getType());
  auto copyType = cast<RankedTensorType>(copy.getType());
  Relation relation;
  relation.cast = keptType.getElementType() != copyType.getElementType();
  if (sameInOrder(keptData, copyData)) {
    relation.reshape = keptType.getShape() != copyType.getShape();
    return relation;
  }
  if (keptType.getRank() != copyType.getRank() || keptType.getRank() < 2)
    return std::nullopt;
  SmallVector<int64_t> perm(keptType.getRank());
  std::iota(perm.begin(), perm.end(), 0);
  while (std::next_permutation(perm.begin(), perm.end())) {
    bool shapeFits = true;
    for (size_t d = 0; d < perm.size(); ++d)
      shapeFits &= copyType.getDimSize(d) == keptType.getDimSize(perm[d]);
    if (shapeFits && isTransposed(keptData, keptType.getShape(), copyData,
                                  copyType.getShape(), perm)) {
      relation.perm = perm;
      return relation;
    }
  }
  return std::nullopt;
}

/// Replaces each use of `copy` by `kept` rebuilt through `relation`.
void redirectUses(ModuleOp module, ArrayRef<UseOp> uses, ParameterOp kept, ParameterOp copy,
                  const Relation &relation) {
  auto keptType = cast<RankedTensorType>(kept.getType());
  auto copyType = cast<RankedTensorType>(copy.getType());
  for (UseOp use : uses) {
    // Rebuild the copy right before its first user: the CPU backend
    // materializes a transposed or cast copy in a temporary buffer, which
    // then lives only from there on.
    Operation *firstUser = nullptr;
    for (Operation *user : use->getUsers()) {
      Operation *inBlock = use->getBlock()->findAncestorOpInBlock(*user);
      if (inBlock && (!firstUser || inBlock->isBeforeInBlock(firstUser)))
        firstUser = inBlock;
    }
    OpBuilder b(firstUser ? firstUser : use.getOperation());
    Location loc = use.getLoc();
    Value value = UseOp::create(b, loc, keptType, FlatSymbolRefAttr::get(kept.getSymNameAttr()));
    if (relation.cast) {
      int32_t to = *proto::elementTypeToONNX(copyType.getElementType());
      value = ONNX::createOp(b, loc, module, "Cast", value, keptType.clone(copyType.getElementType()),
                           {b.getNamedAttr("to", b.getI64IntegerAttr(to))});
    }
    if (!relation.perm.empty())
      value = ONNX::createOp(b, loc, module, "Transpose", value, copyType,
                           {b.getNamedAttr("perm", b.getDenseI64ArrayAttr(relation.perm))});
    if (relation.reshape) {
      auto shapeType = RankedTensorType::get({copyType.getRank()}, b.getI64Type());
      Value shape = ONNX::createOp(
          b, loc, module, "Constant", {}, shapeType,
          {b.getNamedAttr("value", DenseIntElementsAttr::get(shapeType, copyType.getShape()))});
      value = ONNX::createOp(b, loc, module, "Reshape", {value, shape}, copyType);
    }
    use.replaceAllUsesWith(value);
    use.erase();
  }
}

struct DedupWeightsPass : public pith::impl::DedupWeightsPassBase<DedupWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    liftParameters(module);
    auto uses = collectUses(module);

    // Candidates by (element count, fingerprint), narrowest type first so
    // that the kept copy is the smallest.
    std::map<std::pair<int64_t, uint64_t>, SmallVector<ParameterOp>> buckets;
    for (ParameterOp parameter : module.getOps<ParameterOp>()) {
      auto type = cast<RankedTensorType>(parameter.getType());
      if (!isa<FloatType>(type.getElementType()) || type.getNumElements() == 0)
        continue;
      buckets[{type.getNumElements(), fingerprint(WeightData(parameter.getValue()))}].push_back(
          parameter);
    }

    std::vector<std::string> lines;
    int64_t bytesSaved = 0, copiesRemoved = 0;
    for (auto &[key, members] : buckets) {
      if (members.size() < 2)
        continue;
      llvm::stable_sort(members, [](ParameterOp a, ParameterOp b) {
        return elementBytes(cast<ShapedType>(a.getType()).getElementType()) <
               elementBytes(cast<ShapedType>(b.getType()).getElementType());
      });
      SmallVector<ParameterOp> kept;
      SmallVector<SmallVector<std::string>> merged;
      for (ParameterOp copy : members) {
        WeightData copyData(copy.getValue());
        bool found = false;
        for (auto [k, original] : llvm::enumerate(kept)) {
          std::optional<Relation> relation =
              relate(original, WeightData(original.getValue()), copy, copyData);
          if (!relation)
            continue;
          redirectUses(module, uses[copy.getSymNameAttr()], original, copy, *relation);
          SmallVector<Attribute> sources(original.getSources().begin(),
                                         original.getSources().end());
          sources.append(copy.getSources().begin(), copy.getSources().end());
          original.setSourcesAttr(ArrayAttr::get(module.getContext(), sources));
          merged[k].push_back("'" + copy.getSymName().str() + "' (" + relation->describe() +
                              ")");
          bytesSaved += parameterBytes(copy);
          ++copiesRemoved;
          copy.erase();
          found = true;
          break;
        }
        if (!found) {
          kept.push_back(copy);
          merged.emplace_back();
        }
      }
      for (auto [original, copies] : llvm::zip(kept, merged))
        if (!copies.empty())
          lines.push_back("kept '" + original.getSymName().str() + "' (" +
                          formatBytes(parameterBytes(original)) + "), removed " +
                          llvm::join(copies, ", "));
    }
    lines.insert(lines.begin(), std::to_string(copiesRemoved) + " duplicate weight" +
                                    (copiesRemoved == 1 ? "" : "s") + " removed, " +
                                    formatBytes(bytesSaved) + " saved");
    Builder b(module.getContext());
    appendReport(module, getArgument(), lines,
                 {b.getNamedAttr("bytes_saved", b.getI64IntegerAttr(bytesSaved)),
                  b.getNamedAttr("copies_removed", b.getI64IntegerAttr(copiesRemoved))});
  }
};

} // namespace
