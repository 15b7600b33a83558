//===- SparseMatmul.cpp - C += A . B for a weight B that is mostly zeros --===//
//
// What `pith-linalg-to-kernel-calls` calls for a matmul whose constant
// weight is at least half zeros (Compilation.cpp marks such weights). The
// weight's nonzeros are packed once (the order is below) and kept until the
// runtime unloads the model's weights, like the convolutions' reordered
// weights.
//
// A run takes the rows of A in blocks of 64 (the last padded with zero
// rows): each block is transposed into a K x 64 buffer, so that every
// nonzero B[k, n] adds B[k, n] times 64 contiguous values of A's column k
// into 64 accumulators (4 AVX-512 registers) for output column n (vector
// FMAs: the zeros cost nothing). The columns go in tasks of 64, and each
// task's nonzeros are stored in the order the kernel reads them: by chunk of
// 128 rows k (32 KB of the block, which stays in L1 while the task's 64
// columns take their nonzeros there), then by column, with each row k
// already multiplied into the block's offset. The (block, column task)
// pairs are split among the OpenMP threads in contiguous ranges, blocks
// first, so that each thread transposes the blocks it reads and keeps them
// in its own L2.
// Measured on 3072x768 at 90% zeros, x [256, 3072], 2 threads, median of
// 30 against oneDNN's sgemm, in a stand-alone harness that built each
// configuration from this file (bench/sparsity/speed.py then gives 4.1-4.4x
// through the compiled model against Pith's dense code): the previous
// design (128-row blocks, the block shared by both threads, columns read
// through cursors, chunks of 128 rows in L2) 3.6-4.0x; chunk-ordered
// storage and a block per thread 4.8x; 64-row blocks 5.2x (32 rows 4.4-4.6x;
// chunks of 64, 96, 256 rows 4.0-4.6x, 5.2x, 4.4-5.2x; 128 columns 4.6-4.7x).
//
// No layer may get slower than dense: the first call for each weight and
// row count times this kernel against the dense oneDNN one on the real
// operands and keeps the faster for later calls with that shape
// (PITH_SPARSE_VERBOSE=1 prints the times; PITH_SPARSE_KERNEL=sparse or
// =dense skips the measurement).
//
//===----------------------------------------------------------------------===//

#include "SparseMatmul.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

// The dense kernel (CPUKernels.cpp), which the sparse one falls back to; it
// takes MLIR's memref descriptor of a 2-D f32 buffer, as StridedMatrix is.
extern "C" void _mlir_ciface_pith_kernel_matmul_strided_f32(void *a, void *b, void *c);

namespace {

/// The block of A's rows one kernel call covers, the reduction rows it
/// takes while they stay in L1, and the output columns of a task.
constexpr int64_t kBlockRows = 64, kDepthChunk = 128, kTaskColumns = 64;

struct StridedMatrix {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];

  float &at(int64_t i, int64_t j) const {
    return aligned[offset + i * strides[0] + j * strides[1]];
  }
};

/// B's nonzeros in the order the kernel reads them: by task of
/// kTaskColumns columns, then by chunk of kDepthChunk rows, then by column.
/// `counts[(task * chunks + chunk) * kTaskColumns + j]` nonzeros of column j
/// of the task fall in the chunk; each has its value and its row k as the
/// offset of A's column k in a transposed block (k * kBlockRows).
struct PackedColumns {
  int64_t rows = 0, columns = 0, chunks = 0, tasks = 0;
  std::vector<int64_t> taskStart; // first nonzero of each task
  std::vector<int32_t> counts;
  std::vector<int32_t> offsets;
  std::vector<float> values;
};

