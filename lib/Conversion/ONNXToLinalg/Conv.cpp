//===- Conv.cpp - Lower Convolutions, pooling and BatchNormalization ===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;
using namespace pith;

void pith::populateConvLowerings(ONNXLoweringTable &table) {}
