//===- HostTensor.cpp - Tensors in host memory, and their files -----------===//

#include "pith/Runtime/HostTensor.h"

#include "pith/Proto/ONNXProto.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "onnx/onnx_pb.h"

#include <cstring>

using namespace pith;

namespace {
using T = onnx::TensorProto;

/// NumPy dtype strings (without byte order) <-> ONNX data types.
struct NpyType {
  const char *kind;
  int32_t dataType;
};
constexpr NpyType kNpyTypes[] = {
    {"f4", T::FLOAT},  {"f8", T::DOUBLE}, {"f2", T::FLOAT16}, {"i1", T::INT8},
    {"i2", T::INT16},  {"i4", T::INT32},  {"i8", T::INT64},   {"u1", T::UINT8},
    {"u2", T::UINT16}, {"u4", T::UINT32}, {"u8", T::UINT64},  {"b1", T::BOOL},
};

llvm::Error fail(llvm::StringRef path, const llvm::Twine &why) {
  return llvm::createStringError((path + ": " + why).str());
}

/// The value of `'key': value` in a .npy header dictionary.
llvm::StringRef headerField(llvm::StringRef header, llvm::StringRef key) {
  size_t at = header.find(("'" + key + "'").str());
  if (at == llvm::StringRef::npos)
    return "";
  llvm::StringRef rest = header.drop_front(at + key.size() + 2).ltrim(" :");
  if (rest.starts_with("("))
    return rest.take_until([](char c) { return c == ')'; }).drop_front();
  if (rest.starts_with("'"))
    return rest.drop_front().take_until([](char c) { return c == '\''; });
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).trim();
}
} // namespace

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

unsigned pith::byteWidthOf(int32_t dataType) {
  unsigned bits = proto::storageBitsOf(dataType);
  return bits % 8 == 0 ? bits / 8 : 0;
}

std::string pith::dataTypeName(int32_t dataType) {
  for (const NpyType &type : kNpyTypes)
    if (type.dataType == dataType) {
      std::string kind = type.kind;
      if (kind == "b1")
        return "bool";
      std::string base = kind[0] == 'f' ? "float" : kind[0] == 'u' ? "uint" : "int";
      return base + std::to_string(8 * (kind[1] - '0'));
    }
  return "ONNX data type " + std::to_string(dataType);
}

llvm::Expected<HostTensor> pith::readNpy(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (!bytes.starts_with("\x93NUMPY") || bytes.size() < 10)
    return fail(path, "not a .npy file");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = static_cast<unsigned char>(bytes[8]) |
                   (static_cast<unsigned char>(bytes[9]) << 8);
    headerStart = 10;
  } else {
    if (bytes.size() < 12)
      return fail(path, "truncated .npy header");
    headerLength = 0;
    for (int i = 0; i < 4; ++i)
      headerLength |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    headerStart = 12;
  }
  if (headerStart + headerLength > bytes.size())
    return fail(path, "truncated .npy header");
  llvm::StringRef header = bytes.substr(headerStart, headerLength);
  llvm::StringRef descr = headerField(header, "descr");
  if (headerField(header, "fortran_order") == "True")
    return fail(path, "Fortran-ordered arrays are not supported; save with C order");
  if (descr.size() != 3 || descr[0] == '>')
    return fail(path, "unsupported dtype '" + descr + "'");
  HostTensor tensor;
  for (const NpyType &type : kNpyTypes)
    if (descr.drop_front() == type.kind)
      tensor.dataType = type.dataType;
  if (!tensor.dataType)
    return fail(path, "unsupported dtype '" + descr + "'");
  llvm::SmallVector<llvm::StringRef> dims;
  headerField(header, "shape").split(dims, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef dim : dims) {
    int64_t size;
    if (dim.trim().getAsInteger(10, size) || size < 0)
      return fail(path, "malformed shape in .npy header");
    tensor.shape.push_back(size);
  }
  size_t dataBytes = tensor.numElements() * byteWidthOf(tensor.dataType);
  llvm::StringRef payload = bytes.drop_front(headerStart + headerLength);
  if (payload.size() != dataBytes)
    return fail(path, "holds " + llvm::Twine(payload.size()) + " data bytes, expected " +
                          llvm::Twine(dataBytes));
  tensor.data.assign(payload.begin(), payload.end());
  return tensor;
}

llvm::Error pith::writeNpy(llvm::StringRef path, const HostTensor &tensor) {
  const char *kind = nullptr;
  for (const NpyType &type : kNpyTypes)
    if (type.dataType == tensor.dataType)
      kind = type.kind;
  if (!kind)
    return fail(path, "cannot write " + dataTypeName(tensor.dataType) + " as .npy");
  std::string shape;
  for (int64_t d : tensor.shape)
    shape += std::to_string(d) + ", ";
  if (tensor.shape.size() > 1)
    shape.erase(shape.size() - 2);
  else if (tensor.shape.size() == 1)
    shape.pop_back();
  std::string header = std::string("{'descr': '") + (kind[0] == 'b' || kind[1] == '1' ? "|" : "<") +
                       kind + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  // Pad so that the data starts at a multiple of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    os << "\x93NUMPY" << '\x01' << '\x00';
    os << static_cast<char>(header.size() & 0xff)
       << static_cast<char>((header.size() >> 8) & 0xff);
    os << header;
    os.write(tensor.data.data(), tensor.data.size());
    return llvm::Error::success();
  });
}

llvm::Expected<HostTensor> pith::readTensorProto(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message());
  onnx::TensorProto proto;
  if (!proto.ParseFromArray((*buffer)->getBufferStart(),
                            static_cast<int>((*buffer)->getBufferSize())))
    return fail(path, "not a valid ONNX TensorProto");
  HostTensor tensor;
  tensor.dataType = proto.data_type();
  tensor.shape.assign(proto.dims().begin(), proto.dims().end());
  std::string bytes;
  if (std::string problem = proto::tensorBytes(proto, bytes); !problem.empty())
    return fail(path, problem);
  tensor.data.assign(bytes.begin(), bytes.end());
  return tensor;
}

llvm::Expected<HostTensor> pith::readTensorFile(llvm::StringRef path) {
  if (path.ends_with(".pb"))
    return readTensorProto(path);
  return readNpy(path);
}
