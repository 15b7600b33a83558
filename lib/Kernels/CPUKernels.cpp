//===- CPUKernels.cpp - Matmul and convolution kernels for generated code -===//
//
// What `pith-linalg-to-kernel-calls` calls: f32 matmul, batched matmul and
// convolution (NCHW, or NHWC from pith-convolutions-to-nhwc) on oneDNN,
// which picks blocked, AVX-512/AVX2 code for the
// host and runs it on all cores (OpenMP). Each keeps linalg's semantics of
// accumulating into the output (oneDNN's "sum" post-op), so the bias or zero
// the generated code put there first is kept.
//
// Primitives are created once per shape and cached. The entry points take
// MLIR memref descriptors (the `_mlir_ciface_` C interface).
//
//===----------------------------------------------------------------------===//

#include "pith/Kernels/CPUKernels.h"

#include "SparseMatmul.h"

#include "FewRowsMatmul.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace {

template <int Rank> struct MemRef {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];

  float *data() const { return aligned + offset; }
  /// The first element of a buffer of `type` (the descriptor's pointers are
  /// typed float whatever the element type).
  void *data(dnnl::memory::data_type type) const {
    int64_t bytes = type == dnnl::memory::data_type::f32 ? 4 : 2;
    return reinterpret_cast<char *>(aligned) + offset * bytes;
  }
  dnnl::memory::dims dims() const { return {sizes, sizes + Rank}; }
  dnnl::memory::dims steps() const { return {strides, strides + Rank}; }
  dnnl::memory::desc desc(dnnl::memory::data_type type = dnnl::memory::data_type::f32) const {
    return dnnl::memory::desc(dims(), type, steps());
  }
};

dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

