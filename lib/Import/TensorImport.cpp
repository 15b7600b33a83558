//===- TensorImport.cpp - ONNX TensorProto -> MLIR elements attribute -----===//
//
// Tensors become dense_resource blobs that take over the bytes protobuf read
// (no copy) or map the external-data file, or small DenseElementsAttrs when
// they are short node attributes that a reader of the IR wants to see.
//
//===----------------------------------------------------------------------===//

#include "TensorImport.h"

#include "ONNX/ONNXDialect.h"
#include "pith/Proto/ONNXProto.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "onnx/onnx_pb.h"

#include <cstring>

using namespace mlir;
using namespace pith;

namespace {
/// Alignment of the blobs Pith creates: enough for any element type and for
/// vector loads of the data.
constexpr size_t kBlobAlignment = 16;

/// A blob that owns a heap string protobuf filled, without copying it.
AsmResourceBlob blobFromString(std::unique_ptr<std::string> bytes) {
  if (reinterpret_cast<uintptr_t>(bytes->data()) % kBlobAlignment != 0)
    return HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(bytes->data(), bytes->size()), kBlobAlignment);
  ArrayRef<char> data(bytes->data(), bytes->size());
  return AsmResourceBlob(
      data, kBlobAlignment,
      [owned = std::move(bytes)](void *, size_t, size_t) mutable {
        owned.reset();
      },
      /*dataIsMutable=*/true);
}

/// A blob over a mapped slice of an external-data file.
AsmResourceBlob blobFromBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  ArrayRef<char> data(buffer->getBufferStart(), buffer->getBufferSize());
  if (reinterpret_cast<uintptr_t>(data.data()) % kBlobAlignment != 0)
    return HeapAsmResourceBlob::allocateAndCopyWithAlign(data, kBlobAlignment);
  return AsmResourceBlob(
      data, kBlobAlignment,
      [owned = std::move(buffer)](void *, size_t, size_t) mutable {
        owned.reset();
      },
      /*dataIsMutable=*/false);
}

/// Resource keys are printed bare in MLIR text; keep them identifier-like.
std::string resourceKey(llvm::StringRef name) {
  std::string key;
  for (char c : name)
    key += (llvm::isAlnum(c) || c == '_' || c == '.') ? c : '_';
  if (key.empty() || llvm::isDigit(key[0]) || key[0] == '.')
    key.insert(0, "t_");
  return key;
}
} // namespace

llvm::Expected<ShapedType>
pith::importTensorType(const onnx::TensorProto &tensor, MLIRContext *context) {
  Type elementType = proto::elementTypeFromONNX(tensor.data_type(), context);
  if (!elementType)
    return llvm::createStringError("tensor '" + tensor.name() +
                                   "' has unsupported data type " +
                                   std::to_string(tensor.data_type()));
  SmallVector<int64_t> shape;
  for (int64_t dim : tensor.dims()) {
    if (dim < 0)
      return llvm::createStringError("tensor '" + tensor.name() +
                                     "' has negative dimension " +
                                     std::to_string(dim));
    shape.push_back(dim);
  }
  return RankedTensorType::get(shape, elementType);
}

