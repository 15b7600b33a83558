//===- MemRefDescriptor.h - Memref descriptors for compiled code -*- C++ -*-===//
//
// Compiled graphs take each tensor as a pointer to an MLIR strided memref
// descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}. The
// entry point `pith_graph_packed(void **descriptors)` takes them in the
// order inputs, weights, outputs, arena.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_RUNTIME_MEMREFDESCRIPTOR_H
#define PITH_RUNTIME_MEMREFDESCRIPTOR_H

#include <cstddef>
#include <cstdint>
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

} // namespace pith

#endif // PITH_RUNTIME_MEMREFDESCRIPTOR_H