/// Every primitive takes its scratchpad from the caller: with the library
/// managing it, Debian's oneDNN (built without DNNL_ENABLE_CONCURRENT_EXEC)
/// shares one scratchpad among all primitives, and two runs of a model on
/// two threads corrupt each other's results.
dnnl::primitive_attr userScratchpad(dnnl::primitive_attr attr = {}) {
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

/// Accumulate into the destination: dst = dst + op(src...).
dnnl::primitive_attr accumulate() {
  dnnl::post_ops ops;
  ops.append_sum(1.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  return userScratchpad(attr);
}

/// This thread's scratchpad for a primitive that asks for `desc`.
dnnl::memory scratchpadFor(const dnnl::memory::desc &desc) {
  thread_local std::vector<char> bytes;
  if (bytes.size() < desc.get_size())
    bytes.resize(desc.get_size());
  return dnnl::memory(desc, cpuEngine(), bytes.data());
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

/// C (f32) += A * B, A and B of `inputs` (f32, or bf16 with f32
/// accumulation).
template <int Rank>
void matmul(const char *name, MemRef<Rank> *a, MemRef<Rank> *b, MemRef<Rank> *c,
            dnnl::memory::data_type inputs = dnnl::memory::data_type::f32) {
  // The primitive and the scratchpad it needs.
  using Matmul = std::pair<dnnl::matmul, dnnl::memory::desc>;
  static PrimitiveCache<Matmul> cache;
  try {
    auto aDims = a->dims(), bDims = b->dims(), cDims = c->dims();
    auto aSteps = a->steps(), bSteps = b->steps(), cSteps = c->steps();
    auto [primitive, scratchpad] = cache.get(
        keyOf({&aDims, &bDims, &cDims, &aSteps, &bSteps, &cSteps}, {int64_t(inputs)}), [&] {
          dnnl::matmul::desc desc(a->desc(inputs), b->desc(inputs), c->desc());
          dnnl::matmul::primitive_desc chosen(desc, accumulate(), cpuEngine());
          return Matmul(dnnl::matmul(chosen), chosen.scratchpad_desc());
        });
    dnnl::stream stream(cpuEngine());
    dnnl::memory am(a->desc(inputs), cpuEngine(), a->data(inputs));
    dnnl::memory bm(b->desc(inputs), cpuEngine(), b->data(inputs));
    dnnl::memory cm(c->desc(), cpuEngine(), c->data());
    primitive.execute(stream, {{DNNL_ARG_SRC, am},
                               {DNNL_ARG_WEIGHTS, bm},
                               {DNNL_ARG_DST, cm},
                               {DNNL_ARG_SCRATCHPAD, scratchpadFor(scratchpad)}});
    stream.wait();
  } catch (const dnnl::error &e) {
    fatal(name, e);
  }
}

/// An NHWC tensor as oneDNN's logical NCHW dimensions with channels-last
/// strides.
dnnl::memory::desc channelsLast(const MemRef<4> &m) {
  return dnnl::memory::desc({m.sizes[0], m.sizes[3], m.sizes[1], m.sizes[2]},
                            dnnl::memory::data_type::f32,
                            {m.strides[0], m.strides[3], m.strides[1], m.strides[2]});
}

dnnl::memory::desc weightsOf(const MemRef<4> &w) { return w.desc(); }

/// Depthwise weights [C,KH,KW] as oneDNN's grouped layout
/// [G, O/G = 1, I/G = 1, KH, KW].
dnnl::memory::desc depthwiseWeightsOf(const MemRef<3> &w) {
  return dnnl::memory::desc({w.sizes[0], 1, 1, w.sizes[1], w.sizes[2]},
                            dnnl::memory::data_type::f32,
                            {w.strides[0], w.strides[0], w.strides[0], w.strides[1],
                             w.strides[2]});
}

/// Weights in the layout a primitive chose, reordered once per weights
/// buffer and kept until the runtime unloads the model's weights
/// (pith_kernel_forget_weights). Keyed by address and layout. Only stored
/// weights are kept (those in ranges a runtime registered with
/// pith_kernel_register_weights): a weight that is a graph input, such as a
/// parameter of a training step, changes between calls at the same address.
using WeightsKey = std::pair<const void *, std::vector<int64_t>>;
std::mutex &weightsMutex() {
  static std::mutex mutex;
  return mutex;
}
std::map<WeightsKey, dnnl::memory> &reorderedWeights() {
  static std::map<WeightsKey, dnnl::memory> cache;
  return cache;
}
/// Registered [begin, end) ranges of stored weights.
std::vector<std::pair<const char *, const char *>> &storedWeights() {
  static std::vector<std::pair<const char *, const char *>> ranges;
  return ranges;
}
bool isStoredWeight(const void *data) {
  auto *at = static_cast<const char *>(data);
  for (const auto &[begin, end] : storedWeights())
    if (at >= begin && at < end)
      return true;
  return false;
}

std::vector<int64_t> layoutKey(const dnnl::memory::desc &desc) {
  const dnnl_memory_desc_t &raw = desc.data;
  std::vector<int64_t> key(raw.dims, raw.dims + raw.ndims);
  key.push_back(raw.format_kind);
  if (raw.format_kind == dnnl_blocked) {
    const auto &blocking = raw.format_desc.blocking;
    key.insert(key.end(), blocking.strides, blocking.strides + raw.ndims);
    key.insert(key.end(), blocking.inner_blks, blocking.inner_blks + blocking.inner_nblks);
    key.insert(key.end(), blocking.inner_idxs, blocking.inner_idxs + blocking.inner_nblks);
  }
  return key;
}

dnnl::memory weightsInLayout(const dnnl::memory::desc &given, float *data,
                             const dnnl::memory::desc &wanted, dnnl::stream &stream) {
  dnnl::memory original(given, cpuEngine(), data);
  if (given == wanted)
    return original;
  std::lock_guard<std::mutex> lock(weightsMutex());
  if (!isStoredWeight(data)) {
    dnnl::memory reordered(wanted, cpuEngine());
    dnnl::reorder(original, reordered).execute(stream, original, reordered);
    stream.wait();
    return reordered;
  }
  WeightsKey key{data, layoutKey(wanted)};
  auto &cache = reorderedWeights();
  auto it = cache.find(key);
  if (it == cache.end()) {
    dnnl::memory reordered(wanted, cpuEngine());
    dnnl::reorder(original, reordered).execute(stream, original, reordered);
    stream.wait();
    it = cache.emplace(key, reordered).first;
  }
  return it->second;
}

/// What follows a convolution in one call: Y = clip(conv + bias[c] +
/// residual, lo, hi), or, without one, linalg's Y += conv.
struct Epilogue {
  float *bias = nullptr;
  float *residual = nullptr;
  dnnl::memory::desc residualDesc;
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
  bool fused = false;

  std::vector<int64_t> key() const {
    std::vector<int64_t> key = {fused, bias != nullptr, residual != nullptr};
    if (residual) {
      auto part = layoutKey(residualDesc);
      key.insert(key.end(), part.begin(), part.end());
    }
    for (float bound : {lo, hi}) {
      int32_t bits;
      std::memcpy(&bits, &bound, sizeof(bits));
      key.push_back(bits);
    }
    return key;
  }

  dnnl::primitive_attr attributes() const {
    if (!fused)
      return accumulate();
    dnnl::post_ops ops;
    if (residual)
      ops.append_binary(dnnl::algorithm::binary_add, residualDesc);
    if (lo > -std::numeric_limits<float>::infinity() ||
        hi < std::numeric_limits<float>::infinity())
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip,
                         std::max(lo, -std::numeric_limits<float>::max()),
                         std::min(hi, std::numeric_limits<float>::max()));
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    return userScratchpad(attr);
  }
};

/// Strides, dilations (1 = dense) and zero padding (top/left, bottom/right)
/// of a 2-D convolution.
struct Geometry {
  std::array<int64_t, 2> strides, dilations, padBegin = {0, 0}, padEnd = {0, 0};
};

/// Y (+)= conv(X, W) and its epilogue: source and destination in the layouts
/// given, weights in whatever layout oneDNN's fastest implementation for
/// them wants.
void convolution(const char *name, const dnnl::memory::desc &xDesc,
                 const dnnl::memory::desc &wDesc, const dnnl::memory::desc &yDesc,
                 float *x, float *w, float *y, const Geometry &geometry,
                 const Epilogue &epilogue = {}) {
  // The primitive, the weights layout it chose and the scratchpad it needs.
  using Convolution =
      std::tuple<dnnl::convolution_forward, dnnl::memory::desc, dnnl::memory::desc>;
  static PrimitiveCache<Convolution> cache;
  try {
    std::vector<int64_t> key = layoutKey(xDesc);
    for (const auto &desc : {wDesc, yDesc}) {
      auto part = layoutKey(desc);
      key.insert(key.end(), part.begin(), part.end());
    }
    for (const auto *part : {&geometry.strides, &geometry.dilations, &geometry.padBegin,
                             &geometry.padEnd})
      key.insert(key.end(), part->begin(), part->end());
    auto epilogueKey = epilogue.key();
    key.insert(key.end(), epilogueKey.begin(), epilogueKey.end());
    dnnl::memory::desc biasDesc({yDesc.dims()[1]}, dnnl::memory::data_type::f32,
                                dnnl::memory::format_tag::a);
    auto [primitive, weightsLayout, scratchpad] = cache.get(key, [&] {
      dnnl::memory::desc anyWeights(wDesc.dims(), dnnl::memory::data_type::f32,
                                    dnnl::memory::format_tag::any);
      // oneDNN counts dilation from 0 (0 = dense).
      dnnl::memory::dims strides(geometry.strides.begin(), geometry.strides.end());
      dnnl::memory::dims dilations = {geometry.dilations[0] - 1, geometry.dilations[1] - 1};
      dnnl::memory::dims padBegin(geometry.padBegin.begin(), geometry.padBegin.end());
      dnnl::memory::dims padEnd(geometry.padEnd.begin(), geometry.padEnd.end());
      auto desc = epilogue.bias
                      ? dnnl::convolution_forward::desc(
                            dnnl::prop_kind::forward_inference,
                            dnnl::algorithm::convolution_direct, xDesc, anyWeights,
                            biasDesc, yDesc, strides, dilations, padBegin, padEnd)
                      : dnnl::convolution_forward::desc(
                            dnnl::prop_kind::forward_inference,
                            dnnl::algorithm::convolution_direct, xDesc, anyWeights, yDesc,
                            strides, dilations, padBegin, padEnd);
      dnnl::convolution_forward::primitive_desc chosen(desc, epilogue.attributes(),
                                                       cpuEngine());
      return Convolution(dnnl::convolution_forward(chosen), chosen.weights_desc(),
                         chosen.scratchpad_desc());
    });
    dnnl::stream stream(cpuEngine());
    dnnl::memory wm = weightsInLayout(wDesc, w, weightsLayout, stream);
    dnnl::memory xm(xDesc, cpuEngine(), x);
    dnnl::memory ym(yDesc, cpuEngine(), y);
    std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, xm},
                                                  {DNNL_ARG_WEIGHTS, wm},
                                                  {DNNL_ARG_DST, ym},
                                                  {DNNL_ARG_SCRATCHPAD, scratchpadFor(scratchpad)}};
    if (epilogue.bias)
      args[DNNL_ARG_BIAS] = dnnl::memory(biasDesc, cpuEngine(), epilogue.bias);
    if (epilogue.residual)
      args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] =
          dnnl::memory(epilogue.residualDesc, cpuEngine(), epilogue.residual);
    primitive.execute(stream, args);
    stream.wait();
  } catch (const dnnl::error &e) {
    fatal(name, e);
  }
}