PackedColumns pack(const StridedMatrix &b) {
  PackedColumns packed;
  packed.rows = b.sizes[0];
  packed.columns = b.sizes[1];
  packed.chunks = (packed.rows + kDepthChunk - 1) / kDepthChunk;
  packed.tasks = (packed.columns + kTaskColumns - 1) / kTaskColumns;
  packed.counts.reserve(packed.tasks * packed.chunks * kTaskColumns);
  for (int64_t task = 0; task < packed.tasks; ++task) {
    packed.taskStart.push_back(static_cast<int64_t>(packed.values.size()));
    for (int64_t chunk = 0; chunk < packed.chunks; ++chunk) {
      const int64_t k1 = std::min(packed.rows, (chunk + 1) * kDepthChunk);
      for (int64_t j = 0; j < kTaskColumns; ++j) {
        const int64_t n = task * kTaskColumns + j;
        int32_t count = 0;
        for (int64_t k = chunk * kDepthChunk; n < packed.columns && k < k1; ++k)
          if (float v = b.at(k, n); v != 0.0f) {
            packed.offsets.push_back(static_cast<int32_t>(k * kBlockRows));
            packed.values.push_back(v);
            ++count;
          }
        packed.counts.push_back(count);
      }
    }
  }
  packed.taskStart.push_back(static_cast<int64_t>(packed.values.size()));
  return packed;
}

/// What the first calls measured, per weight and row count.
enum class Choice { Sparse, Dense };

struct Entry {
  std::shared_ptr<const PackedColumns> packed;
  std::map<int64_t, Choice> choices; // by rows of A
};

/// Keyed by the weight's address, shape and strides.
using Key = std::vector<int64_t>;

std::mutex &cacheMutex() {
  static std::mutex mutex;
  return mutex;
}
std::map<Key, Entry> &cache() {
  static std::map<Key, Entry> entries;
  return entries;
}

Key keyOf(const StridedMatrix &b) {
  return {reinterpret_cast<int64_t>(b.aligned + b.offset), b.sizes[0], b.sizes[1],
          b.strides[0], b.strides[1]};
}

/// 16 floats: one AVX-512 register, two AVX2 or four SSE ones, as the
/// target the function is compiled for has.
typedef float Vector16 __attribute__((vector_size(64), aligned(4)));

/// For the columns of `task` and the kBlockRows rows of one block of A
/// (`transposed`, K x kBlockRows): out[i * kTaskColumns + j] = sum over
/// column j's nonzeros of value * transposed[k][i]. Compiled for the host's
/// vector width (AVX-512, AVX2 or SSE, chosen when the library loads).
__attribute__((target_clones("avx512f", "avx2", "default"))) void
multiplyTask(const PackedColumns &packed, int64_t task, const float *transposed, float *out) {
  constexpr int64_t kVectors = kBlockRows / 16;
  Vector16 acc[kTaskColumns][kVectors] = {};
  const int32_t *counts = packed.counts.data() + task * packed.chunks * kTaskColumns;
  const int32_t *offsets = packed.offsets.data() + packed.taskStart[task];
  const float *values = packed.values.data() + packed.taskStart[task];
  for (int64_t chunk = 0; chunk < packed.chunks; ++chunk) {
    for (int64_t j = 0; j < kTaskColumns; ++j) {
      const int32_t count = *counts++;
      if (count == 0)
        continue;
      Vector16 sum[kVectors];
#pragma GCC unroll 8
      for (int64_t v = 0; v < kVectors; ++v)
        sum[v] = acc[j][v];
      for (int32_t p = 0; p < count; ++p) {
        const float value = values[p];
        const Vector16 *row = reinterpret_cast<const Vector16 *>(transposed + offsets[p]);
#pragma GCC unroll 8
        for (int64_t v = 0; v < kVectors; ++v)
          sum[v] += value * row[v];
      }
      offsets += count;
      values += count;
#pragma GCC unroll 8
      for (int64_t v = 0; v < kVectors; ++v)
        acc[j][v] = sum[v];
    }
  }
  for (int64_t j = 0; j < kTaskColumns; ++j) {
    const float *lanes = reinterpret_cast<const float *>(acc[j]);
    for (int64_t i = 0; i < kBlockRows; ++i)
      out[i * kTaskColumns + j] = lanes[i];
  }
}

