// build_id(): the loaded object's build-ID note, found with dl_iterate_phdr (build_id.h).
#include "core/build_id.h"

#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace lastrank {
namespace {

struct Search {
  uintptr_t address = 0;  // an address inside the object wanted
  std::string id;
};

// The build ID among the notes in [p, end), "" when there is none. Notes are 4-byte aligned.
std::string find_build_id_note(const uint8_t* p, const uint8_t* end) {
  auto align4 = [](size_t n) { return (n + 3) & ~size_t(3); };
  while (p + sizeof(ElfW(Nhdr)) <= end) {
    ElfW(Nhdr) h;
    std::memcpy(&h, p, sizeof h);
    const uint8_t* name = p + sizeof h;
    const uint8_t* desc = name + align4(h.n_namesz);
    if (desc + h.n_descsz > end || desc < name) return "";
    if (h.n_type == NT_GNU_BUILD_ID && h.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
      std::string hex;
      char b[3];
      for (uint32_t i = 0; i < h.n_descsz; ++i) {
        std::snprintf(b, sizeof b, "%02x", desc[i]);
        hex += b;
      }
      return hex;
    }
    p = desc + align4(h.n_descsz);
  }
  return "";
}

bool object_holds(const dl_phdr_info* info, uintptr_t address) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && address >= begin && address < begin + ph.p_memsz) return true;
  }
  return false;
}

int visit_object(dl_phdr_info* info, size_t, void* data) {
  Search& s = *static_cast<Search*>(data);
  if (!object_holds(info, s.address)) return 0;
  for (int i = 0; i < info->dlpi_phnum && s.id.empty(); ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const auto* begin = reinterpret_cast<const uint8_t*>(info->dlpi_addr + ph.p_vaddr);
    s.id = find_build_id_note(begin, begin + ph.p_memsz);
  }
  return 1;  // the object is found: stop
}

std::string read_build_id() {
  Search s;
  s.address = reinterpret_cast<uintptr_t>(&read_build_id);
  dl_iterate_phdr(visit_object, &s);
  return s.id;
}

}  // namespace

const std::string& build_id() {
  static const std::string id = read_build_id();
  return id;
}

}  // namespace lastrank
