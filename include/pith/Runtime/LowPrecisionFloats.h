//===- LowPrecisionFloats.h - f32 to f16 / bf16 and back ---------*- C++ -*-===//
//
// Rounding f32 to the two 16-bit float formats, bit-exact with IEEE
// round-to-nearest-even (what numpy's astype and the hardware's conversion
// instructions do), fast enough to run over every weight of a model and
// every calibration activation; the CPU kernels widen with the same code
// where the hardware has no conversion instruction.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_RUNTIME_LOWPRECISIONFLOATS_H
#define PITH_RUNTIME_LOWPRECISIONFLOATS_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace pith {

enum class LowFloat { F16, BF16 };

/// Largest finite value of the format.
inline double maxFinite(LowFloat format) {
  return format == LowFloat::F16 ? 65504.0 : 3.3895313892515355e38;
}

/// Unit roundoff 2^-p, p the significand's bits with the implicit one.
inline double unitRoundoff(LowFloat format) {
  return format == LowFloat::F16 ? 0x1p-11 : 0x1p-8;
}

inline uint16_t toF16Bits(float value) {
  uint32_t x;
  std::memcpy(&x, &value, sizeof x);
  uint32_t sign = (x >> 16) & 0x8000, magnitude = x & 0x7fffffff;
  if (magnitude >= 0x7f800000) // inf, nan (kept quiet)
    return sign | 0x7c00 | (magnitude > 0x7f800000 ? 0x200 : 0);
  if (magnitude >= 0x477ff000) // 65520 and above round to inf
    return sign | 0x7c00;
  if (magnitude < 0x38800000) { // below 2^-14: a subnormal in steps of 2^-24
    float a;
    std::memcpy(&a, &magnitude, sizeof a);
    return sign | static_cast<uint16_t>(std::nearbyint(a * 0x1p24f));
  }
  uint32_t bits = ((magnitude >> 23) - 112) << 10 | ((magnitude >> 13) & 0x3ff);
  uint32_t rest = magnitude & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (bits & 1)))
    ++bits; // a carry into the exponent is the correct next value
  return sign | bits;
}

inline float fromF16Bits(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exponent = (h >> 10) & 0x1f,
           mantissa = h & 0x3ff;
  if (exponent == 0) {
    float magnitude = mantissa * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  uint32_t x = sign | (exponent == 31 ? 0x7f800000 | mantissa << 13
                                      : (exponent + 112) << 23 | mantissa << 13);
  float value;
  std::memcpy(&value, &x, sizeof value);
  return value;
}

inline uint16_t toBF16Bits(float value) {
  uint32_t x;
  std::memcpy(&x, &value, sizeof x);
  if ((x & 0x7fffffff) > 0x7f800000)
    return (x >> 16) | 0x40;
  return (x + 0x7fff + ((x >> 16) & 1)) >> 16;
}

inline float fromBF16Bits(uint16_t b) {
  uint32_t x = uint32_t(b) << 16;
  float value;
  std::memcpy(&value, &x, sizeof value);
  return value;
}

inline uint16_t toBits(LowFloat format, float value) {
  return format == LowFloat::F16 ? toF16Bits(value) : toBF16Bits(value);
}

inline float fromBits(LowFloat format, uint16_t bits) {
  return format == LowFloat::F16 ? fromF16Bits(bits) : fromBF16Bits(bits);
}

} // namespace pith

#endif // PITH_RUNTIME_LOWPRECISIONFLOATS_H
