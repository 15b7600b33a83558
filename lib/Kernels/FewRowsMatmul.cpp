//===- FewRowsMatmul.cpp - Matmuls of a few rows, and fp16 without fp16 math -===//
//
// A matmul of a few rows (batch-1 inference) is bound by reading the
// weight: the kernel below streams it once, four rows of B at a time,
// widening 16-bit formats in registers. oneDNN's matmul reads it at half
// that rate here (fp32 1x4096x4096: 4.7-5.0 ms against 2.3-2.5 ms in
// onnxruntime), so fp32, bf16 and fp16 all take this path up to kFewRows.
//
// What this machine measured (bench/mixed_precision/peaks.cpp, docs/
// mixed-precision.md): one core does ~117 GFLOP/s of fp32 FMA, and widening
// fp16 to fp32 (vcvtph2ps, F16C) runs alongside at no cost, but there is no
// AVX512-FP16 arithmetic. So an fp16 matmul computes in fp32 (products of
// fp16 values are exact in fp32, and sums accumulate in fp32), and fp16
// pays only where memory traffic dominates:
// - a few rows (batch-1 inference, GEMV-like): the weight is streamed once
//   in fp16, half the bytes of fp32, widened in registers;
// - many rows (compute-bound): both operands are widened into fp32 buffers
//   once and oneDNN's fp32 matmul runs; fp16 then costs what fp32 does plus
//   the widening.
//
//===----------------------------------------------------------------------===//

#include "FewRowsMatmul.h"

#include "pith/Runtime/LowPrecisionFloats.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace pith::kernels {
namespace {


bool hasAvx512F16c() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("f16c");
  }();
  return has;
}

/// The element formats the kernels read, each with its scalar and 16-wide
/// widening to f32: fp16 by F16C, bf16 by a shift into the high half of
/// each lane, f32 as it is.
struct F16 {
  using Element = uint16_t;
  static float scalar(uint16_t bits) { return fromF16Bits(bits); }
  __attribute__((target("avx512f,f16c"), always_inline)) static __m512 load16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
  }
};
struct BF16 {
  using Element = uint16_t;
  static float scalar(uint16_t bits) { return fromBF16Bits(bits); }
  __attribute__((target("avx512f,f16c"), always_inline)) static __m512 load16(const uint16_t *p) {
    __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
  }
};
struct F32 {
  using Element = float;
  static float scalar(float value) { return value; }
  __attribute__((target("avx512f,f16c"), always_inline)) static __m512 load16(const float *p) {
    return _mm512_loadu_ps(p);
  }
};

template <typename Format> const typename Format::Element *elements(const StridedMatrix &m) {
  return static_cast<const typename Format::Element *>(m.data);
}

template <typename Format>
__attribute__((target("avx512f,f16c"))) void widenAvx512(const typename Format::Element *in,
                                                         float *out, int64_t count) {
  int64_t i = 0;
  for (; i + 16 <= count; i += 16)
    _mm512_storeu_ps(out + i, Format::load16(in + i));
  for (; i < count; ++i)
    out[i] = Format::scalar(in[i]);
}

/// C[:, n0:n1] += A . B[:, n0:n1] for B contiguous along N, B read once:
/// row k of B's slice is widened 16 columns at a time and added, scaled by
/// each row's A[m, k], into per-row f32 sums that stay in L1/L2 (at most
/// kFewRows x the slice). Reading B row by row keeps the stream
/// sequential; a loop over column blocks outside k would jump a row's
/// length at every step.
template <typename Format>
__attribute__((target("avx512f,f16c"))) void rowsTimesRowMajor(const StridedMatrix &a,
                                                               const StridedMatrix &b,
                                                               const FloatMatrix &c,
                                                               int64_t n0, int64_t n1) {
  const int64_t k = a.cols, rows = a.rows, width = n1 - n0, vectors = width / 16;
  thread_local std::vector<float> sums;
  sums.assign(static_cast<size_t>(rows * width), 0.0f);
  float scale[kFewRows];
  // Four rows of B at a time: four sequential streams keep more misses in
  // flight than one (a thread's share of a row is often a single 4 KB page,
  // where the hardware prefetcher stops), and each sum is loaded and stored
  // once per four rows.
  int64_t i = 0;
  for (; i + 4 <= k; i += 4) {
    float s4[4][kFewRows];
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t m = 0; m < rows; ++m)
        s4[r][m] = Format::scalar(elements<Format>(a)[m * a.rowStride + (i + r) * a.colStride]);
    const auto *w0 = elements<Format>(b) + i * b.rowStride + n0;
    const auto *w1 = w0 + b.rowStride, *w2 = w1 + b.rowStride, *w3 = w2 + b.rowStride;
    for (int64_t v = 0; v < vectors; ++v) {
      __m512 x0 = Format::load16(w0 + 16 * v), x1 = Format::load16(w1 + 16 * v), x2 = Format::load16(w2 + 16 * v),
             x3 = Format::load16(w3 + 16 * v);
      for (int64_t m = 0; m < rows; ++m) {
        float *sum = sums.data() + m * width + 16 * v;
        __m512 acc = _mm512_loadu_ps(sum);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(s4[0][m]), x0, acc);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(s4[1][m]), x1, acc);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(s4[2][m]), x2, acc);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(s4[3][m]), x3, acc);
        _mm512_storeu_ps(sum, acc);
      }
    }
    for (int64_t n = 16 * vectors; n < width; ++n)
      for (int64_t r = 0; r < 4; ++r)
        for (int64_t m = 0; m < rows; ++m)
          sums[m * width + n] += s4[r][m] * Format::scalar(w0[r * b.rowStride + n]);
  }
  for (; i < k; ++i) {
    for (int64_t m = 0; m < rows; ++m)
      scale[m] = Format::scalar(elements<Format>(a)[m * a.rowStride + i * a.colStride]);
    const auto *w = elements<Format>(b) + i * b.rowStride + n0;
    for (int64_t v = 0; v < vectors; ++v) {
      __m512 wide = Format::load16(w + 16 * v);
      for (int64_t m = 0; m < rows; ++m) {
        float *sum = sums.data() + m * width + 16 * v;
        _mm512_storeu_ps(sum, _mm512_fmadd_ps(_mm512_set1_ps(scale[m]), wide,
                                              _mm512_loadu_ps(sum)));
      }
    }
    for (int64_t n = 16 * vectors; n < width; ++n)
      for (int64_t m = 0; m < rows; ++m)
        sums[m * width + n] += scale[m] * Format::scalar(w[n]);
  }
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t n = 0; n < width; ++n)
      c.data[m * c.rowStride + n0 + n] += sums[m * width + n];
}

