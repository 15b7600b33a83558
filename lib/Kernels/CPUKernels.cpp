//===- CPUKernels.cpp - Matmul and convolution kernels for generated code -===//
//
// What `pith-linalg-to-kernel-calls` calls: f32 matmul, batched matmul and
// NCHW convolution on oneDNN, which picks blocked, AVX-512/AVX2 code for the
// host and runs it on all cores (OpenMP). Each keeps linalg's semantics of
// accumulating into the output (oneDNN's "sum" post-op), so the bias or zero
// the generated code put there first is kept.
//
// Primitives are created once per shape and cached. The entry points take
// MLIR memref descriptors (the `_mlir_ciface_` C interface).
//
//===----------------------------------------------------------------------===//

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace {

template <int Rank> struct MemRef {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];

  float *data() const { return aligned + offset; }
  dnnl::memory::dims dims() const { return {sizes, sizes + Rank}; }
  dnnl::memory::dims steps() const { return {strides, strides + Rank}; }
  dnnl::memory::desc desc() const {
    return dnnl::memory::desc(dims(), dnnl::memory::data_type::f32, steps());
  }
};

dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

/// Accumulate into the destination: dst = dst + op(src...).
dnnl::primitive_attr accumulate() {
  dnnl::post_ops ops;
  ops.append_sum(1.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  return attr;
}

/// Primitives by shape key, shared by all threads.
template <typename Primitive> class PrimitiveCache {
public:
  template <typename Make>
  Primitive get(const std::vector<int64_t> &key, Make make) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = primitives.find(key);
    if (it == primitives.end())
      it = primitives.emplace(key, make()).first;
    return it->second;
  }

private:
  std::mutex mutex;
  std::map<std::vector<int64_t>, Primitive> primitives;
};

[[noreturn]] void fatal(const char *kernel, const dnnl::error &e) {
  std::fprintf(stderr, "pith: internal error in %s: %s\n", kernel, e.what());
  std::abort();
}

std::vector<int64_t> keyOf(std::initializer_list<const dnnl::memory::dims *> all,
                           std::initializer_list<int64_t> extra = {}) {
  std::vector<int64_t> key;
  for (const auto *dims : all) {
    key.push_back(static_cast<int64_t>(dims->size()));
    key.insert(key.end(), dims->begin(), dims->end());
  }
  key.insert(key.end(), extra.begin(), extra.end());
  return key;
}

template <int Rank>
void matmul(const char *name, MemRef<Rank> *a, MemRef<Rank> *b, MemRef<Rank> *c) {
  static PrimitiveCache<dnnl::matmul> cache;
  try {
    auto aDims = a->dims(), bDims = b->dims(), cDims = c->dims();
    auto aSteps = a->steps(), bSteps = b->steps(), cSteps = c->steps();
    dnnl::matmul primitive =
        cache.get(keyOf({&aDims, &bDims, &cDims, &aSteps, &bSteps, &cSteps}), [&] {
          dnnl::matmul::desc desc(a->desc(), b->desc(), c->desc());
          return dnnl::matmul(
              dnnl::matmul::primitive_desc(desc, accumulate(), cpuEngine()));
        });
    dnnl::stream stream(cpuEngine());
    dnnl::memory am(a->desc(), cpuEngine(), a->data());
    dnnl::memory bm(b->desc(), cpuEngine(), b->data());
    dnnl::memory cm(c->desc(), cpuEngine(), c->data());
    primitive.execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    stream.wait();
  } catch (const dnnl::error &e) {
    fatal(name, e);
  }
}
} // namespace