/// The epilogue operands of a fused call; `present` says which were given
/// (1: bias, 2: residual).
Epilogue epilogueOf(MemRef<1> *bias, MemRef<4> *residual, int64_t present, float lo,
                    float hi) {
  Epilogue epilogue;
  epilogue.fused = true;
  if (present & 1)
    epilogue.bias = bias->data();
  if (present & 2) {
    epilogue.residual = residual->data();
    epilogue.residualDesc = channelsLast(*residual);
  }
  epilogue.lo = lo;
  epilogue.hi = hi;
  return epilogue;
}
} // namespace

/// C += A * B by the streaming kernel for a few rows (FewRowsMatmul.cpp);
/// false when it does not apply (more rows, no AVX-512, B strided both ways).
static bool fewRows(pith::kernels::ElementFormat format, dnnl::memory::data_type type,
                    const MemRef<2> &a, const MemRef<2> &b, const MemRef<2> &c) {
  if (c.strides[1] != 1)
    return false;
  auto view = [&](const MemRef<2> &m) {
    return pith::kernels::StridedMatrix{m.data(type), m.sizes[0], m.sizes[1], m.strides[0],
                                        m.strides[1]};
  };
  return pith::kernels::matmulFewRows(format, view(a), view(b),
                                      {c.data(), c.sizes[0], c.sizes[1], c.strides[0]});
}

