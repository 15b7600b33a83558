//===- HalfMatmul.cpp - fp16 matmuls on CPUs without fp16 arithmetic ------===//
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

#include "HalfMatmul.h"

#include "pith/Runtime/LowPrecisionFloats.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace pith::kernels {
namespace {

template <bool Bf16> float toFloat(uint16_t bits) {
  return Bf16 ? fromBF16Bits(bits) : fromF16Bits(bits);
}

bool hasAvx512F16c() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("f16c");
  }();
  return has;
}

/// 16 values widened to f32: fp16 by F16C, bf16 by a shift into the high
/// half of each lane.
template <bool Bf16>
__attribute__((target("avx512f,f16c"), always_inline)) inline __m512 widen16(const uint16_t *p) {
  __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
  if constexpr (Bf16)
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
  else
    return _mm512_cvtph_ps(bits);
}

template <bool Bf16>
__attribute__((target("avx512f,f16c"))) void widenAvx512(const uint16_t *in, float *out,
                                                         int64_t count) {
  int64_t i = 0;
  for (; i + 16 <= count; i += 16)
    _mm512_storeu_ps(out + i, widen16<Bf16>(in + i));
  for (; i < count; ++i)
    out[i] = toFloat<Bf16>(in[i]);
}

/// C[:, n0:n1] += A . B[:, n0:n1] for B contiguous along N, B read once:
/// row k of B's slice is widened 16 columns at a time and added, scaled by
/// each row's A[m, k], into per-row f32 sums that stay in L1/L2 (at most
/// kHalfFewRows x the slice). Reading B row by row keeps the stream
/// sequential; a loop over column blocks outside k would jump a row's
/// length at every step.
template <bool Bf16>
__attribute__((target("avx512f,f16c"))) void rowsTimesRowMajor(const HalfMatrix &a,
                                                               const HalfMatrix &b,
                                                               const FloatMatrix &c,
                                                               int64_t n0, int64_t n1) {
  const int64_t k = a.cols, rows = a.rows, width = n1 - n0, vectors = width / 16;
  thread_local std::vector<float> sums;
  sums.assign(static_cast<size_t>(rows * width), 0.0f);
  float scale[kHalfFewRows];
  // Four rows of B at a time: four sequential streams keep more misses in
  // flight than one (a thread's share of a row is often a single 4 KB page,
  // where the hardware prefetcher stops), and each sum is loaded and stored
  // once per four rows.
  int64_t i = 0;
  for (; i + 4 <= k; i += 4) {
    float s4[4][kHalfFewRows];
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t m = 0; m < rows; ++m)
        s4[r][m] = toFloat<Bf16>(a.data[m * a.rowStride + (i + r) * a.colStride]);
    const uint16_t *w0 = b.data + i * b.rowStride + n0;
    const uint16_t *w1 = w0 + b.rowStride, *w2 = w1 + b.rowStride, *w3 = w2 + b.rowStride;
    for (int64_t v = 0; v < vectors; ++v) {
      __m512 x0 = widen16<Bf16>(w0 + 16 * v), x1 = widen16<Bf16>(w1 + 16 * v), x2 = widen16<Bf16>(w2 + 16 * v),
             x3 = widen16<Bf16>(w3 + 16 * v);
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
          sums[m * width + n] += s4[r][m] * toFloat<Bf16>(w0[r * b.rowStride + n]);
  }
  for (; i < k; ++i) {
    for (int64_t m = 0; m < rows; ++m)
      scale[m] = toFloat<Bf16>(a.data[m * a.rowStride + i * a.colStride]);
    const uint16_t *w = b.data + i * b.rowStride + n0;
    for (int64_t v = 0; v < vectors; ++v) {
      __m512 wide = widen16<Bf16>(w + 16 * v);
      for (int64_t m = 0; m < rows; ++m) {
        float *sum = sums.data() + m * width + 16 * v;
        _mm512_storeu_ps(sum, _mm512_fmadd_ps(_mm512_set1_ps(scale[m]), wide,
                                              _mm512_loadu_ps(sum)));
      }
    }
    for (int64_t n = 16 * vectors; n < width; ++n)
      for (int64_t m = 0; m < rows; ++m)
        sums[m * width + n] += scale[m] * toFloat<Bf16>(w[n]);
  }
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t n = 0; n < width; ++n)
      c.data[m * c.rowStride + n0 + n] += sums[m * width + n];
}

