//===- CUDARuntime.h - What the C runtime calls in libpith_cuda_runtime -*- C++ -*-===//
//
// libpith_cuda_runtime.so is Pith's GPU runtime on the CUDA driver API. A
// model compiled with --target cuda links it; its code calls the mgpu*
// functions MLIR's gpu-to-llvm lowering emits (module loading, launches,
// streams) and the pith_cuda_* library kernels (cuBLAS GEMMs, cuDNN
// convolutions). The C runtime (lib/CAPI/Runtime.cpp) finds the functions
// below with dlsym in the model library and uses them for the model's
// boundaries: weights, inputs and outputs in device memory, one arena.
//
// The driver (libcuda.so.1) is opened on first use, so the library loads on
// a machine without a GPU and reports that in one message.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_RUNTIME_CUDARUNTIME_H
#define PITH_RUNTIME_CUDARUNTIME_H

#include <cstddef>
#include <cstdint>

extern "C" {
/// Opens the driver and the first device; 0 on success, else the reason is
/// in pith_cuda_take_error.
int pith_cuda_initialize(void);
/// The first error since the last call ("" if none), cleared by the call.
/// Kernels after an error are skipped, so a run reports its first failure.
const char *pith_cuda_take_error(void);
/// The device's name and compute capability, e.g. "NVIDIA H200 (sm_90)".
const char *pith_cuda_device_name(void);
void *pith_cuda_alloc(uint64_t bytes);
void pith_cuda_free(void *device);
/// Copies on the runtime's stream; to_host synchronizes.
void pith_cuda_to_device(void *device, const void *host, uint64_t bytes);
void pith_cuda_to_host(void *host, const void *device, uint64_t bytes);
void pith_cuda_synchronize(void);
/// How GEMMs and convolutions compute on float32 data (PithGPUMath).
void pith_cuda_set_math(int32_t math);
}

namespace pith {
/// The math GEMMs and convolutions use on float32 tensors: exact fp32, or
/// tensor cores (inputs rounded to tf32/fp16/bf16, fp32 accumulation).
enum class GPUMath : int32_t { FP32 = 0, TF32 = 1, FP16 = 2, BF16 = 3 };
} // namespace pith

#endif // PITH_RUNTIME_CUDARUNTIME_H