/// `m`'s f16 elements widened into `storage` as a contiguous f32 matrix.
template <int Rank>
static MemRef<Rank> widened(const MemRef<Rank> &m, std::vector<float> &storage) {
  int64_t count = 1;
  for (int d = 0; d < Rank; ++d)
    count *= m.sizes[d];
  storage.resize(static_cast<size_t>(count));
  MemRef<Rank> out{storage.data(), storage.data(), 0, {}, {}};
  int64_t stride = 1;
  for (int d = Rank - 1; d >= 0; --d) {
    out.sizes[d] = m.sizes[d];
    out.strides[d] = stride;
    stride *= m.sizes[d];
  }
  auto *in = static_cast<const uint16_t *>(m.data(dnnl::memory::data_type::f16));
  // Rows contiguous in the source widen as one run; others element by element.
  int64_t rows = count / std::max<int64_t>(1, m.sizes[Rank - 1]);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t offset = 0, rest = r;
    for (int d = Rank - 2; d >= 0; --d) {
      offset += (rest % m.sizes[d]) * m.strides[d];
      rest /= m.sizes[d];
    }
    float *row = storage.data() + r * m.sizes[Rank - 1];
    if (m.strides[Rank - 1] == 1) {
      pith::kernels::widenHalf(in + offset, row, m.sizes[Rank - 1]);
    } else {
      for (int64_t i = 0; i < m.sizes[Rank - 1]; ++i)
        pith::kernels::widenHalf(in + offset + i * m.strides[Rank - 1], row + i, 1);
    }
  }
  return out;
}

