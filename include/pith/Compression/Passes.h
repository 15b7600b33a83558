//===- Passes.h - Weight compression passes ---------------------*- C++ -*-===//

#ifndef PITH_COMPRESSION_PASSES_H
#define PITH_COMPRESSION_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/JSON.h"

namespace pith {
namespace compression {
/// The module attribute holding the passes' reports: an array of
/// dictionaries, each with `pass`, `lines` (what to print) and the pass's
/// figures.
inline constexpr llvm::StringLiteral kReportAttrName = "pith.report";
/// The module attribute naming calibration inputs (.npz) for passes whose
/// own option does not (set by `pith optimize --calibration`).
inline constexpr llvm::StringLiteral kCalibrationAttrName = "pith.calibration";

/// Pass reports (the value of kReportAttrName) as a JSON list, each entry's
/// fields as the pass wrote them; an empty list for a null attribute.
llvm::json::Value reportToJSON(mlir::ArrayAttr report);

} // namespace compression

#define GEN_PASS_DECL
#include "pith/Compression/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "pith/Compression/Passes.h.inc"
} // namespace pith

#endif // PITH_COMPRESSION_PASSES_H