/// Writes rows [first, first + kBlockRows) of A, k in [k0, k1), transposed:
/// element (first + i, k) at out[k * kBlockRows + i], zero for rows past A's.
void transposeBlock(const StridedMatrix &a, int64_t first, int64_t k0, int64_t k1, float *out) {
  const int64_t rows = std::min(kBlockRows, a.sizes[0] - first);
  constexpr int64_t kTile = 16; // of k: one cache line of each row of A
  for (int64_t t0 = k0; t0 < k1; t0 += kTile) {
    const int64_t t1 = std::min(k1, t0 + kTile);
    for (int64_t i = 0; i < rows; ++i) {
      const float *source = &a.at(first + i, 0);
      for (int64_t k = t0; k < t1; ++k)
        out[k * kBlockRows + i] = source[k * a.strides[1]];
    }
    for (int64_t i = rows; i < kBlockRows; ++i)
      for (int64_t k = t0; k < t1; ++k)
        out[k * kBlockRows + i] = 0.0f;
  }
}

/// The first of `count` items that thread `thread` of `threads` takes, in
/// contiguous ranges.
int64_t rangeStart(int64_t count, int thread, int threads) {
  return count * thread / threads;
}

void sparseMatmul(const StridedMatrix &a, const PackedColumns &packed, const StridedMatrix &c) {
  const int64_t rows = a.sizes[0], depth = a.sizes[1], columns = packed.columns;
  const int64_t blocks = (rows + kBlockRows - 1) / kBlockRows;
  // A's blocks, transposed, 64-byte aligned for the vector loads; kept
  // between calls.
  thread_local std::vector<float> storage;
  storage.resize(static_cast<size_t>(blocks * depth * kBlockRows + 16));
  float *transposed =
      storage.data() + (16 - (reinterpret_cast<uintptr_t>(storage.data()) / 4) % 16) % 16;
  // Work items are (block, task) pairs, blocks first; each thread takes a
  // contiguous range of them and first transposes the depth rows of the
  // blocks its range touches that are its share (a block shared by two
  // threads is split between them by k), so that the transposition runs in
  // parallel and mostly lands in the L2 of the thread that reads it.
  const int64_t items = blocks * packed.tasks;
#pragma omp parallel
  {
    int thread = 0, threads = 1;
#ifdef _OPENMP
    thread = omp_get_thread_num();
    threads = omp_get_num_threads();
#endif
    const int64_t begin = rangeStart(items, thread, threads);
    const int64_t end = rangeStart(items, thread + 1, threads);
    // Every block is transposed by the threads whose ranges cover it, each
    // taking an equal share of its k.
    for (int64_t block = begin / packed.tasks; begin < end && block * packed.tasks < end; ++block) {
      int first = threads, last = 0; // threads whose ranges touch the block
      for (int t = 0; t < threads; ++t) {
        const int64_t b0 = rangeStart(items, t, threads), b1 = rangeStart(items, t + 1, threads);
        if (b0 < (block + 1) * packed.tasks && b1 > block * packed.tasks && b1 > b0) {
          first = std::min(first, t);
          last = std::max(last, t);
        }
      }
      const int64_t sharers = last - first + 1, share = thread - first;
      transposeBlock(a, block * kBlockRows, depth * share / sharers,
                     depth * (share + 1) / sharers, transposed + block * depth * kBlockRows);
    }
#pragma omp barrier
    float tile[kBlockRows * kTaskColumns];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t block = item / packed.tasks, task = item % packed.tasks;
      multiplyTask(packed, task, transposed + block * depth * kBlockRows, tile);
      const int64_t first = block * kBlockRows, n0 = task * kTaskColumns;
      const int64_t height = std::min(kBlockRows, rows - first);
      const int64_t width = std::min(kTaskColumns, columns - n0);
      for (int64_t i = 0; i < height; ++i)
        for (int64_t j = 0; j < width; ++j)
          c.at(first + i, n0 + j) += tile[i * kTaskColumns + j];
    }
  }
}

/// C's elements, row by row (C may be a strided view).
std::vector<float> copyOf(const StridedMatrix &c) {
  std::vector<float> values(c.sizes[0] * c.sizes[1]);
  for (int64_t i = 0; i < c.sizes[0]; ++i)
    for (int64_t j = 0; j < c.sizes[1]; ++j)
      values[i * c.sizes[1] + j] = c.at(i, j);
  return values;
}

