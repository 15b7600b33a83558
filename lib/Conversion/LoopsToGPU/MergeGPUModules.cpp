//===- MergeGPUModules.cpp - One device module per model ------------------===//

#include "pith/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace pith {
#define GEN_PASS_DEF_MERGEGPUMODULESPASS
#include "pith/Conversion/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {
struct MergeGPUModulesPass
    : public pith::impl::MergeGPUModulesPassBase<MergeGPUModulesPass> {
  void runOnOperation() override {
    auto modules = llvm::to_vector(getOperation().getOps<gpu::GPUModuleOp>());
    if (modules.size() < 2)
      return;
    gpu::GPUModuleOp merged = modules.front();
    SymbolTable symbols(merged);
    // Outlining names every kernel after the graph function, each in a
    // module of its own (whose name is unique): a kernel whose name is
    // taken is renamed after its module.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp other : llvm::drop_begin(modules)) {
      for (Operation &op : llvm::make_early_inc_range(other.getBody()->getOperations())) {
        auto name = op.getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName());
        if (name && symbols.lookup(name)) {
          // Outlining copies a global into every module that reads it: keep one.
          if (!isa<gpu::GPUFuncOp>(op))
            continue;
          StringAttr fresh = other.getSymNameAttr();
          if (symbols.lookup(fresh)) {
            op.emitError("cannot give GPU kernel ") << name << " a unique name";
            return signalPassFailure();
          }
          renamed[{other.getSymNameAttr(), name}] = fresh;
          SymbolTable::setSymbolName(&op, fresh);
          name = fresh;
        }
        op.moveBefore(merged.getBody(), merged.getBody()->end());
        if (name)
          symbols.insert(&op);
      }
    }
    auto mergedName = merged.getSymNameAttr();
    getOperation().walk([&](gpu::LaunchFuncOp launch) {
      StringAttr kernel = launch.getKernelName();
      if (StringAttr fresh = renamed.lookup({launch.getKernelModuleName(), kernel}))
        kernel = fresh;
      launch.setKernelAttr(SymbolRefAttr::get(mergedName, {FlatSymbolRefAttr::get(kernel)}));
    });
    for (gpu::GPUModuleOp other : llvm::drop_begin(modules))
      other.erase();
  }
};
} // namespace
