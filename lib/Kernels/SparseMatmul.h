//===- SparseMatmul.h - The sparse matmul kernel's ties to the rest -*- C++ -*-===//

#ifndef PITH_LIB_KERNELS_SPARSEMATMUL_H
#define PITH_LIB_KERNELS_SPARSEMATMUL_H

namespace pith::kernels {
/// Drops packed weights that lie in [begin, end) (the weights are going).
void forgetSparseWeights(const void *begin, const void *end);
} // namespace pith::kernels

#endif // PITH_LIB_KERNELS_SPARSEMATMUL_H
