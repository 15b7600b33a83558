//===- ModelMetadata.cpp - What a compiled model says about itself --------===//
//
// A line-based text form: `pith-model 1`, then `hash`, `arena`, and one
// `input`/`output`/`weight` line per value. Names are percent-encoded so
// that any ONNX name survives.
//
//===----------------------------------------------------------------------===//

#include "pith/Runtime/ModelMetadata.h"

#include <sstream>

using namespace pith;

namespace {
std::string encode(const std::string &name) {
  static const char *hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : name) {
    if (c <= ' ' || c == '%' || c >= 0x7f) {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out.empty() ? "%" : out;
}

std::string decode(const std::string &text) {
  if (text == "%")
    return "";
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

void writeShape(std::ostream &os, const std::vector<int64_t> &shape) {
  os << ' ' << shape.size();
  for (int64_t d : shape)
    os << ' ' << d;
}

bool readShape(std::istream &is, std::vector<int64_t> &shape) {
  size_t rank;
  if (!(is >> rank) || rank > 64)
    return false;
  shape.resize(rank);
  for (int64_t &d : shape)
    if (!(is >> d))
      return false;
  return true;
}
} // namespace

uint64_t pith::fnv1a(const void *data, uint64_t size, uint64_t hash) {
  const unsigned char *bytes = static_cast<const unsigned char *>(data);
  for (uint64_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string ModelMetadata::serialize() const {
  std::ostringstream os;
  os << "pith-model 1\nhash " << weightsHash << "\narena " << arenaBytes << "\n";
  os << "target " << target << "\ngpu-math " << gpuMath << "\n";
  for (const Value &v : inputs) {
    os << "input " << encode(v.name) << ' ' << v.dataType;
    writeShape(os, v.shape);
    os << '\n';
  }
  for (const Value &v : outputs) {
    os << "output " << encode(v.name) << ' ' << v.dataType;
    writeShape(os, v.shape);
    os << '\n';
  }
  for (const Weight &w : weights) {
    os << "weight " << encode(w.name) << ' ' << w.dataType;
    writeShape(os, w.shape);
    os << ' ' << w.offset << ' ' << w.bytes << '\n';
  }
  return os.str();
}

std::string ModelMetadata::parse(const std::string &text) {
  std::istringstream lines(text);
  std::string line;
  if (!std::getline(lines, line) || line != "pith-model 1")
    return "not a Pith model (metadata version mismatch)";
  while (std::getline(lines, line)) {
    std::istringstream is(line);
    std::string kind, name;
    is >> kind;
    bool ok = true;
    if (kind == "hash") {
      ok = static_cast<bool>(is >> weightsHash);
    } else if (kind == "arena") {
      ok = static_cast<bool>(is >> arenaBytes);
    } else if (kind == "target") {
      ok = static_cast<bool>(is >> target) && (target == "cpu" || target == "cuda");
    } else if (kind == "gpu-math") {
      ok = static_cast<bool>(is >> gpuMath);
    } else if (kind == "input" || kind == "output") {
      Value v;
      ok = (is >> name >> v.dataType) && readShape(is, v.shape);
      v.name = decode(name);
      (kind == "input" ? inputs : outputs).push_back(v);
    } else if (kind == "weight") {
      Weight w;
      ok = (is >> name >> w.dataType) && readShape(is, w.shape) &&
           (is >> w.offset >> w.bytes);
      w.name = decode(name);
      weights.push_back(w);
    } else if (!kind.empty()) {
      ok = false;
    }
    if (!ok)
      return "malformed model metadata line '" + line + "'";
  }
  return "";
}
