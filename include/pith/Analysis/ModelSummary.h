//===- ModelSummary.h - What an imported model contains ---------*- C++ -*-===//
//
// Counts a model's operators, parameters and graph interface from its onnx
// dialect form; `pith inspect` prints it and later reports build on it.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_ANALYSIS_MODELSUMMARY_H
#define PITH_ANALYSIS_MODELSUMMARY_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>
#include <vector>

namespace pith {

struct ModelSummary {
  struct Value {
    std::string name;
    std::string type;
  };
  /// Operator set versions by domain ("ai.onnx" for the default one).
  std::map<std::string, int64_t> opsets;
  int64_t irVersion = 0;
  std::string producer;
  std::string graphName;
  std::vector<Value> inputs;
  std::vector<Value> outputs;
  /// Node count by ONNX op type ("domain.Type" outside ai.onnx), subgraphs
  /// included.
  std::map<std::string, int64_t> opCounts;
  int64_t nodes = 0;
  int64_t subgraphs = 0;
  int64_t initializers = 0;
  /// Elements and bytes of all initializers.
  int64_t parameters = 0;
  int64_t parameterBytes = 0;
};

/// Summarizes a module produced by the ONNX importer.
ModelSummary summarizeModel(mlir::ModuleOp module);

/// Prints the summary as aligned, human-readable text.
void printModelSummary(const ModelSummary &summary, llvm::raw_ostream &os);

} // namespace pith

#endif // PITH_ANALYSIS_MODELSUMMARY_H
