//===- Libraries.cpp - GEMMs in cuBLAS, convolutions in cuDNN ------------===//
//
// The GPU forms of the kernel calls pith-linalg-to-kernel-calls emits
// (prefix pith_cuda_ instead of pith_kernel_), with the same memref
// arguments and the same meaning: C += A * B, Y += conv(X, W). Operands may
// be strided views (a transposed weight is read in place). Row-major
// matrices are handed to column-major cuBLAS as their transposes:
// C^T = B^T * A^T.
//
// Math (pith_cuda_set_math): exact fp32, or tensor cores on inputs rounded
// to tf32, fp16 or bf16 with fp32 accumulation. cuDNN's algorithm for each
// convolution shape is chosen by measurement (cudnnFind...) on first use.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"

#include "pith/Runtime/CUDARuntime.h"

#include <cublas_v2.h>
#include <cudnn.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

using namespace pith::cuda;

namespace {

template <int N> struct MemRef {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[N];
  int64_t strides[N];
  float *data() const { return aligned + offset; }
};

std::mutex libraryMutex;
pith::GPUMath math = pith::GPUMath::FP32;

cublasHandle_t blas() {
  static cublasHandle_t handle = nullptr;
  if (!handle) {
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) {
      fail("cannot initialize cuBLAS");
      return nullptr;
    }
  }
  cublasSetStream(handle, stream());
  return handle;
}

cudnnHandle_t dnn() {
  static cudnnHandle_t handle = nullptr;
  if (!handle) {
    cudnnStatus_t status = cudnnCreate(&handle);
    if (status != CUDNN_STATUS_SUCCESS) {
      fail(std::string("cannot initialize cuDNN: ") + cudnnGetErrorString(status));
      return nullptr;
    }
  }
  cudnnSetStream(handle, stream());
  return handle;
}

bool ready() { return !failed() && initialize(); }

cublasComputeType_t computeType() {
  switch (math) {
  case pith::GPUMath::TF32: return CUBLAS_COMPUTE_32F_FAST_TF32;
  case pith::GPUMath::FP16: return CUBLAS_COMPUTE_32F_FAST_16F;
  case pith::GPUMath::BF16: return CUBLAS_COMPUTE_32F_FAST_16BF;
  default: return CUBLAS_COMPUTE_32F;
  }
}

/// A row-major [rows, cols] view as cuBLAS's column-major operand for its
/// transpose: op N with ld = row stride, or op T of a column-major matrix.
struct Operand {
  cublasOperation_t op;
  int64_t ld;
};

bool operandOf(const int64_t *sizes, const int64_t *strides, Operand &out) {
  int64_t rows = sizes[0], cols = sizes[1];
  if (strides[1] == 1 || cols == 1) {
    out = {CUBLAS_OP_N, std::max<int64_t>({strides[0], cols, 1})};
    return true;
  }
  if (strides[0] == 1 || rows == 1) {
    out = {CUBLAS_OP_T, std::max<int64_t>({strides[1], rows, 1})};
    return true;
  }
  return false;
}

/// C[b] += A[b] * B[b] for `batch` matrices `batchStride` apart.
void gemm(const char *kernel, const float *a, const int64_t *aSizes, const int64_t *aStrides,
          const float *b, const int64_t *bSizes, const int64_t *bStrides, float *c,
          const int64_t *cSizes, const int64_t *cStrides, int64_t batch,
          std::array<int64_t, 3> batchStrides) {
  std::lock_guard<std::mutex> lock(libraryMutex);
  if (!ready())
    return;
  int64_t m = cSizes[0], n = cSizes[1], k = aSizes[1];
  if (m == 0 || n == 0 || batch == 0)
    return;
  Operand opA, opB;
  if (!operandOf(aSizes, aStrides, opA) || !operandOf(bSizes, bStrides, opB) ||
      !(cStrides[1] == 1 || n == 1)) {
    fail(std::string(kernel) + ": an operand is not a row- or column-major matrix view");
    return;
  }
  int64_t ldc = std::max<int64_t>({cStrides[0], n, 1});
  cublasHandle_t handle = blas();
  if (!handle)
    return;
  const float one = 1.0f;
  // Column-major: C^T [n,m] += B^T [n,k] * A^T [k,m].
  cublasStatus_t status = cublasGemmStridedBatchedEx(
      handle, opB.op, opA.op, n, m, k, &one, b, CUDA_R_32F, opB.ld, batchStrides[1], a,
      CUDA_R_32F, opA.ld, batchStrides[0], &one, c, CUDA_R_32F, ldc, batchStrides[2], batch,
      computeType(), CUBLAS_GEMM_DEFAULT);
  if (status != CUBLAS_STATUS_SUCCESS)
    fail(std::string(kernel) + ": cuBLAS failed: " + cublasGetStatusString(status));
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

/// Everything that selects an algorithm.
using ConvKey = std::tuple<std::array<int64_t, 4>, std::array<int64_t, 4>,
                           std::array<int64_t, 4>, std::array<int64_t, 4>, int64_t, int32_t>;

struct ConvPlan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnConvolutionFwdAlgo_t algorithm{};
  size_t workspaceBytes = 0;
};

