//===- CPUKernels.h - What the runtime asks of the CPU kernels --*- C++ -*-===//
//
// Generated code calls the kernels through their `_mlir_ciface_` entry
// points; the runtime needs only this.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_KERNELS_CPUKERNELS_H
#define PITH_KERNELS_CPUKERNELS_H

extern "C" {
/// Convolution kernels keep stored weights reordered into oneDNN's preferred
/// layout, keyed by the weights' address. A runtime registers the range its
/// stored weights occupy when it loads them (weights elsewhere, such as
/// graph inputs, are reordered on every call: their contents change)...
void pith_kernel_register_weights(const void *begin, const void *end);
/// ...and calls this before it frees or unmaps weights in [begin, end), so
/// that a later model placed at the same address never reads stale copies.
void pith_kernel_forget_weights(const void *begin, const void *end);
}

#endif // PITH_KERNELS_CPUKERNELS_H
