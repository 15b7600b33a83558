//===- InitAll.h - Register every Pith dialect and pass ---------*- C++ -*-===//
//
// The one place tools and the library register what Pith provides, so that
// pith-opt, pith-translate, the `pith` driver and the APIs agree.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_INITALL_H
#define PITH_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace pith {

/// The dialects Pith's IR uses: onnx, and the upstream ones it builds on.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Pith's passes and named pipelines, for pith-opt's command line.
void registerAllPasses();

} // namespace pith

#endif // PITH_INITALL_H