extern "C" {

/// C += A * B for A [M,K], B [K,N], C [M,N]. A few rows stream B
/// (FewRowsMatmul.cpp); more run oneDNN's matmul.
void _mlir_ciface_pith_kernel_matmul_f32(MemRef<2> *a, MemRef<2> *b, MemRef<2> *c) {
  using pith::kernels::ElementFormat;
  if (!fewRows(ElementFormat::F32, dnnl::memory::data_type::f32, *a, *b, *c))
    matmul("pith_kernel_matmul_f32", a, b, c);
}

/// C += A * B as above, any operand strided: B is a transposed view of a
/// weight stored [N,K].
void _mlir_ciface_pith_kernel_matmul_strided_f32(MemRef<2> *a, MemRef<2> *b, MemRef<2> *c) {
  using pith::kernels::ElementFormat;
  if (!fewRows(ElementFormat::F32, dnnl::memory::data_type::f32, *a, *b, *c))
    matmul("pith_kernel_matmul_strided_f32", a, b, c);
}

/// C += A * B for bf16 A and B, accumulated in f32, any operand strided: a
/// few rows stream B (widened by a shift); more run oneDNN's AVX512-BF16
/// kernels (vdpbf16ps, twice fp32's peak on this machine).
void _mlir_ciface_pith_kernel_matmul_bf16(MemRef<2> *a, MemRef<2> *b, MemRef<2> *c) {
  if (fewRows(pith::kernels::ElementFormat::BF16, dnnl::memory::data_type::bf16, *a, *b, *c))
    return;
  matmul("pith_kernel_matmul_bf16", a, b, c, dnnl::memory::data_type::bf16);
}

void _mlir_ciface_pith_kernel_matmul_strided_bf16(MemRef<2> *a, MemRef<2> *b, MemRef<2> *c) {
  _mlir_ciface_pith_kernel_matmul_bf16(a, b, c);
}

void _mlir_ciface_pith_kernel_batch_matmul_bf16(MemRef<3> *a, MemRef<3> *b, MemRef<3> *c) {
  matmul("pith_kernel_batch_matmul_bf16", a, b, c, dnnl::memory::data_type::bf16);
}

/// C += A * B for f16 A and B, accumulated in f32 (FewRowsMatmul.cpp says why
/// it computes in fp32 on this hardware): few rows stream B in f16;
/// otherwise both are widened into contiguous f32 buffers for the fp32
/// matmul.
void _mlir_ciface_pith_kernel_matmul_f16(MemRef<2> *a, MemRef<2> *b, MemRef<2> *c) {
  if (fewRows(pith::kernels::ElementFormat::F16, dnnl::memory::data_type::f16, *a, *b, *c))
    return;
  thread_local std::vector<float> wideA, wideB;
  MemRef<2> wa = widened(*a, wideA), wb = widened(*b, wideB);
  matmul("pith_kernel_matmul_f16", &wa, &wb, c);
}

void _mlir_ciface_pith_kernel_matmul_strided_f16(MemRef<2> *a, MemRef<2> *b, MemRef<2> *c) {
  _mlir_ciface_pith_kernel_matmul_f16(a, b, c);
}

void _mlir_ciface_pith_kernel_batch_matmul_f16(MemRef<3> *a, MemRef<3> *b, MemRef<3> *c) {
  thread_local std::vector<float> wideA, wideB;
  MemRef<3> wa = widened(*a, wideA), wb = widened(*b, wideB);
  matmul("pith_kernel_batch_matmul_f16", &wa, &wb, c);
}

/// Y += (X * U) * V for X [M,K], U [K,R], V [R,N], Y [M,N], any operand
/// strided: a low-rank linear map. X * U is computed a tile of rows at a
/// time into a per-thread scratch of at most max(64 rows, 256 KiB), so
/// memory does not grow with M (the unfused pair holds all M x R).
void _mlir_ciface_pith_kernel_factored_matmul_f32(MemRef<2> *x, MemRef<2> *u, MemRef<2> *v,
                                                  MemRef<2> *y) {
  const int64_t rows = x->sizes[0], rank = u->sizes[1];
  constexpr int64_t scratchBytes = 256 * 1024;
  const int64_t tileRows =
      std::min(rows, std::max<int64_t>(64, scratchBytes / (rank * int64_t(sizeof(float)))));
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>(tileRows * rank));
  for (int64_t first = 0; first < rows; first += tileRows) {
    const int64_t count = std::min(tileRows, rows - first);
    MemRef<2> xTile = *x, tTile{scratch.data(), scratch.data(), 0, {count, rank}, {rank, 1}},
              yTile = *y;
    xTile.offset += first * x->strides[0];
    xTile.sizes[0] = count;
    yTile.offset += first * y->strides[0];
    yTile.sizes[0] = count;
    std::fill_n(scratch.data(), count * rank, 0.0f);
    matmul("pith_kernel_factored_matmul_f32", &xTile, u, &tTile);
    matmul("pith_kernel_factored_matmul_f32", &tTile, v, &yTile);
  }
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
  convolution("pith_kernel_conv2d_nchw_f32", x->desc(), weightsOf(*w), y->desc(),
              x->data(), w->data(), y->data(),
              Geometry{{strideH, strideW}, {dilationH, dilationW}});
}

