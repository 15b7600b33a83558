//===- TensorData.cpp - The bytes of an ONNX TensorProto ------------------===//
//
// ONNX stores tensor data either as raw little-endian bytes or in typed
// repeated fields (float_data, int32_data carrying 8- and 16-bit types, ...).
// These functions give the raw form either way.
//
//===----------------------------------------------------------------------===//

#include "pith/Proto/ONNXProto.h"

#include "onnx/onnx_pb.h"

#include <cstring>

namespace {
/// Packs ONNX's typed repeated fields into little-endian raw bytes.
template <typename From, typename To>
void appendAs(const google::protobuf::RepeatedField<From> &values,
              std::string &bytes) {
  size_t offset = bytes.size();
  bytes.resize(offset + values.size() * sizeof(To));
  for (int i = 0; i < values.size(); ++i) {
    To value = static_cast<To>(values.Get(i));
    std::memcpy(&bytes[offset + i * sizeof(To)], &value, sizeof(To));
  }
}

/// int32_data carries 8- and 16-bit types one element per entry, and packed
/// 4-bit types two per entry.
void int32DataToBytes(const onnx::TensorProto &tensor, unsigned bits,
                      std::string &bytes) {
  const auto &values = tensor.int32_data();
  if (bits == 16)
    return appendAs<int32_t, uint16_t>(values, bytes);
  if (bits == 32)
    return appendAs<int32_t, int32_t>(values, bytes);
  return appendAs<int32_t, uint8_t>(values, bytes);
}

} // namespace

std::string pith::proto::typedFieldsToBytes(const onnx::TensorProto &tensor) {
  unsigned bits = storageBitsOf(tensor.data_type());
  using T = onnx::TensorProto;
  std::string bytes;
  switch (tensor.data_type()) {
  case T::FLOAT:
  case T::COMPLEX64:
    appendAs<float, float>(tensor.float_data(), bytes);
    break;
  case T::DOUBLE:
  case T::COMPLEX128:
    appendAs<double, double>(tensor.double_data(), bytes);
    break;
  case T::INT64:
    appendAs<int64_t, int64_t>(tensor.int64_data(), bytes);
    break;
  case T::UINT32:
    appendAs<uint64_t, uint32_t>(tensor.uint64_data(), bytes);
    break;
  case T::UINT64:
    appendAs<uint64_t, uint64_t>(tensor.uint64_data(), bytes);
    break;
  default:
    int32DataToBytes(tensor, bits, bytes);
    break;
  }
  return bytes;
}


std::string pith::proto::tensorBytes(const onnx::TensorProto &tensor,
                                     std::string &bytes) {
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL)
    return "tensor '" + tensor.name() + "' has external data";
  if (tensor.data_type() == onnx::TensorProto::STRING)
    return "string tensors have no raw bytes";
  unsigned bits = storageBitsOf(tensor.data_type());
  if (!bits)
    return "unsupported data type " + std::to_string(tensor.data_type());
  bytes = tensor.has_raw_data() ? tensor.raw_data() : typedFieldsToBytes(tensor);
  int64_t elements = 1;
  for (int64_t dim : tensor.dims())
    elements *= dim;
  uint64_t expected = (elements * bits + 7) / 8;
  if (bytes.size() != expected)
    return "holds " + std::to_string(bytes.size()) + " bytes of data, expected " +
           std::to_string(expected);
  return "";
}
