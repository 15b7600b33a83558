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
  if (dataType == 16) // no .npy kind of its own
    return "bfloat16";
  return "ONNX data type " + std::to_string(dataType);
}

/// Parses the bytes of a .npy file; `path` names it in errors.
static llvm::Expected<HostTensor> parseNpy(llvm::StringRef path, llvm::StringRef bytes) {
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

llvm::Expected<HostTensor> pith::readNpy(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message());
  return parseNpy(path, (*buffer)->getBuffer());
}

static uint32_t le32(llvm::StringRef bytes, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}
static uint16_t le16(llvm::StringRef bytes, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(bytes[at]) |
                               (static_cast<unsigned char>(bytes[at + 1]) << 8));
}

llvm::Expected<std::map<std::string, HostTensor>> pith::readNpz(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  std::map<std::string, HostTensor> arrays;
  // A .npz file is a zip archive of .npy files: walk its local file headers.
  size_t at = 0;
  while (at + 30 <= bytes.size() && le32(bytes, at) == 0x04034b50) {
    uint16_t flags = le16(bytes, at + 6), method = le16(bytes, at + 8);
    uint32_t size = le32(bytes, at + 18);
    uint16_t nameLength = le16(bytes, at + 26), extraLength = le16(bytes, at + 28);
    llvm::StringRef name = bytes.substr(at + 30, nameLength);
    size_t dataStart = at + 30 + nameLength + extraLength;
    // numpy writes ZIP64 extras with sizes of 0xFFFFFFFF for large members.
    if (size == 0xFFFFFFFFu && extraLength >= 20 && le16(bytes, at + 30 + nameLength) == 1)
      size = le32(bytes, at + 30 + nameLength + 4 + 8);
    if (method != 0)
      return fail(path, "member '" + name + "' is compressed; save with numpy.savez, "
                        "not savez_compressed");
    if (flags & 0x8)
      return fail(path, "member '" + name + "' has no size in its header");
    if (dataStart + size > bytes.size())
      return fail(path, "truncated archive");
    if (!name.consume_back(".npy"))
      return fail(path, "member '" + name + "' is not a .npy array");
    auto tensor = parseNpy((path + ":" + name).str(), bytes.substr(dataStart, size));
    if (!tensor)
      return tensor.takeError();
    arrays[name.str()] = std::move(*tensor);
    at = dataStart + size;
  }
  if (arrays.empty())
    return fail(path, "not a .npz archive of arrays");
  return arrays;
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