/// C[m, n0:n1] += A[m, :] . B[:, n0:n1] for B contiguous along K (a weight
/// stored [N, K], read transposed): one dot product per output.
template <typename Format>
__attribute__((target("avx512f,f16c"))) void rowsTimesColumnMajor(const float *aWide,
                                                                  const StridedMatrix &a,
                                                                  const StridedMatrix &b,
                                                                  const FloatMatrix &c,
                                                                  int64_t n0, int64_t n1) {
  const int64_t k = a.cols;
  for (int64_t n = n0; n < n1; ++n) {
    const auto *w = elements<Format>(b) + n * b.colStride;
    for (int64_t m = 0; m < a.rows; ++m) {
      const float *x = aWide + m * k;
      __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
      int64_t i = 0;
      for (; i + 32 <= k; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), Format::load16(w + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), Format::load16(w + i + 16), acc1);
      }
      float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
      for (; i < k; ++i)
        sum += x[i] * Format::scalar(w[i]);
      c.data[m * c.rowStride + n] += sum;
    }
  }
}

} // namespace

void widenHalf(const uint16_t *in, float *out, int64_t count) {
  if (hasAvx512F16c()) {
    widenAvx512<F16>(in, out, count);
    return;
  }
  for (int64_t i = 0; i < count; ++i)
    out[i] = F16::scalar(in[i]);
}

namespace {
template <typename Format>
void fewRows(const StridedMatrix &a, const StridedMatrix &b, const FloatMatrix &c, int64_t n) {
  // Output columns are split among threads; each streams its share of B once.
  if (b.colStride == 1) {
#pragma omp parallel
    {
      int threads = omp_get_num_threads(), id = omp_get_thread_num();
      int64_t chunk = ((n + threads - 1) / threads + 15) / 16 * 16;
      int64_t n0 = std::min(n, id * chunk), n1 = std::min(n, n0 + chunk);
      if (n0 < n1)
        rowsTimesRowMajor<Format>(a, b, c, n0, n1);
    }
    return;
  }
  thread_local std::vector<float> wide;
  wide.resize(static_cast<size_t>(a.rows * a.cols));
  for (int64_t m = 0; m < a.rows; ++m) {
    if (a.colStride == 1) {
      widenAvx512<Format>(elements<Format>(a) + m * a.rowStride, wide.data() + m * a.cols,
                          a.cols);
    } else {
      for (int64_t i = 0; i < a.cols; ++i)
        wide[m * a.cols + i] =
            Format::scalar(elements<Format>(a)[m * a.rowStride + i * a.colStride]);
    }
  }
  const float *aWide = wide.data();
#pragma omp parallel
  {
    int threads = omp_get_num_threads(), id = omp_get_thread_num();
    int64_t chunk = (n + threads - 1) / threads;
    int64_t n0 = std::min(n, id * chunk), n1 = std::min(n, n0 + chunk);
    if (n0 < n1)
      rowsTimesColumnMajor<Format>(aWide, a, b, c, n0, n1);
  }
}
} // namespace

bool matmulFewRows(ElementFormat format, const StridedMatrix &a, const StridedMatrix &b,
                   const FloatMatrix &c) {
  if (!hasAvx512F16c() || a.rows > kFewRows || (b.colStride != 1 && b.rowStride != 1))
    return false;
  switch (format) {
  case ElementFormat::F16: fewRows<F16>(a, b, c, b.cols); break;
  case ElementFormat::BF16: fewRows<BF16>(a, b, c, b.cols); break;
  case ElementFormat::F32: fewRows<F32>(a, b, c, b.cols); break;
  }
  return true;
}

} // namespace pith::kernels
