//===- SparseMatmul.cpp - C += A . B for a weight B that is mostly zeros --===//
//
// What `pith-linalg-to-kernel-calls` calls for a matmul whose constant
// weight is at least half zeros (Compilation.cpp marks such weights). The
// weight is packed once, by output column (compressed sparse columns: the
// rows k and values of the nonzeros of each column n), and kept until the
// runtime unloads the model's weights, like the convolutions' reordered
// weights.
//
// A run takes the rows of A in blocks of 128: each block is transposed into
// a K x 128 buffer, so that every nonzero B[k, n] adds B[k, n] times 128
// contiguous values of A's column k into 128 accumulators (8 AVX-512
// registers) for output column n (vector FMAs: the zeros cost nothing).
// Columns are shared among the OpenMP threads, 64 to a task, and the
// reduction runs in chunks of 128 rows of k (64 KB of the block): every row
// of a chunk is read by about 64 x density columns while it is in L2, where
// 32 columns to a task left the block to be streamed from L3 twice as often.
// Measured on 3072x768 at 90% zeros, x [256, 3072], interleaved with the
// dense layer: blocks of 64 rows and 32 columns 2.0-2.2x faster than dense;
// 128 rows 2.1-2.7x; 128 rows, 64 columns and chunks of 128 3.0-3.2x
// (64 KB chunks 2.95x, 256 KB 3.07x; 96 columns 3.05x; 256 rows, whose
// block no longer fits L2, 2.0x).
//
// No layer may get slower than dense: the first call for each weight and
// row count times this kernel against the dense oneDNN one on the real
// operands and keeps the faster for later calls with that shape
// (PITH_SPARSE_VERBOSE=1 prints the times; PITH_SPARSE_KERNEL=sparse or
// =dense skips the measurement).
//
//===----------------------------------------------------------------------===//

#include "SparseMatmul.h"

#include <oneapi/dnnl/dnnl.hpp>

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

constexpr int64_t kBlockRows = 128;

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

/// B by output column: column n's nonzeros are rows[start[n] .. start[n+1])
/// with their values.
struct PackedColumns {
  int64_t rows = 0, columns = 0;
  std::vector<int64_t> start;
  std::vector<int32_t> rowIndex;
  std::vector<float> values;
};