/// Y += depthwise_conv(X, W) for X [N,C,H,W] (already padded), W [C,KH,KW],
/// Y [N,C,OH,OW]: a grouped convolution with one channel per group.
void _mlir_ciface_pith_kernel_depthwise_conv2d_nchw_f32(
    MemRef<4> *x, MemRef<3> *w, MemRef<4> *y, int64_t strideH, int64_t strideW,
    int64_t dilationH, int64_t dilationW) {
  convolution("pith_kernel_depthwise_conv2d_nchw_f32", x->desc(), depthwiseWeightsOf(*w),
              y->desc(), x->data(), w->data(), y->data(),
              Geometry{{strideH, strideW}, {dilationH, dilationW}});
}

/// Channels last: Y += conv(X, W) for X [N,H,W,C] zero-padded by
/// (top, left, bottom, right), W [F,C,KH,KW] as in ONNX, Y [N,OH,OW,F].
void _mlir_ciface_pith_kernel_conv2d_nhwc_fchw_f32(
    MemRef<4> *x, MemRef<4> *w, MemRef<4> *y, int64_t strideH, int64_t strideW,
    int64_t dilationH, int64_t dilationW, int64_t padTop, int64_t padLeft,
    int64_t padBottom, int64_t padRight) {
  convolution("pith_kernel_conv2d_nhwc_fchw_f32", channelsLast(*x), weightsOf(*w),
              channelsLast(*y), x->data(), w->data(), y->data(),
              Geometry{{strideH, strideW}, {dilationH, dilationW}, {padTop, padLeft},
                       {padBottom, padRight}});
}

