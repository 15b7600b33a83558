//===- ArenaPool.h - Reused arenas for concurrent runs ----------*- C++ -*-===//
//
// Each run of a compiled model needs its own arena for intermediate
// buffers. Allocating (and page-faulting) it anew on every run costs more
// than small models take to compute, so arenas are kept and handed out
// again; concurrent runs each get a different one. Standard library only:
// the C runtime uses it too.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_RUNTIME_ARENAPOOL_H
#define PITH_RUNTIME_ARENAPOOL_H

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

namespace pith {

class ArenaPool {
public:
  static constexpr size_t kAlignment = 64;

  explicit ArenaPool(int64_t bytes)
      : bytes((std::max<int64_t>(bytes, 1) + kAlignment - 1) / kAlignment *
              kAlignment) {}
  ArenaPool(const ArenaPool &) = delete;
  ~ArenaPool() {
    for (void *arena : free)
      std::free(arena);
  }

  /// An arena of at least the planned size, 64-byte aligned, uninitialized.
  void *acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!free.empty()) {
        void *arena = free.back();
        free.pop_back();
        return arena;
      }
    }
    return std::aligned_alloc(kAlignment, bytes);
  }

  void release(void *arena) {
    std::lock_guard<std::mutex> lock(mutex);
    free.push_back(arena);
  }

  int64_t size() const { return static_cast<int64_t>(bytes); }

private:
  size_t bytes;
  std::mutex mutex;
  std::vector<void *> free;
};

} // namespace pith

#endif // PITH_RUNTIME_ARENAPOOL_H