PackedColumns pack(const StridedMatrix &b) {
  PackedColumns packed;
  packed.rows = b.sizes[0];
  packed.columns = b.sizes[1];
  packed.start.reserve(packed.columns + 1);
  packed.start.push_back(0);
  for (int64_t n = 0; n < packed.columns; ++n) {
    for (int64_t k = 0; k < packed.rows; ++k)
      if (float v = b.at(k, n); v != 0.0f) {
        packed.rowIndex.push_back(static_cast<int32_t>(k));
        packed.values.push_back(v);
      }
    packed.start.push_back(static_cast<int64_t>(packed.values.size()));
  }
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

/// For columns [first, first + count) and the kBlockRows rows of one block
/// of A (`transposed`, K x kBlockRows): out[i * count + (n - first)] = sum
/// over column n's nonzeros of value * transposed[k][i]. The reduction runs
/// in chunks of kDepthChunk rows of k, which stay in L2 while every column
/// of the task takes its nonzeros there. Compiled for the host's vector width
/// (AVX-512, AVX2 or SSE, chosen when the library loads).
__attribute__((target_clones("avx512f", "avx2", "default"))) void
multiplyColumns(const PackedColumns &packed, int64_t first, int64_t count,
                const float *transposed, float *out) {
  constexpr int64_t kVectors = kBlockRows / 16, kDepthChunk = 128, kMaxColumns = 64;
  const int64_t *start = packed.start.data();
  const int32_t *rowIndex = packed.rowIndex.data();
  const float *values = packed.values.data();
  Vector16 acc[kMaxColumns][kVectors] = {};
  int64_t cursor[kMaxColumns];
  for (int64_t j = 0; j < count; ++j)
    cursor[j] = start[first + j];
  for (int64_t k0 = 0; k0 < packed.rows; k0 += kDepthChunk) {
    const int32_t k1 = static_cast<int32_t>(std::min(packed.rows, k0 + kDepthChunk));
    for (int64_t j = 0; j < count; ++j) {
      Vector16 sum[kVectors];
#pragma GCC unroll 8
      for (int64_t v = 0; v < kVectors; ++v)
        sum[v] = acc[j][v];
      int64_t p = cursor[j];
      const int64_t end = start[first + j + 1];
      for (; p < end && rowIndex[p] < k1; ++p) {
        const float value = values[p];
        const Vector16 *row =
            reinterpret_cast<const Vector16 *>(transposed + int64_t(rowIndex[p]) * kBlockRows);
#pragma GCC unroll 8
        for (int64_t v = 0; v < kVectors; ++v)
          sum[v] += value * row[v];
      }
      cursor[j] = p;
#pragma GCC unroll 8
      for (int64_t v = 0; v < kVectors; ++v)
        acc[j][v] = sum[v];
    }
  }
  for (int64_t j = 0; j < count; ++j) {
    const float *lanes = reinterpret_cast<const float *>(acc[j]);
    for (int64_t i = 0; i < kBlockRows; ++i)
      out[i * count + j] = lanes[i];
  }
}

/// Writes A's rows [0, R S) (R = kBlockRows, S = `fullBlocks`) as S blocks
/// of K x R: element (R s + i, k) at out[(s K + k) R + i]. oneDNN's reorder (JIT
/// code for this CPU) does the transposition.
void transposeBlocks(const StridedMatrix &a, int64_t fullBlocks, float *out) {
  using namespace dnnl;
  static std::mutex mutex;
  static std::map<std::vector<int64_t>, reorder> primitives;
  static engine cpu(engine::kind::cpu, 0);
  const int64_t depth = a.sizes[1];
  memory::dims dims = {fullBlocks, kBlockRows, depth};
  memory::desc from(dims, memory::data_type::f32,
                    {kBlockRows * a.strides[0], a.strides[0], a.strides[1]});
  memory::desc to(dims, memory::data_type::f32, {kBlockRows * depth, 1, kBlockRows});
  reorder primitive;
  {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<int64_t> key = {fullBlocks, depth, a.strides[0], a.strides[1]};
    auto it = primitives.find(key);
    if (it == primitives.end())
      it = primitives.emplace(key, reorder(memory(from, cpu, nullptr), memory(to, cpu, nullptr)))
               .first;
    primitive = it->second;
  }
  stream s(cpu);
  memory source(from, cpu, a.aligned + a.offset), destination(to, cpu, out);
  primitive.execute(s, source, destination);
  s.wait();
}

void sparseMatmul(const StridedMatrix &a, const PackedColumns &packed, const StridedMatrix &c) {
  constexpr int64_t kColumnsPerTask = 64;
  const int64_t rows = a.sizes[0], depth = a.sizes[1], columns = packed.columns;
  // A as blocks of kBlockRows rows, each K x kBlockRows (the last padded with zero rows),
  // 64-byte aligned for the vector loads.
  const int64_t groups = (rows + kBlockRows - 1) / kBlockRows, fullBlocks = rows / kBlockRows;
  thread_local std::vector<float> storage;
  storage.resize(static_cast<size_t>(groups * depth * kBlockRows + 16));
  float *t = storage.data() + (16 - (reinterpret_cast<uintptr_t>(storage.data()) / 4) % 16) % 16;
  if (fullBlocks > 0)
    transposeBlocks(a, fullBlocks, t);
  if (fullBlocks < groups) {
    float *last = t + fullBlocks * depth * kBlockRows;
    std::fill(last, last + depth * kBlockRows, 0.0f);
    for (int64_t i = fullBlocks * kBlockRows; i < rows; ++i)
      for (int64_t k = 0; k < depth; ++k)
        last[k * kBlockRows + (i - fullBlocks * kBlockRows)] = a.at(i, k);
  }
  for (int64_t group = 0; group < groups; ++group) {
    const int64_t first = group * kBlockRows, count = std::min(kBlockRows, rows - first);
    const float *block = t + group * depth * kBlockRows;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t n0 = 0; n0 < columns; n0 += kColumnsPerTask) {
      const int64_t width = std::min(kColumnsPerTask, columns - n0);
      float tile[kBlockRows * kColumnsPerTask];
      multiplyColumns(packed, n0, width, block, tile);
      for (int64_t i = 0; i < count; ++i)
        for (int64_t j = 0; j < width; ++j)
          c.at(first + i, n0 + j) += tile[i * width + j];
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
