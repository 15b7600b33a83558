//===- CostModel.h - Parameters, bytes, FLOPs and activations ---*- C++ -*-===//
//
// What a model costs, per layer and in total, on a module in the onnx
// dialect with or without pith ops: parameters (each weight counted once,
// however many layers share it), weight bytes by element type, MACs and
// FLOPs, and activation memory. Transforms use it to decide, reports to
// show what they did. docs/cost-model.md states the counting rules.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_ANALYSIS_COSTMODEL_H
#define PITH_ANALYSIS_COSTMODEL_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pith {

struct Cost {
  /// Weight elements, and those of them that are not zero.
  int64_t parameters = 0;
  int64_t nonzeroParameters = 0;
  /// Weight bytes by element type ("f32", "f16", "i8", ...).
  std::map<std::string, int64_t> weightBytesByType;
  /// Multiply-accumulates of contractions (MatMul, Gemm, Conv, factored
  /// linear maps), and floating-point operations of everything.
  int64_t macs = 0;
  int64_t flops = 0;
  /// Bytes of all values the nodes produce (what a run writes).
  int64_t activationBytes = 0;
  int64_t nodes = 0;

  int64_t weightBytes() const;
  Cost &operator+=(const Cost &other);
};

struct LayerCost {
  /// The layer: the node-name prefix up to its first indexed component
  /// ("/encoder/layer.3", "/features/features.1"), "(graph)" for nodes
  /// without a hierarchical name.
  std::string layer;
  Cost cost;
};

struct CostReport {
  /// Layers in the order their first node appears.
  std::vector<LayerCost> layers;
  Cost total;
  /// The most bytes of node results alive at once, executing nodes in
  /// program order and freeing each value after its last use.
  int64_t peakActivationBytes = 0;
  /// Symbolic dimensions were counted as 1.
  bool assumedDynamicDimensions = false;
};

/// Analyzes `module` (the graph function and its subgraphs).
CostReport analyzeCost(mlir::ModuleOp module);

/// The per-layer table and the totals, aligned for a terminal.
void printCostReport(const CostReport &report, llvm::raw_ostream &os);

/// Totals before and after a transformation, and their ratios.
void printCostComparison(const CostReport &before, const CostReport &after,
                         llvm::raw_ostream &os);

/// The same as JSON: {"layers": [...], "total": {...}, ...}.
void printCostReportJSON(const CostReport &report, llvm::raw_ostream &os);

/// One self-contained HTML page (no external resources) with the per-layer
/// table, totals and bar charts of parameters and FLOPs per layer; with two
/// models, before and after side by side. `models` pairs a title with a
/// report.
void printCostReportHTML(
    const std::vector<std::pair<std::string, CostReport>> &models,
    llvm::raw_ostream &os);

} // namespace pith

#endif // PITH_ANALYSIS_COSTMODEL_H
