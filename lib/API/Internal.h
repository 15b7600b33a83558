//===- Internal.h - What the API's source files share -----------*- C++ -*-===//
//
// Internal to lib/API: the model's state behind pith::api::Model, and the
// error helpers every entry point uses.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_API_INTERNAL_H
#define PITH_LIB_API_INTERNAL_H

#include "pith/API/Pith.h"
#include "pith/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pith::api {

struct Model::Impl {
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// What names the model in messages: its path, or the name given with
  /// its bytes.
  std::string name;
  /// The pass reports since loading (the passes write them on the module;
  /// they are moved here so that export never sees them).
  std::vector<mlir::Attribute> reports;

  static std::unique_ptr<Impl> create(std::string name) {
    auto impl = std::make_unique<Impl>();
    mlir::DialectRegistry registry;
    pith::registerAllDialects(registry);
    impl->context = std::make_unique<mlir::MLIRContext>(registry);
    impl->context->loadAllAvailableDialects();
    impl->name = std::move(name);
    return impl;
  }
};

namespace detail {

inline Status failure(const llvm::Twine &message) { return Status::failure(message.str()); }

inline Status failure(llvm::Error error) { return Status::failure(llvm::toString(std::move(error))); }

/// The first line of a message (MLIR's pipeline parser adds a caret line).
inline std::string firstLine(llvm::StringRef text) { return text.trim().split('\n').first.str(); }

/// Registers Pith's passes and pipelines once per process.
inline void registerPassesOnce() {
  static std::once_flag once;
  std::call_once(once, [] { pith::registerAllPasses(); });
}

/// Where a diagnostic points, as a message says it: "node 'name'" for an
/// imported node, "file:line:col" for textual IR; empty when unknown.
inline std::string describe(mlir::Location loc) {
  if (auto name = llvm::dyn_cast<mlir::NameLoc>(loc))
    return "node '" + name.getName().str() + "'";
  if (auto file = llvm::dyn_cast<mlir::FileLineColLoc>(loc))
    return llvm::formatv("{0}:{1}:{2}", file.getFilename().getValue(), file.getLine(),
                         file.getColumn());
  if (auto fused = llvm::dyn_cast<mlir::FusedLoc>(loc))
    for (mlir::Location part : fused.getLocations())
      if (std::string text = describe(part); !text.empty())
        return text;
  return "";
}

/// Collects the first error MLIR reports while it is in scope, instead of
/// printing it, with the location that names the node.
class FirstError {
public:
  explicit FirstError(mlir::MLIRContext *context)
      : handler(context, [this](mlir::Diagnostic &diagnostic) {
          if (diagnostic.getSeverity() == mlir::DiagnosticSeverity::Error && message.empty()) {
            std::string where = describe(diagnostic.getLocation());
            message = firstLine((where.empty() ? "" : where + ": ") + diagnostic.str());
            return mlir::success();
          }
          // Warnings and remarks go on to the default handler.
          return mlir::failure();
        }) {}
  const std::string &get() const { return message; }

private:
  std::string message;
  mlir::ScopedDiagnosticHandler handler;
};

/// The model's main graph (the first function with a body).
inline mlir::func::FuncOp graphOf(mlir::ModuleOp module) {
  for (auto func : module.getOps<mlir::func::FuncOp>())
    if (!func.isExternal())
      return func;
  return nullptr;
}

} // namespace detail
} // namespace pith::api

#endif // PITH_LIB_API_INTERNAL_H
