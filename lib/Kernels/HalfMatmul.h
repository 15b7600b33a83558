//===- HalfMatmul.h - fp16 matmuls on CPUs without fp16 arithmetic -*- C++ -*-===//

#ifndef PITH_LIB_KERNELS_HALFMATMUL_H
#define PITH_LIB_KERNELS_HALFMATMUL_H

#include <cstdint>

namespace pith::kernels {

/// A strided matrix of fp16 or bf16 bits.
struct HalfMatrix {
  const uint16_t *data;
  int64_t rows, cols, rowStride, colStride;
};

/// A row-major (row-strided) fp32 matrix.
struct FloatMatrix {
  float *data;
  int64_t rows, cols, rowStride;
};

/// Up to this many rows, an fp16 matmul streams the weight in fp16 and
/// widens it in registers (memory-bound); above, the operands are widened
/// into buffers for the fp32 library matmul (compute-bound).
inline constexpr int64_t kHalfFewRows = 8;

/// C += A * B for fp16 (or, with `bf16`, bf16) A and B, A with at most
/// kHalfFewRows rows and B contiguous along one dimension, on AVX-512 with
/// F16C; false (nothing done) otherwise.
bool halfMatmulFewRows(const HalfMatrix &a, const HalfMatrix &b, const FloatMatrix &c,
                       bool bf16 = false);

/// out[i] = in[i] widened to fp32.
void widenHalf(const uint16_t *in, float *out, int64_t count);

} // namespace pith::kernels

#endif // PITH_LIB_KERNELS_HALFMATMUL_H
