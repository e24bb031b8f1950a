// checkpoint_identity: a hash of the safetensors headers and sampled tensor bytes.
#include "model/checkpoint_identity.h"

#include <cstdio>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "io/mmap_file.h"

namespace lastrank {
namespace {

class Hasher {
 public:
  Hasher() { XXH3_128bits_reset(&state_); }
  void bytes(const void* p, size_t n) { XXH3_128bits_update(&state_, p, n); }
  void u64(uint64_t v) { bytes(&v, sizeof v); }
  void str(const std::string& s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
  std::string hex() {
    const XXH128_hash_t h = XXH3_128bits_digest(&state_);
    char out[33];
    std::snprintf(out, sizeof out, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return out;
  }

 private:
  XXH3_state_t state_;
};

// The file's size and its header (8-byte length + JSON; validated when the archive was opened).
// Other files of the archive (aligned copies of tensors) hash their first 64 bytes.
void hash_file(Hasher& h, const MappedFile& f) {
  uint64_t n = 64;
  if (f.size() >= 8) {
    std::memcpy(&n, f.data(), 8);
    n = n <= f.size() - 8 ? n + 8 : 64;
  }
  h.u64(f.size());
  h.bytes(f.data(), std::min<uint64_t>(n, f.size()));
}

void hash_tensor(Hasher& h, const TensorView& v) {
  h.str(v.name);
  h.u64(uint64_t(v.dtype));
  for (int i = 0; i < 4; ++i) h.u64(uint64_t(i < v.rank ? v.shape[size_t(i)] : -1));
  const size_t n = v.nbytes(), w = 64;
  const uint8_t* p = static_cast<const uint8_t*>(v.data);
  if (n <= w * kIdentitySamples) return h.bytes(p, n);
  for (int s = 0; s < kIdentitySamples; ++s) h.bytes(p + (n - w) * size_t(s) / (kIdentitySamples - 1), w);
}

}  // namespace

std::string checkpoint_identity(const SafetensorsArchive& archive) {
  Hasher h;
  for (const auto& f : archive.files()) hash_file(h, *f);
  for (const auto& [name, v] : archive.tensors()) hash_tensor(h, v);
  return h.hex();
}

}  // namespace lastrank
