//===- Driver.cpp - The CUDA driver API, and MLIR's GPU runtime ABI on it -===//
//
// The driver is opened with dlopen so that this library (and every model
// linking it) loads where there is no GPU; the first call that needs the
// device says why there is none. Implements the mgpu* functions that MLIR's
// gpu-to-llvm lowering calls (Pith does not use MLIR's prebuilt CUDA
// wrappers, which Debian does not ship): every stream they ask for is the
// runtime's one stream, so launches are asynchronous and ordered, and the
// per-launch synchronization the lowering emits becomes a no-op.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"

#include "pith/Runtime/CUDARuntime.h"

#include <dlfcn.h>

#include <cstring>
#include <mutex>

namespace {

/// The driver entry points Pith uses, resolved from libcuda.so.1.
#define PITH_CUDA_DRIVER_FUNCTIONS(X)                                                      \
  X(cuInit) X(cuDeviceGet) X(cuDeviceGetName) X(cuDeviceGetAttribute)                      \
  X(cuDevicePrimaryCtxRetain) X(cuCtxSetCurrent) X(cuGetErrorString) X(cuModuleLoadData)   \
  X(cuModuleUnload) X(cuModuleGetFunction) X(cuLaunchKernel) X(cuStreamCreate)             \
  X(cuStreamSynchronize) X(cuMemAlloc) X(cuMemFree) X(cuMemcpyHtoDAsync)                   \
  X(cuMemcpyDtoHAsync) X(cuMemcpyAsync) X(cuMemsetD32Async) X(cuMemsetD16Async)

struct DriverAPI {
#define PITH_CU(name) decltype(&::name) name = nullptr;
  PITH_CUDA_DRIVER_FUNCTIONS(PITH_CU)
#undef PITH_CU
};

struct State {
  std::once_flag once;
  bool ready = false;
  std::string initError;
  DriverAPI api;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  std::string deviceName;
  std::mutex errorMutex;
  std::string error, taken;
};

State &state() {
  static State *s = new State(); // never destroyed: module destructors run late
  return *s;
}

template <typename F> bool resolve(void *library, F &slot, const char *name) {
  // cuda.h maps names such as cuMemAlloc to cuMemAlloc_v2: resolve those.
  std::string versioned = std::string(name) + "_v2";
  void *symbol = dlsym(library, versioned.c_str());
  if (!symbol)
    symbol = dlsym(library, name);
  slot = reinterpret_cast<F>(symbol);
  return symbol != nullptr;
}

void openDriver(State &s) {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
  if (!library) {
    s.initError = std::string("no CUDA driver: ") + dlerror();
    return;
  }
  DriverAPI &d = s.api;
  bool ok = true;
#define PITH_CU(name) ok = resolve(library, d.name, #name) && ok;
  PITH_CUDA_DRIVER_FUNCTIONS(PITH_CU)
#undef PITH_CU
  if (!ok) {
    s.initError = "the CUDA driver lacks an entry point Pith needs (driver too old)";
    return;
  }
  auto describe = [&](CUresult r, const char *what) {
    const char *text = nullptr;
    d.cuGetErrorString(r, &text);
    s.initError = std::string(what) + ": " + (text ? text : "unknown CUDA error");
  };
  CUdevice device;
  CUresult r;
  if ((r = d.cuInit(0)) != CUDA_SUCCESS)
    return describe(r, "no usable CUDA device (cuInit)");
  if ((r = d.cuDeviceGet(&device, 0)) != CUDA_SUCCESS)
    return describe(r, "no CUDA device");
  if ((r = d.cuDevicePrimaryCtxRetain(&s.context, device)) != CUDA_SUCCESS)
    return describe(r, "cannot create a CUDA context");
  if ((r = d.cuCtxSetCurrent(s.context)) != CUDA_SUCCESS)
    return describe(r, "cannot use the CUDA context");
  if ((r = d.cuStreamCreate(&s.stream, CU_STREAM_NON_BLOCKING)) != CUDA_SUCCESS)
    return describe(r, "cannot create a CUDA stream");
  char name[256] = {};
  d.cuDeviceGetName(name, sizeof(name), device);
  int major = 0, minor = 0;
  d.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
  d.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
  s.deviceName = std::string(name) + " (sm_" + std::to_string(major * 10 + minor) + ")";
  s.ready = true;
}

DriverAPI &api() { return state().api; }

/// Makes the context current on the calling thread (cheap when it is).
bool enter() {
  if (!pith::cuda::initialize())
    return false;
  return pith::cuda::check(api().cuCtxSetCurrent(state().context), "cuCtxSetCurrent");
}

} // namespace

namespace pith::cuda {

bool initialize() {
  State &s = state();
  std::call_once(s.once, [&] { openDriver(s); });
  if (!s.ready)
    fail(s.initError);
  return s.ready;
}

CUstream stream() { return state().stream; }

void fail(const std::string &message) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.errorMutex);
  if (s.error.empty())
    s.error = message;
}

