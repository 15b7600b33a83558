//===- Commands.h - The pith driver's subcommands ---------------*- C++ -*-===//
//
// Each subcommand of `pith` is a function over its arguments (after the
// subcommand name) returning the exit status; pith.cpp dispatches.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_TOOLS_PITH_COMMANDS_H
#define PITH_TOOLS_PITH_COMMANDS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/Twine.h"

namespace pith::driver {
/// Prints "pith: error: MESSAGE" and returns 1.
int fail(const llvm::Twine &message);

int report(llvm::ArrayRef<const char *> args);
int optimize(llvm::ArrayRef<const char *> args);
int train(llvm::ArrayRef<const char *> args);
} // namespace pith::driver

#endif // PITH_TOOLS_PITH_COMMANDS_H
