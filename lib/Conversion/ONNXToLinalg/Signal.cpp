//===- Signal.cpp - Lower signal processing operators (DFT, STFT, windows, MelWeightMatrix) ===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;
using namespace pith;

void pith::populateSignalLowerings(ONNXLoweringTable &table) {}
