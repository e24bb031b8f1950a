// Error policy (docs/DEVELOPERS.md): bad input from users or files throws lastrank::Error with a
// message that says what was expected and what was found; broken internal invariants abort via
// LR_CHECK (always on, also in release builds). Never use assert() for user-reachable errors.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace lastrank {

// The one exception type thrown at library boundaries (loading files, parsing requests).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates its arguments with operator<< (g++ 12 has no <format>).
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(cat(args...));
}

[[noreturn]] void check_failed(const char* file, int line, const char* cond, const std::string& msg);

}  // namespace lastrank

// Internal invariant; prints file:line and aborts. Not for user input.
#define LR_CHECK(cond, ...)                                                              \
  do {                                                                                   \
    if (!(cond)) ::lastrank::check_failed(__FILE__, __LINE__, #cond, ::lastrank::cat("" __VA_OPT__(, ) __VA_ARGS__)); \
  } while (0)
