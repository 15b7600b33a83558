//===- FewRowsMatmul.h - Matmuls of a few rows, and fp16 without fp16 math -*- C++ -*-===//

#ifndef PITH_LIB_KERNELS_FEWROWSMATMUL_H
#define PITH_LIB_KERNELS_FEWROWSMATMUL_H

#include <cstdint>

namespace pith::kernels {

/// How a matrix's elements are stored.
enum class ElementFormat { F16, BF16, F32 };

/// A strided matrix of elements of some ElementFormat.
struct StridedMatrix {
  const void *data;
  int64_t rows, cols, rowStride, colStride;
};

/// A row-major (row-strided) fp32 matrix.
struct FloatMatrix {
  float *data;
  int64_t rows, cols, rowStride;
};

/// Up to this many rows a matmul streams the weight (memory-bound); above,
/// the library matmul runs (fp16 operands widened into buffers first).
inline constexpr int64_t kFewRows = 8;

/// C += A * B for A and B of `format`, A with at most kFewRows rows and B
/// contiguous along one dimension, on AVX-512 with F16C; false (nothing
/// done) otherwise.
bool matmulFewRows(ElementFormat format, const StridedMatrix &a, const StridedMatrix &b,
                   const FloatMatrix &c);

/// out[i] = in[i] widened to fp32.
void widenHalf(const uint16_t *in, float *out, int64_t count);

} // namespace pith::kernels

#endif // PITH_LIB_KERNELS_FEWROWSMATMUL_H
