// Precision names (backend/precision.h).
#include "backend/precision.h"

#include "core/error.h"

namespace lastrank {

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::bf16: return "bf16";
    case Precision::int8: return "int8";
  }
  return "unknown";
}

const std::vector<std::string>& precision_names() {
  static const std::vector<std::string> names = {precision_name(Precision::fp32), precision_name(Precision::bf16),
                                                 precision_name(Precision::int8)};
  return names;
}

Precision parse_precision(const std::string& name) {
  for (Precision p : {Precision::fp32, Precision::bf16, Precision::int8})
    if (name == precision_name(p)) return p;
  fail("precision must be fp32, bf16 or int8, not \"", name, "\"");
}

}  // namespace lastrank
