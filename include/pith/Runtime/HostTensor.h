//===- HostTensor.h - Tensors in host memory, and their files --*- C++ -*-===//
//
// A dense row-major tensor: ONNX data type, shape and bytes. Read from and
// written to NumPy .npy files and ONNX TensorProto .pb files (as ONNX's test
// data stores inputs and outputs).
//
//===----------------------------------------------------------------------===//

#ifndef PITH_RUNTIME_HOSTTENSOR_H
#define PITH_RUNTIME_HOSTTENSOR_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pith {

struct HostTensor {
  /// ONNX TensorProto.DataType (1 = FLOAT, 7 = INT64, 9 = BOOL, ...).
  int32_t dataType = 0;
  std::vector<int64_t> shape;
  /// Row-major element bytes, little-endian; BOOL is one byte per element.
  std::vector<char> data;

  int64_t numElements() const;
};

/// A tensor somebody else owns, read in place: `bytes` bytes at `data`.
struct HostTensorRef {
  int32_t dataType = 0;
  std::vector<int64_t> shape;
  const void *data = nullptr;
  int64_t bytes = 0;
};

/// Views of owned tensors, read in place.
inline std::vector<HostTensorRef> refsOf(const std::vector<HostTensor> &tensors) {
  std::vector<HostTensorRef> refs;
  for (const HostTensor &tensor : tensors)
    refs.push_back({tensor.dataType, tensor.shape, tensor.data.data(),
                    static_cast<int64_t>(tensor.data.size())});
  return refs;
}

/// Bytes per element of an ONNX data type; 0 for strings and packed types.
unsigned byteWidthOf(int32_t dataType);

/// "float32", "int64", ... for messages.
std::string dataTypeName(int32_t dataType);

/// Reads a .npy file (C order; bool, int8-64, uint8-64, float16/32/64).
llvm::Expected<HostTensor> readNpy(llvm::StringRef path);

/// The arrays of a .npz archive (numpy.savez) by name.
llvm::Expected<std::map<std::string, HostTensor>> readNpz(llvm::StringRef path);
/// Writes a .npy file (format version 1.0); replaces `path` atomically.
llvm::Error writeNpy(llvm::StringRef path, const HostTensor &tensor);
/// Reads a serialized ONNX TensorProto (.pb).
llvm::Expected<HostTensor> readTensorProto(llvm::StringRef path);
/// Reads .npy or .pb by extension.
llvm::Expected<HostTensor> readTensorFile(llvm::StringRef path);

} // namespace pith

#endif // PITH_RUNTIME_HOSTTENSOR_H