extern "C" {

/// C += A * B for A [M,K], B [K,N], C [M,N].
void _mlir_ciface_pith_kernel_matmul_f32(MemRef<2> *a, MemRef<2> *b, MemRef<2> *c) {
  matmul("pith_kernel_matmul_f32", a, b, c);
}

/// C[i] += A[i] * B[i] for A [B,M,K], B [B,K,N], C [B,M,N].
void _mlir_ciface_pith_kernel_batch_matmul_f32(MemRef<3> *a, MemRef<3> *b,
                                               MemRef<3> *c) {
  matmul("pith_kernel_batch_matmul_f32", a, b, c);
}

/// Y += conv(X, W) for X [N,C,H,W] (already padded), W [F,C,KH,KW],
/// Y [N,F,OH,OW], with strides and dilations (1 = dense).
void _mlir_ciface_pith_kernel_conv2d_nchw_f32(MemRef<4> *x, MemRef<4> *w, MemRef<4> *y,
                                              int64_t strideH, int64_t strideW,
                                              int64_t dilationH, int64_t dilationW) {
  static PrimitiveCache<dnnl::convolution_forward> cache;
  try {
    auto xDims = x->dims(), wDims = w->dims(), yDims = y->dims();
    auto xSteps = x->steps(), wSteps = w->steps(), ySteps = y->steps();
    dnnl::convolution_forward primitive = cache.get(
        keyOf({&xDims, &wDims, &yDims, &xSteps, &wSteps, &ySteps},
              {strideH, strideW, dilationH, dilationW}),
        [&] {
          // oneDNN counts dilation from 0 (0 = dense).
          dnnl::convolution_forward::desc desc(
              dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
              x->desc(), w->desc(), y->desc(), {strideH, strideW},
              {dilationH - 1, dilationW - 1}, {0, 0}, {0, 0});
          return dnnl::convolution_forward(dnnl::convolution_forward::primitive_desc(
              desc, accumulate(), cpuEngine()));
        });
    dnnl::stream stream(cpuEngine());
    dnnl::memory xm(x->desc(), cpuEngine(), x->data());
    dnnl::memory wm(w->desc(), cpuEngine(), w->data());
    dnnl::memory ym(y->desc(), cpuEngine(), y->data());
    primitive.execute(stream, {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym}});
    stream.wait();
  } catch (const dnnl::error &e) {
    fatal("pith_kernel_conv2d_nchw_f32", e);
  }
}

/// Y += depthwise_conv(X, W) for X [N,C,H,W] (already padded), W [C,KH,KW],
/// Y [N,C,OH,OW]: a grouped convolution with one channel per group.
void _mlir_ciface_pith_kernel_depthwise_conv2d_nchw_f32(
    MemRef<4> *x, MemRef<3> *w, MemRef<4> *y, int64_t strideH, int64_t strideW,
    int64_t dilationH, int64_t dilationW) {
  static PrimitiveCache<dnnl::convolution_forward> cache;
  try {
    // Weights as oneDNN's grouped layout [G, O/G = 1, I/G = 1, KH, KW].
    dnnl::memory::dims wDims = {w->sizes[0], 1, 1, w->sizes[1], w->sizes[2]};
    dnnl::memory::dims wSteps = {w->strides[0], w->strides[0], w->strides[0],
                                 w->strides[1], w->strides[2]};
    dnnl::memory::desc wDesc(wDims, dnnl::memory::data_type::f32, wSteps);
    auto xDims = x->dims(), yDims = y->dims();
    auto xSteps = x->steps(), ySteps = y->steps();
    dnnl::convolution_forward primitive = cache.get(
        keyOf({&xDims, &wDims, &yDims, &xSteps, &wSteps, &ySteps},
              {strideH, strideW, dilationH, dilationW}),
        [&] {
          dnnl::convolution_forward::desc desc(
              dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
              x->desc(), wDesc, y->desc(), {strideH, strideW},
              {dilationH - 1, dilationW - 1}, {0, 0}, {0, 0});
          return dnnl::convolution_forward(dnnl::convolution_forward::primitive_desc(
              desc, accumulate(), cpuEngine()));
        });
    dnnl::stream stream(cpuEngine());
    dnnl::memory xm(x->desc(), cpuEngine(), x->data());
    dnnl::memory wm(wDesc, cpuEngine(), w->data());
    dnnl::memory ym(y->desc(), cpuEngine(), y->data());
    primitive.execute(stream, {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym}});
    stream.wait();
  } catch (const dnnl::error &e) {
    fatal("pith_kernel_depthwise_conv2d_nchw_f32", e);
  }
}

} // extern "C"