void restore(const StridedMatrix &c, const std::vector<float> &values) {
  for (int64_t i = 0; i < c.sizes[0]; ++i)
    for (int64_t j = 0; j < c.sizes[1]; ++j)
      c.at(i, j) = values[i * c.sizes[1] + j];
}

void denseMatmul(StridedMatrix *a, StridedMatrix *b, StridedMatrix *c) {
  _mlir_ciface_pith_kernel_matmul_strided_f32(a, b, c);
}

/// Seconds `run` takes on a fresh copy of C's values; leaves C holding the
/// result.
template <typename Run>
double timed(const StridedMatrix &c, const std::vector<float> &initial, Run run) {
  restore(c, initial);
  auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

} // namespace

void pith::kernels::forgetSparseWeights(const void *begin, const void *end) {
  std::lock_guard<std::mutex> lock(cacheMutex());
  auto &entries = cache();
  for (auto it = entries.begin(); it != entries.end();) {
    auto *address = reinterpret_cast<const void *>(it->first[0]);
    if (address >= begin && address < end)
      it = entries.erase(it);
    else
      ++it;
  }
}

extern "C" void _mlir_ciface_pith_kernel_sparse_matmul_f32(void *aDescriptor, void *bDescriptor,
                                                           void *cDescriptor) {
  auto *a = static_cast<StridedMatrix *>(aDescriptor);
  auto *b = static_cast<StridedMatrix *>(bDescriptor);
  auto *c = static_cast<StridedMatrix *>(cDescriptor);
  const int64_t rows = a->sizes[0];
  std::shared_ptr<const PackedColumns> packed;
  std::optional<Choice> choice;
  {
    std::lock_guard<std::mutex> lock(cacheMutex());
    Entry &entry = cache()[keyOf(*b)];
    if (!entry.packed)
      entry.packed = std::make_shared<const PackedColumns>(pack(*b));
    packed = entry.packed;
    if (auto it = entry.choices.find(rows); it != entry.choices.end())
      choice = it->second;
  }
  // PITH_SPARSE_KERNEL=sparse or =dense fixes the choice (tests, and
  // measuring each kernel alone).
  static const char *forced = std::getenv("PITH_SPARSE_KERNEL");
  if (forced && std::strcmp(forced, "sparse") == 0)
    choice = Choice::Sparse;
  else if (forced && std::strcmp(forced, "dense") == 0)
    choice = Choice::Dense;
  if (choice == Choice::Sparse)
    return sparseMatmul(*a, *packed, *c);
  if (choice == Choice::Dense)
    return denseMatmul(a, b, c);
  // First call at this size: measure both on these operands (the dense
  // kernel once more first, so that its one-time setup is not timed).
  // Alternating runs, so that load from elsewhere falls on both alike.
  std::vector<float> initial = copyOf(*c);
  timed(*c, initial, [&] { denseMatmul(a, b, c); });
  std::vector<double> denseTimes, sparseTimes;
  for (int repeat = 0; repeat < 5; ++repeat) {
    denseTimes.push_back(timed(*c, initial, [&] { denseMatmul(a, b, c); }));
    sparseTimes.push_back(timed(*c, initial, [&] { sparseMatmul(*a, *packed, *c); }));
  }
  double dense = median(denseTimes), sparse = median(sparseTimes);
  if (sparse >= dense)
    timed(*c, initial, [&] { denseMatmul(a, b, c); });
  Choice chosen = sparse < dense ? Choice::Sparse : Choice::Dense;
  if (std::getenv("PITH_SPARSE_VERBOSE"))
    std::fprintf(stderr, "pith: sparse matmul %lldx%lldx%lld: dense %.3f ms, sparse %.3f ms\n",
                 (long long)rows, (long long)b->sizes[0], (long long)b->sizes[1], dense * 1e3,
                 sparse * 1e3);
  std::lock_guard<std::mutex> lock(cacheMutex());
  cache()[keyOf(*b)].choices[rows] = chosen;
}
