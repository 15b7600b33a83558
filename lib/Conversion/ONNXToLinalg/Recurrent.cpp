//===- Recurrent.cpp - Lower recurrent layers (RNN, LSTM, GRU) and Einsum ===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;
using namespace pith;

void pith::populateRecurrentLowerings(ONNXLoweringTable &table) {}