struct Workspace {
  void *data = nullptr;
  size_t bytes = 0;
  void *reserve(size_t need) {
    if (need <= bytes)
      return data;
    pith_cuda_synchronize();
    pith_cuda_free(data);
    data = pith_cuda_alloc(need);
    bytes = data ? need : 0;
    return data;
  }
};

bool ok(cudnnStatus_t status, const char *kernel, const char *what) {
  if (status == CUDNN_STATUS_SUCCESS)
    return true;
  fail(std::string(kernel) + ": " + what + ": " + cudnnGetErrorString(status));
  return false;
}

cudnnMathType_t convolutionMath() {
  switch (math) {
  case pith::GPUMath::FP32: return CUDNN_FMA_MATH;
  case pith::GPUMath::FP16: return CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  default: return CUDNN_DEFAULT_MATH; // tf32 tensor cores on fp32 data
  }
}

/// Y [N,F,OH,OW] += conv(X [N,C,H,W], W [F,C/groups,KH,KW]) in NCHW.
void convolution(const char *kernel, const MemRef<4> &x, const float *w,
                 std::array<int64_t, 4> wShape, const MemRef<4> &y, int64_t groups,
                 int64_t strideH, int64_t strideW, int64_t dilationH, int64_t dilationW) {
  std::lock_guard<std::mutex> lock(libraryMutex);
  if (!ready())
    return;
  cudnnHandle_t handle = dnn();
  if (!handle)
    return;
  static std::map<ConvKey, ConvPlan> plans;
  static Workspace workspace;
  std::array<int64_t, 4> xs{x.sizes[0], x.sizes[1], x.sizes[2], x.sizes[3]};
  std::array<int64_t, 4> xst{x.strides[0], x.strides[1], x.strides[2], x.strides[3]};
  std::array<int64_t, 4> ys{y.sizes[0], y.sizes[1], y.sizes[2], y.sizes[3]};
  std::array<int64_t, 4> geometry{strideH, strideW, dilationH, dilationW};
  ConvKey key{xs, xst, wShape, geometry, groups, static_cast<int32_t>(math)};
  auto found = plans.find(key);
  if (found == plans.end()) {
    ConvPlan plan;
    bool good =
        ok(cudnnCreateTensorDescriptor(&plan.x), kernel, "descriptor") &&
        ok(cudnnCreateTensorDescriptor(&plan.y), kernel, "descriptor") &&
        ok(cudnnCreateFilterDescriptor(&plan.w), kernel, "descriptor") &&
        ok(cudnnCreateConvolutionDescriptor(&plan.conv), kernel, "descriptor") &&
        ok(cudnnSetTensor4dDescriptorEx(plan.x, CUDNN_DATA_FLOAT, xs[0], xs[1], xs[2], xs[3],
                                        xst[0], xst[1], xst[2], xst[3]),
           kernel, "input layout") &&
        ok(cudnnSetTensor4dDescriptorEx(plan.y, CUDNN_DATA_FLOAT, ys[0], ys[1], ys[2], ys[3],
                                        y.strides[0], y.strides[1], y.strides[2],
                                        y.strides[3]),
           kernel, "output layout") &&
        ok(cudnnSetFilter4dDescriptor(plan.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, wShape[0],
                                      wShape[1], wShape[2], wShape[3]),
           kernel, "filter layout") &&
        ok(cudnnSetConvolution2dDescriptor(plan.conv, 0, 0, strideH, strideW, dilationH,
                                           dilationW, CUDNN_CROSS_CORRELATION,
                                           CUDNN_DATA_FLOAT),
           kernel, "geometry") &&
        ok(cudnnSetConvolutionGroupCount(plan.conv, groups), kernel, "groups") &&
        ok(cudnnSetConvolutionMathType(plan.conv, convolutionMath()), kernel, "math");
    if (!good)
      return;
    // Measure the algorithms on this shape; keep the fastest that fits.
    constexpr int kCandidates = 8;
    cudnnConvolutionFwdAlgoPerf_t results[kCandidates];
    int count = 0;
    if (!ok(cudnnFindConvolutionForwardAlgorithm(handle, plan.x, plan.w, plan.conv, plan.y,
                                                 kCandidates, &count, results),
            kernel, "choosing an algorithm"))
      return;
    bool chosen = false;
    for (int i = 0; i < count && !chosen; ++i)
      if (results[i].status == CUDNN_STATUS_SUCCESS) {
        plan.algorithm = results[i].algo;
        plan.workspaceBytes = results[i].memory;
        chosen = true;
      }
    if (!chosen) {
      fail(std::string(kernel) + ": cuDNN has no algorithm for this convolution");
      return;
    }
    found = plans.emplace(key, plan).first;
  }
  const ConvPlan &plan = found->second;
  void *scratch = workspace.reserve(plan.workspaceBytes);
  if (plan.workspaceBytes && !scratch)
    return;
  const float one = 1.0f;
  ok(cudnnConvolutionForward(handle, &one, plan.x, x.data(), plan.w, w, plan.conv,
                             plan.algorithm, scratch, plan.workspaceBytes, &one, plan.y,
                             y.data()),
     kernel, "convolution");
}

} // namespace