/// Channels last, depthwise: X [N,H,W,C] zero-padded as above, W [C,KH,KW],
/// Y [N,OH,OW,C].
void _mlir_ciface_pith_kernel_depthwise_conv2d_nhwc_f32(
    MemRef<4> *x, MemRef<3> *w, MemRef<4> *y, int64_t strideH, int64_t strideW,
    int64_t dilationH, int64_t dilationW, int64_t padTop, int64_t padLeft,
    int64_t padBottom, int64_t padRight) {
  convolution("pith_kernel_depthwise_conv2d_nhwc_f32", channelsLast(*x),
              depthwiseWeightsOf(*w), channelsLast(*y), x->data(), w->data(), y->data(),
              Geometry{{strideH, strideW}, {dilationH, dilationW}, {padTop, padLeft},
                       {padBottom, padRight}});
}

/// Z = clip(conv(X, W) + bias[c] + R, lo, hi), channels last: X
/// [N,H,W,C] zero-padded as above, W [F,C,KH,KW], bias [F], R and Z
/// [N,OH,OW,F]; `present` says whether bias (1) and R (2) were given.
void _mlir_ciface_pith_kernel_conv2d_nhwc_fchw_f32_fused(
    MemRef<4> *x, MemRef<4> *w, MemRef<1> *bias, MemRef<4> *residual, MemRef<4> *z,
    int64_t strideH, int64_t strideW, int64_t dilationH, int64_t dilationW,
    int64_t padTop, int64_t padLeft, int64_t padBottom, int64_t padRight,
    int64_t present, float lo, float hi) {
  convolution("pith_kernel_conv2d_nhwc_fchw_f32_fused", channelsLast(*x), weightsOf(*w),
              channelsLast(*z), x->data(), w->data(), z->data(),
              Geometry{{strideH, strideW}, {dilationH, dilationW}, {padTop, padLeft},
                       {padBottom, padRight}},
              epilogueOf(bias, residual, present, lo, hi));
}

/// The depthwise form of the fused call: W [C,KH,KW].
void _mlir_ciface_pith_kernel_depthwise_conv2d_nhwc_f32_fused(
    MemRef<4> *x, MemRef<3> *w, MemRef<1> *bias, MemRef<4> *residual, MemRef<4> *z,
    int64_t strideH, int64_t strideW, int64_t dilationH, int64_t dilationW,
    int64_t padTop, int64_t padLeft, int64_t padBottom, int64_t padRight,
    int64_t present, float lo, float hi) {
  convolution("pith_kernel_depthwise_conv2d_nhwc_f32_fused", channelsLast(*x),
              depthwiseWeightsOf(*w), channelsLast(*z), x->data(), w->data(), z->data(),
              Geometry{{strideH, strideW}, {dilationH, dilationW}, {padTop, padLeft},
                       {padBottom, padRight}},
              epilogueOf(bias, residual, present, lo, hi));
}

void pith_kernel_register_weights(const void *begin, const void *end) {
  std::lock_guard<std::mutex> lock(weightsMutex());
  storedWeights().push_back({static_cast<const char *>(begin), static_cast<const char *>(end)});
}

void pith_kernel_forget_weights(const void *begin, const void *end) {
  pith::kernels::forgetSparseWeights(begin, end);
  std::lock_guard<std::mutex> lock(weightsMutex());
  auto &ranges = storedWeights();
  ranges.erase(std::remove_if(ranges.begin(), ranges.end(),
                              [&](const auto &range) {
                                return range.first >= begin && range.first < end;
                              }),
               ranges.end());
  auto &cache = reorderedWeights();
  for (auto it = cache.begin(); it != cache.end();)
    if (it->first.first >= begin && it->first.first < end)
      it = cache.erase(it);
    else
      ++it;
}

} // extern "C"