/// C[m, n0:n1] += A[m, :] . B[:, n0:n1] for B contiguous along K (a weight
/// stored [N, K], read transposed): one dot product per output.
template <bool Bf16>
__attribute__((target("avx512f,f16c"))) void rowsTimesColumnMajor(const float *aWide,
                                                                  const HalfMatrix &a,
                                                                  const HalfMatrix &b,
                                                                  const FloatMatrix &c,
                                                                  int64_t n0, int64_t n1) {
  const int64_t k = a.cols;
  for (int64_t n = n0; n < n1; ++n) {
    const uint16_t *w = b.data + n * b.colStride;
    for (int64_t m = 0; m < a.rows; ++m) {
      const float *x = aWide + m * k;
      __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
      int64_t i = 0;
      for (; i + 32 <= k; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), widen16<Bf16>(w + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), widen16<Bf16>(w + i + 16), acc1);
      }
      float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
      for (; i < k; ++i)
        sum += x[i] * toFloat<Bf16>(w[i]);
      c.data[m * c.rowStride + n] += sum;
    }
  }
}

} // namespace

void widenHalf(const uint16_t *in, float *out, int64_t count) {
  if (hasAvx512F16c()) {
    widenAvx512<false>(in, out, count);
    return;
  }
  for (int64_t i = 0; i < count; ++i)
    out[i] = toFloat<false>(in[i]);
}

namespace {
template <bool Bf16>
void fewRows(const HalfMatrix &a, const HalfMatrix &b, const FloatMatrix &c, int64_t n) {
  // Output columns are split among threads; each streams its share of B once.
  if (b.colStride == 1) {
#pragma omp parallel
    {
      int threads = omp_get_num_threads(), id = omp_get_thread_num();
      int64_t chunk = ((n + threads - 1) / threads + 15) / 16 * 16;
      int64_t n0 = std::min(n, id * chunk), n1 = std::min(n, n0 + chunk);
      if (n0 < n1)
        rowsTimesRowMajor<Bf16>(a, b, c, n0, n1);
    }
    return;
  }
  thread_local std::vector<float> wide;
  wide.resize(static_cast<size_t>(a.rows * a.cols));
  for (int64_t m = 0; m < a.rows; ++m) {
    if (a.colStride == 1) {
      widenAvx512<Bf16>(a.data + m * a.rowStride, wide.data() + m * a.cols, a.cols);
    } else {
      for (int64_t i = 0; i < a.cols; ++i)
        wide[m * a.cols + i] = toFloat<Bf16>(a.data[m * a.rowStride + i * a.colStride]);
    }
  }
  const float *aWide = wide.data();
#pragma omp parallel
  {
    int threads = omp_get_num_threads(), id = omp_get_thread_num();
    int64_t chunk = (n + threads - 1) / threads;
    int64_t n0 = std::min(n, id * chunk), n1 = std::min(n, n0 + chunk);
    if (n0 < n1)
      rowsTimesColumnMajor<Bf16>(aWide, a, b, c, n0, n1);
  }
}
} // namespace

bool halfMatmulFewRows(const HalfMatrix &a, const HalfMatrix &b, const FloatMatrix &c,
                       bool bf16) {
  if (!hasAvx512F16c() || a.rows > kHalfFewRows || (b.colStride != 1 && b.rowStride != 1))
    return false;
  if (bf16)
    fewRows<true>(a, b, c, b.cols);
  else
    fewRows<false>(a, b, c, b.cols);
  return true;
}

} // namespace pith::kernels
