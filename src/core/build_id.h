// The GNU build ID of the binary this code runs in (the executable, liblastrank.so or the Python
// module): the linker's hash of the linked output, so two builds of different code differ. Caches
// of computed values put it in their key (io/cache_through.h, build_cache_key_preamble), which the
// lastrank version alone does not make safe during development.
#pragma once
#include <string>

namespace lastrank {

// Lower-case hex of the NT_GNU_BUILD_ID note of the loaded object that holds this function, read
// from memory (not from the file, which may have been replaced since it was loaded); "" when the
// object has none (a linker run without --build-id; CMakeLists.txt passes it).
const std::string& build_id();

}  // namespace lastrank
