//===- TransformPipelines.cpp - Named pipelines of efficiency transforms --===//
//
// Named pipelines `pith optimize --pipeline`, pith-opt and the library API
// share. Each transform family's pipelines start from pith-prepare.
//
//===----------------------------------------------------------------------===//

#include "pith/Pipelines/Pipelines.h"

#include "pith/Transforms/Passes.h"

#include "mlir/Transforms/Passes.h"

using namespace mlir;

void pith::buildPreparePipeline(OpPassManager &pm) {
  // Weights become pith parameters, the form every weight transform edits.
  pm.addPass(createLiftParametersPass());
  pm.addPass(createCanonicalizerPass());
}
