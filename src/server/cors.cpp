#include "server/cors.h"

#include <algorithm>

#include "core/error.h"

namespace lastrank::server {
namespace {

constexpr const char* kAllowMethods = "GET, POST, OPTIONS";
constexpr const char* kAllowHeaders = "Authorization, Content-Type, X-Request-Id";
constexpr const char* kMaxAgeSeconds = "600";
// Response headers a browser script may read besides the CORS-safelisted ones.
constexpr const char* kExposeHeaders = "X-Request-Id, x-compute-tokens, x-queue-time, x-inference-time, Retry-After";

bool allowed(const CorsPolicy& policy, std::string_view origin, bool* wildcard) {
  *wildcard = std::find(policy.allowed_origins.begin(), policy.allowed_origins.end(), "*") != policy.allowed_origins.end();
  if (origin.empty()) return false;
  return *wildcard || std::find(policy.allowed_origins.begin(), policy.allowed_origins.end(), origin) !=
                          policy.allowed_origins.end();
}

}  // namespace

void check_cors_origin(std::string_view origin) {
  if (origin == "*") return;
  std::string_view rest = origin;
  if (rest.starts_with("https://")) rest.remove_prefix(8);
  else if (rest.starts_with("http://")) rest.remove_prefix(7);
  else fail("--cors-allow-origin \"", origin, "\" must be * or an origin like https://app.example");
  const bool bad_char = std::any_of(rest.begin(), rest.end(), [](char c) {
    return c == '/' || c == ' ' || c == '\t' || c == '*' || static_cast<unsigned char>(c) < 0x20;
  });
  if (rest.empty() || bad_char)
    fail("--cors-allow-origin \"", origin, "\" must be scheme://host[:port] without a path or trailing slash");
}

HeaderList cors_headers(const CorsPolicy& policy, std::string_view origin, bool preflight) {
  HeaderList h;
  if (!policy.enabled()) return h;
  h.emplace_back("Vary", "Origin");
  bool wildcard = false;
  if (!allowed(policy, origin, &wildcard)) return h;
  h.emplace_back("Access-Control-Allow-Origin", wildcard ? std::string("*") : std::string(origin));
  if (preflight) {
    h.emplace_back("Access-Control-Allow-Methods", kAllowMethods);
    h.emplace_back("Access-Control-Allow-Headers", kAllowHeaders);
    h.emplace_back("Access-Control-Max-Age", kMaxAgeSeconds);
  } else {
    h.emplace_back("Access-Control-Expose-Headers", kExposeHeaders);
  }
  return h;
}

}  // namespace lastrank::server
