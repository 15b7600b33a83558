//===- MemRefDescriptor.h - Memref descriptors for compiled code -*- C++ -*-===//
//
// Compiled graphs take each tensor as a pointer to an MLIR strided memref
// descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}. The
// entry point `pith_graph_packed(void **descriptors)` takes them in the
// order inputs, weights, outputs, arena when every output shape is static.
// A graph with a symbolic output dimension instead returns its outputs: the
// first pointer is where it writes their descriptors (ReturnedOutputs), then
// inputs, weights, arena.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_RUNTIME_MEMREFDESCRIPTOR_H
#define PITH_RUNTIME_MEMREFDESCRIPTOR_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

namespace pith {

/// The descriptor of a dense row-major buffer, as 64-bit words.
inline std::vector<int64_t> makeDescriptor(const void *data,
                                           const std::vector<int64_t> &shape) {
  std::vector<int64_t> desc(3 + 2 * shape.size());
  desc[0] = desc[1] = reinterpret_cast<int64_t>(data);
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    desc[3 + i] = shape[i];
    desc[3 + shape.size() + i] = stride;
    stride *= shape[i];
  }
  return desc;
}

using PackedEntry = void (*)(void **descriptors);

/// Whether a graph with these output shapes (-1: symbolic) returns its
/// outputs rather than writing caller-allocated ones.
inline bool returnsOutputs(const std::vector<std::vector<int64_t>> &outputShapes) {
  for (const auto &shape : outputShapes)
    for (int64_t d : shape)
      if (d < 0)
        return true;
  return false;
}

/// The descriptors a graph that returns its outputs writes, one per output
/// in order. The buffers they point to were allocated by the graph with
/// malloc; this object owns and frees them.
class ReturnedOutputs {
public:
  explicit ReturnedOutputs(const std::vector<size_t> &ranks) {
    size_t words = 0;
    for (size_t rank : ranks) {
      starts.push_back(words);
      this->ranks.push_back(rank);
      words += 3 + 2 * rank;
    }
    descriptors.assign(words, 0);
  }
  ReturnedOutputs(const ReturnedOutputs &) = delete;
  ReturnedOutputs &operator=(const ReturnedOutputs &) = delete;
  ~ReturnedOutputs() {
    std::set<int64_t> freed;
    for (size_t start : starts)
      if (int64_t allocated = descriptors[start]; allocated && freed.insert(allocated).second)
        std::free(reinterpret_cast<void *>(allocated));
  }

  /// Where the graph writes the descriptors (the first entry argument).
  void *slot() { return descriptors.data(); }

  std::vector<int64_t> shape(size_t output) const {
    const int64_t *sizes = &descriptors[starts[output] + 3];
    return std::vector<int64_t>(sizes, sizes + ranks[output]);
  }

  /// Copies output `output`, whatever its strides, densely in row-major
  /// order to `to` (`elementBytes` per element).
  void copyTo(size_t output, void *to, size_t elementBytes) const {
    const int64_t *desc = &descriptors[starts[output]];
    size_t rank = ranks[output];
    const char *base = reinterpret_cast<const char *>(desc[1]) + desc[2] * elementBytes;
    char *target = static_cast<char *>(to);
    std::vector<int64_t> index(rank, 0);
    const int64_t *sizes = desc + 3, *strides = desc + 3 + rank;
    for (size_t d = 0; d < rank; ++d)
      if (sizes[d] == 0)
        return;
    while (true) {
      int64_t offset = 0;
      for (size_t d = 0; d < rank; ++d)
        offset += index[d] * strides[d];
      std::memcpy(target, base + offset * elementBytes, elementBytes);
      target += elementBytes;
      size_t d = rank;
      while (d > 0 && ++index[d - 1] == sizes[d - 1])
        index[--d] = 0;
      if (d == 0)
        return;
    }
  }

private:
  std::vector<int64_t> descriptors;
  std::vector<size_t> starts, ranks;
};

} // namespace pith

#endif // PITH_RUNTIME_MEMREFDESCRIPTOR_H
