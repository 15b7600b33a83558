//===- Shape.cpp - Lower Shape and data-movement operators (Reshape, Transpose, Concat, Slice, Gather, ...) ===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;
using namespace pith;

void pith::populateShapeLowerings(ONNXLoweringTable &table) {}