extern "C" {

void pith_cuda_set_math(int32_t value) { math = static_cast<pith::GPUMath>(value); }

/// C += A * B for A [M,K], B [K,N], C [M,N].
void _mlir_ciface_pith_cuda_matmul_f32(MemRef<2> *a, MemRef<2> *b, MemRef<2> *c) {
  gemm("pith_cuda_matmul_f32", a->data(), a->sizes, a->strides, b->data(), b->sizes,
       b->strides, c->data(), c->sizes, c->strides, 1, {0, 0, 0});
}

/// C += A * B, operands strided (B a transposed view of a [N,K] weight).
void _mlir_ciface_pith_cuda_matmul_strided_f32(MemRef<2> *a, MemRef<2> *b, MemRef<2> *c) {
  gemm("pith_cuda_matmul_strided_f32", a->data(), a->sizes, a->strides, b->data(), b->sizes,
       b->strides, c->data(), c->sizes, c->strides, 1, {0, 0, 0});
}

/// Weights that are mostly zeros: dense on the GPU (cuBLAS is faster than a
/// general sparse kernel at the sparsities Pith produces, except 2:4).
void _mlir_ciface_pith_cuda_sparse_matmul_f32(MemRef<2> *a, MemRef<2> *b, MemRef<2> *c) {
  gemm("pith_cuda_sparse_matmul_f32", a->data(), a->sizes, a->strides, b->data(), b->sizes,
       b->strides, c->data(), c->sizes, c->strides, 1, {0, 0, 0});
}

/// C[i] += A[i] * B[i] for A [B,M,K], B [B,K,N], C [B,M,N].
void _mlir_ciface_pith_cuda_batch_matmul_f32(MemRef<3> *a, MemRef<3> *b, MemRef<3> *c) {
  gemm("pith_cuda_batch_matmul_f32", a->data(), a->sizes + 1, a->strides + 1, b->data(),
       b->sizes + 1, b->strides + 1, c->data(), c->sizes + 1, c->strides + 1, c->sizes[0],
       {a->sizes[0] == 1 ? 0 : a->strides[0], b->sizes[0] == 1 ? 0 : b->strides[0],
        c->strides[0]});
}

/// Y += conv(X, W) for X [N,C,H,W] (already padded), W [F,C,KH,KW].
void _mlir_ciface_pith_cuda_conv2d_nchw_f32(MemRef<4> *x, MemRef<4> *w, MemRef<4> *y,
                                            int64_t strideH, int64_t strideW,
                                            int64_t dilationH, int64_t dilationW) {
  convolution("pith_cuda_conv2d_nchw_f32", *x, w->data(),
              {w->sizes[0], w->sizes[1], w->sizes[2], w->sizes[3]}, *y, 1, strideH, strideW,
              dilationH, dilationW);
}

/// Depthwise: W [C,KH,KW], one channel per group.
void _mlir_ciface_pith_cuda_depthwise_conv2d_nchw_f32(MemRef<4> *x, MemRef<3> *w,
                                                      MemRef<4> *y, int64_t strideH,
                                                      int64_t strideW, int64_t dilationH,
                                                      int64_t dilationW) {
  convolution("pith_cuda_depthwise_conv2d_nchw_f32", *x, w->data(),
              {w->sizes[0], 1, w->sizes[1], w->sizes[2]}, *y, x->sizes[1], strideH, strideW,
              dilationH, dilationW);
}

} // extern "C"
