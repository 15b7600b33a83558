//===- Reduction.cpp - Lower Reductions, Softmax and normalizations ===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;
using namespace pith;

void pith::populateReductionLowerings(ONNXLoweringTable &table) {}
