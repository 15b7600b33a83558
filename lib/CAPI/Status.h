//===- Status.h - What a PithStatus is, for the C API libraries -*- C++ -*-===//
//
// libpith_runtime.so defines pithStatusMessage/pithStatusFree; libpith.so
// creates statuses too, and both must agree on what they hold.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_CAPI_STATUS_H
#define PITH_LIB_CAPI_STATUS_H

#include <string>

struct PithStatus {
  std::string message;
};

#endif // PITH_LIB_CAPI_STATUS_H
