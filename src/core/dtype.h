// Element types of tensors in checkpoints and in the engine, and scalar conversions.
// bf16/f16 -> f32 conversions are exact; f32 -> bf16 rounds to nearest even (as torch does).
#pragma once
#include <cstdint>
#include <cstring>
#include <string_view>
#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace lastrank {

enum class DType : uint8_t { F32, F16, BF16, I8, I32 };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::I8: return 1;
    case DType::I32: return 4;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I8: return "I8";
    case DType::I32: return "I32";
  }
  return "?";
}

inline float bf16_to_f32(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Round to nearest even; NaN stays NaN (quiet).
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

inline float round_to_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }

// Portable f16 <-> f32 (round to nearest even; NaN stays NaN with its top payload bits, quieted, as
// F16C does): the baseline of a portable build under clang 14, which has no _Float16 on x86.
inline float f16_to_f32_soft(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in fp32
    const float v = float(mant) * 0x1p-24f;
    std::memcpy(&bits, &v, 4);
    bits |= sign;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13) | (mant ? 0x00400000u : 0u);  // inf, or a quiet NaN
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline uint16_t f32_to_f16_soft(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  x &= 0x7fffffffu;
  uint32_t o;
  if (x > 0x7f800000u) {
    o = 0x7e00u | ((x >> 13) & 0x3ffu);  // NaN
  } else if (x >= 0x47800000u) {
    o = 0x7c00u;  // >= 65536 (and inf): inf
  } else if (x < 0x38800000u) {
    // Below the smallest normal half (2^-14): adding 0.5 makes the fp32 adder round the value to a
    // multiple of 2^-24 (nearest even), which lands in the low mantissa bits.
    float v;
    std::memcpy(&v, &x, 4);
    v += 0.5f;
    uint32_t b;
    std::memcpy(&b, &v, 4);
    o = b - 0x3f000000u;
  } else {
    const uint32_t odd = (x >> 13) & 1u;
    o = (x + 0xc8000fffu + odd) >> 13;  // rebias (-112 << 23) and round to nearest even; may carry to inf
  }
  return uint16_t(o | sign);
}

#if defined(__F16C__)
// Hardware conversions (round to nearest even), identical to the portable ones.
inline float f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }
inline uint16_t f32_to_f16(float f) { return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT)); }
#elif defined(__aarch64__)
// ARM's half type (IEEE binary16 on AArch64; fcvt rounds to nearest even). GCC 12 has no
// _Float16 in C++ on AArch64.
inline float f16_to_f32(uint16_t h) {
  __fp16 v;
  std::memcpy(&v, &h, 2);
  return float(v);
}

inline uint16_t f32_to_f16(float f) {
  __fp16 v = __fp16(f);
  uint16_t h;
  std::memcpy(&h, &v, 2);
  return h;
}
#elif defined(__FLT16_MAX__)
inline float f16_to_f32(uint16_t h) {
  _Float16 v;
  std::memcpy(&v, &h, 2);
  return float(v);
}
inline uint16_t f32_to_f16(float f) {
  _Float16 v = _Float16(f);
  uint16_t h;
  std::memcpy(&h, &v, 2);
  return h;
}
#else
inline float f16_to_f32(uint16_t h) { return f16_to_f32_soft(h); }
inline uint16_t f32_to_f16(float f) { return f32_to_f16_soft(f); }
#endif

}  // namespace lastrank
