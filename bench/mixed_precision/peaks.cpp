// Peak arithmetic throughput of one core for the instruction families a
// low-precision GEMM can use, each with 12 independent accumulators so that
// latency is hidden. Prints GFLOP/s (a fused multiply-add counts as 2).
//
//   g++ -O3 bench/mixed_precision/peaks.cpp -o /tmp/peaks && /tmp/peaks
//
// Families not supported by this CPU are reported as such (checked with
// cpuid at run time, so the binary also runs where they are missing).
#include <immintrin.h>

#include <chrono>
#include <cstdio>

namespace {
constexpr long kIterations = 200'000'000 / 12;

template <typename Body> double gflops(double flopsPerIteration, Body body) {
  body(kIterations / 10); // warm up the clock and caches
  auto start = std::chrono::steady_clock::now();
  body(kIterations);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return flopsPerIteration * kIterations / seconds / 1e9;
}

volatile float sink;

__attribute__((target("avx512f"))) void fp32Fma(long n) {
  __m512 acc[12];
  for (auto &a : acc)
    a = _mm512_set1_ps(1.0f);
  __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1.0001f);
  for (long i = 0; i < n; ++i)
    for (auto &a : acc)
      a = _mm512_fmadd_ps(x, y, a);
  __m512 s = acc[0];
  for (int k = 1; k < 12; ++k)
    s = _mm512_add_ps(s, acc[k]);
  sink = _mm512_reduce_add_ps(s);
}

// vdpbf16ps: 32 bf16 products summed pairwise into 16 fp32 lanes.
__attribute__((target("avx512f,avx512bf16"))) void bf16Dot(long n) {
  __m512 acc[12];
  for (auto &a : acc)
    a = _mm512_setzero_ps();
  __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
  for (long i = 0; i < n; ++i)
    for (auto &a : acc)
      a = _mm512_dpbf16_ps(a, x, x);
  __m512 s = acc[0];
  for (int k = 1; k < 12; ++k)
    s = _mm512_add_ps(s, acc[k]);
  sink = _mm512_reduce_add_ps(s);
}

// fp16 data on a CPU without fp16 arithmetic: each product needs its
// operand widened (vcvtph2ps), then an fp32 FMA. One conversion per FMA is
// the worst case (a GEMM reuses a converted panel many times).
__attribute__((target("avx512f,f16c"))) void fp16ConvertFma(long n) {
  __m512 acc[12];
  for (auto &a : acc)
    a = _mm512_setzero_ps();
  __m256i h = _mm256_set1_epi16(0x3c00); // 1.0 in fp16
  __m512 y = _mm512_set1_ps(1.0001f);
  for (long i = 0; i < n; ++i)
    for (auto &a : acc) {
      __m512 x = _mm512_cvtph_ps(h);
      a = _mm512_fmadd_ps(x, y, a);
      h = _mm256_add_epi16(h, _mm256_set1_epi16(0)); // keep the conversion in the loop
    }
  __m512 s = acc[0];
  for (int k = 1; k < 12; ++k)
    s = _mm512_add_ps(s, acc[k]);
  sink = _mm512_reduce_add_ps(s);
}

#if defined(__GNUC__) && __GNUC__ >= 12
__attribute__((target("avx512fp16"))) void fp16Fma(long n) {
  __m512h acc[12];
  for (auto &a : acc)
    a = _mm512_set1_ph(0);
  __m512h x = _mm512_set1_ph(1), y = _mm512_set1_ph(0.001f);
  for (long i = 0; i < n; ++i)
    for (auto &a : acc)
      a = _mm512_fmadd_ph(x, y, a);
  __m512h s = acc[0];
  for (int k = 1; k < 12; ++k)
    s = _mm512_add_ph(s, acc[k]);
  sink = (float)_mm512_reduce_add_ph(s);
}
#endif
} // namespace

int main() {
  __builtin_cpu_init();
  std::printf("family,gflops\n");
  std::printf("fp32_fma,%.1f\n", gflops(12 * 16 * 2, fp32Fma));
  if (__builtin_cpu_supports("avx512bf16"))
    std::printf("bf16_dot,%.1f\n", gflops(12 * 32 * 2, bf16Dot));
  else
    std::printf("bf16_dot,unsupported\n");
  std::printf("fp16_convert_fma,%.1f\n", gflops(12 * 16 * 2, fp16ConvertFma));
#if defined(__GNUC__) && __GNUC__ >= 12
  if (__builtin_cpu_supports("avx512fp16"))
    std::printf("fp16_fma,%.1f\n", gflops(12 * 32 * 2, fp16Fma));
  else
#endif
    std::printf("fp16_fma,unsupported\n");
}
