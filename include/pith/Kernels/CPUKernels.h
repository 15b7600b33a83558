//===- CPUKernels.h - What the runtime asks of the CPU kernels --*- C++ -*-===//
//
// Generated code calls the kernels through their `_mlir_ciface_` entry
// points; the runtime needs only this.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_KERNELS_CPUKERNELS_H
#define PITH_KERNELS_CPUKERNELS_H

extern "C" {
/// Convolution kernels keep weights reordered into oneDNN's preferred layout,
/// keyed by the weights' address. A runtime calls this before it frees or
/// unmaps weights in [begin, end), so that a later model placed at the same
/// address never reads stale copies.
void pith_kernel_forget_weights(const void *begin, const void *end);
}

#endif // PITH_KERNELS_CPUKERNELS_H
