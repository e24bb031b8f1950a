// The backend registry: one line per backend folder. This file (and tests) may include a
// backend's own header; the model and everything above it see only backend/backend.h.
#include "backend/backend.h"

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/kernel_dispatch.h"
#include "core/error.h"

namespace lastrank {
namespace {

struct Entry {
  const char* name;
  std::unique_ptr<Backend> (*make)(const BackendOptions&);
  std::string (*kernel_report)();  // kernel_set_report()'s lines for this backend
};

std::unique_ptr<Backend> make_cpu(const BackendOptions& o) {
  cpu::CpuBackendOptions c;
  c.threads = o.threads;
  c.reference = o.reference_kernels;
  return cpu::make_cpu_backend(c);
}

constexpr Entry kBackends[] = {
    {"cpu", make_cpu, cpu::kernel_set_summary},
};

}  // namespace

const std::vector<std::string>& backend_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const Entry& e : kBackends) n.push_back(e.name);
    return n;
  }();
  return names;
}

std::string kernel_set_report() {
  std::string out;
  for (const Entry& e : kBackends) out += (out.empty() ? "" : "\n") + e.kernel_report();
  return out;
}

std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& opt) {
  for (const Entry& e : kBackends)
    if (name == e.name) return e.make(opt);
  std::string known;
  for (const std::string& n : backend_names()) known += (known.empty() ? "" : ", ") + n;
  fail("backend must be one of ", known, ", not \"", name, "\"");
}

}  // namespace lastrank