bool failed() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.errorMutex);
  return !s.error.empty();
}

bool check(CUresult result, const char *what) {
  if (result == CUDA_SUCCESS)
    return true;
  const char *text = nullptr;
  if (api().cuGetErrorString)
    api().cuGetErrorString(result, &text);
  fail(std::string(what) + ": " + (text ? text : "unknown CUDA error"));
  return false;
}

} // namespace pith::cuda

using namespace pith::cuda;

extern "C" {

int pith_cuda_initialize(void) { return initialize() ? 0 : 1; }

const char *pith_cuda_take_error(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.errorMutex);
  s.taken = std::move(s.error);
  s.error.clear();
  return s.taken.c_str();
}

const char *pith_cuda_device_name(void) {
  initialize();
  return state().deviceName.c_str();
}

void *pith_cuda_alloc(uint64_t bytes) {
  CUdeviceptr p = 0;
  if (!enter() || !check(api().cuMemAlloc(&p, bytes ? bytes : 1), "cuMemAlloc"))
    return nullptr;
  return reinterpret_cast<void *>(p);
}

void pith_cuda_free(void *device) {
  if (device && enter())
    check(api().cuMemFree(reinterpret_cast<CUdeviceptr>(device)), "cuMemFree");
}

void pith_cuda_to_device(void *device, const void *host, uint64_t bytes) {
  if (bytes && enter() && !failed())
    check(api().cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(device), host, bytes,
                                  stream()),
          "copy to the device");
}

void pith_cuda_to_host(void *host, const void *device, uint64_t bytes) {
  if (bytes && enter() && !failed())
    check(api().cuMemcpyDtoHAsync(host, reinterpret_cast<CUdeviceptr>(device), bytes,
                                  stream()),
          "copy to the host");
  pith_cuda_synchronize();
}

void pith_cuda_synchronize(void) {
  if (enter())
    check(api().cuStreamSynchronize(stream()), "running the model on the GPU");
}

//===----------------------------------------------------------------------===//
// MLIR's GPU runtime ABI (what gpu-to-llvm emits)
//===----------------------------------------------------------------------===//

/// Called from the model library's constructor: a failure is recorded and
/// reported by the first run (or by pithModelLoad).
CUmodule mgpuModuleLoad(void *data, size_t /*size*/) {
  CUmodule module = nullptr;
  if (enter())
    check(api().cuModuleLoadData(&module, data), "loading the model's GPU code");
  return module;
}

void mgpuModuleUnload(CUmodule module) {
  // The driver may already be torn down at process exit; a module is
  // unloaded only while the runtime is usable.
  if (module && state().ready)
    api().cuModuleUnload(module);
}

CUfunction mgpuModuleGetFunction(CUmodule module, const char *name) {
  CUfunction function = nullptr;
  if (module && enter())
    check(api().cuModuleGetFunction(&function, module, name),
          (std::string("finding GPU kernel ") + name).c_str());
  return function;
}

void mgpuLaunchKernel(CUfunction function, intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                      intptr_t blockX, intptr_t blockY, intptr_t blockZ,
                      int32_t sharedBytes, CUstream, void **params, void **extra,
                      size_t /*paramsCount*/) {
  if (!function || failed() || !enter())
    return;
  check(api().cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                             sharedBytes, stream(), params, extra),
        "launching a GPU kernel");
}

CUstream mgpuStreamCreate() {
  enter();
  return stream();
}
void mgpuStreamDestroy(CUstream) {}
/// Ordered on one stream: the host waits only at the model's boundary.
void mgpuStreamSynchronize(CUstream) {}
void mgpuStreamWaitEvent(CUstream, CUevent) {}
CUevent mgpuEventCreate() { return nullptr; }
void mgpuEventDestroy(CUevent) {}
void mgpuEventSynchronize(CUevent) {}
void mgpuEventRecord(CUevent, CUstream) {}

void *mgpuMemAlloc(uint64_t bytes, CUstream, bool /*isHostShared*/) {
  return pith_cuda_alloc(bytes);
}

void mgpuMemFree(void *device, CUstream) {
  // Freeing waits for the work that may still use the buffer.
  pith_cuda_synchronize();
  pith_cuda_free(device);
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, CUstream) {
  if (bytes && enter() && !failed())
    check(api().cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                              reinterpret_cast<CUdeviceptr>(src), bytes, stream()),
          "a device copy");
}

void mgpuMemset32(void *dst, unsigned value, size_t count, CUstream) {
  if (count && enter() && !failed())
    check(api().cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                                 stream()),
          "a device fill");
}

void mgpuMemset16(void *dst, unsigned short value, size_t count, CUstream) {
  if (count && enter() && !failed())
    check(api().cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                                 stream()),
          "a device fill");
}

} // extern "C"