/// Reads the bytes of an external-data tensor: the file is resolved relative
/// to the model's directory and must stay inside it.
static llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readExternalData(const onnx::TensorProto &tensor,
                 llvm::StringRef baseDirectory) {
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      offset = std::strtoull(entry.value().c_str(), nullptr, 10);
    else if (entry.key() == "length")
      length = std::strtoull(entry.value().c_str(), nullptr, 10);
  }
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError("tensor '" + tensor.name() +
                                   "': external data '" + location + "' " + why);
  };
  if (location.empty())
    return fail("has no location");
  if (baseDirectory.empty())
    return fail("cannot be resolved: the model was not read from a file");
  if (llvm::sys::path::is_absolute(location))
    return fail("is an absolute path; it must be relative to the model");
  llvm::SmallString<256> realBase, realPath, joined(baseDirectory);
  llvm::sys::path::append(joined, location);
  if (llvm::sys::fs::real_path(baseDirectory, realBase) ||
      llvm::sys::fs::real_path(joined, realPath))
    return fail("not found");
  llvm::StringRef resolved(realPath);
  if (!resolved.starts_with(realBase) ||
      (resolved.size() > realBase.size() &&
       !llvm::sys::path::is_separator(resolved[realBase.size()])))
    return fail("escapes the model's directory");
  uint64_t fileSize = 0;
  if (llvm::sys::fs::file_size(realPath, fileSize) ||
      !llvm::sys::fs::is_regular_file(realPath))
    return fail("is not a readable file");
  uint64_t size = length.value_or(fileSize >= offset ? fileSize - offset : 0);
  if (offset > fileSize || size > fileSize - offset)
    return fail("range [" + llvm::Twine(offset) + ", " +
                llvm::Twine(offset + size) + ") lies beyond the file's " +
                llvm::Twine(fileSize) + " bytes");
  auto buffer = llvm::MemoryBuffer::getFileSlice(realPath, size, offset,
                                                 /*IsVolatile=*/false);
  if (!buffer)
    return fail("cannot be read: " + buffer.getError().message());
  return std::move(*buffer);
}

llvm::Expected<ElementsAttr>
pith::importTensor(onnx::TensorProto &tensor, const TensorImportContext &ctx,
                   bool forceResource) {
  auto typeOr = importTensorType(tensor, ctx.context);
  if (!typeOr)
    return typeOr.takeError();
  ShapedType type = *typeOr;
  int64_t numElements = type.getNumElements();

  if (tensor.data_type() == onnx::TensorProto::STRING) {
    if (tensor.string_data_size() != numElements)
      return llvm::createStringError(
          "tensor '" + tensor.name() + "' has " +
          std::to_string(tensor.string_data_size()) + " strings for " +
          std::to_string(numElements) + " elements");
    SmallVector<StringRef> strings(tensor.string_data().begin(),
                                   tensor.string_data().end());
    return DenseStringElementsAttr::get(type, strings);
  }

  unsigned bits = proto::storageBitsOf(tensor.data_type());
  uint64_t expectedBytes = (numElements * bits + 7) / 8;
  AsmResourceBlob blob;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    auto buffer = readExternalData(tensor, ctx.baseDirectory);
    if (!buffer)
      return buffer.takeError();
    if ((*buffer)->getBufferSize() != expectedBytes)
      return llvm::createStringError(
          "tensor '" + tensor.name() + "': external data has " +
          std::to_string((*buffer)->getBufferSize()) + " bytes, expected " +
          std::to_string(expectedBytes));
    blob = blobFromBuffer(std::move(*buffer));
  } else {
    std::unique_ptr<std::string> bytes;
    if (tensor.has_raw_data())
      bytes.reset(tensor.release_raw_data());
    else
      bytes = std::make_unique<std::string>(proto::typedFieldsToBytes(tensor));
    if (bytes->size() != expectedBytes)
      return llvm::createStringError(
          "tensor '" + tensor.name() + "' holds " +
          std::to_string(bytes->size()) + " bytes of data, expected " +
          std::to_string(expectedBytes));
    // Short node attributes stay readable in the IR. DenseElementsAttr
    // stores i1 and sub-byte types differently from ONNX; those stay blobs.
    bool byteAligned = bits % 8 == 0 && !type.getElementType().isInteger(1);
    if (!forceResource && byteAligned &&
        numElements <= ctx.inlineElementLimit)
      return DenseElementsAttr::getFromRawBuffer(
          type, ArrayRef<char>(bytes->data(), bytes->size()));
    if (!forceResource && type.getElementType().isInteger(1) &&
        numElements <= ctx.inlineElementLimit) {
      SmallVector<bool> values(bytes->begin(), bytes->end());
      return DenseElementsAttr::get(type, ArrayRef<bool>(values));
    }
    blob = blobFromString(std::move(bytes));
  }
  std::string key = resourceKey(tensor.name().empty() ? ctx.fallbackName
                                                      : tensor.name());
  return DenseResourceElementsAttr::get(type, key, std::move(blob));
}
