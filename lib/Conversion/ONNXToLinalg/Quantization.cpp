//===- Quantization.cpp - Lower quantization (QuantizeLinear, QLinearMatMul, ...), scatter and miscellaneous operators ===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;
using namespace pith;

void pith::populateQuantizationLowerings(ONNXLoweringTable &table) {}
