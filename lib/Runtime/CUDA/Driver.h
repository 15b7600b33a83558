//===- Driver.h - The CUDA driver as libpith_cuda_runtime uses it -*- C++ -*-===//
//
// One process-wide context (the device's primary context, shared with
// cuBLAS and cuDNN) and one stream on which every launch, library call and
// copy is ordered: generated code never reads device memory on the host, so
// the only synchronization needed is at the model's boundary.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_RUNTIME_CUDA_DRIVER_H
#define PITH_LIB_RUNTIME_CUDA_DRIVER_H

#include <cuda.h>

#include <string>

namespace pith::cuda {

/// Opens the driver and the device once; false (with the error recorded)
/// where there is none.
bool initialize();
/// The runtime's stream (valid after initialize()).
CUstream stream();
/// Records the first error; later ones are dropped until it is taken.
void fail(const std::string &message);
/// Whether an error is pending: work is skipped until it is taken.
bool failed();
/// Records a driver error for `what`; returns whether `result` is success.
bool check(CUresult result, const char *what);

} // namespace pith::cuda

#endif // PITH_LIB_RUNTIME_CUDA_DRIVER_H
