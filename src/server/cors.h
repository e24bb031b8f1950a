// CORS for browser clients (--cors-allow-origin, docs/server.md "Browsers"), independent of the
// HTTP transport: the router asks cors_headers() what to add to a response. A request whose
// Origin is allowed gets Access-Control-Allow-Origin (the origin itself, or "*" when "*" is
// allowed) and the exposed response headers; a preflight (OPTIONS with
// Access-Control-Request-Method) also gets the allowed methods, headers (Authorization,
// Content-Type) and Max-Age. Any other origin gets no CORS headers, so the browser blocks the
// call. With CORS on, every response carries Vary: Origin (caches must not mix origins).
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lastrank::server {

struct CorsPolicy {
  std::vector<std::string> allowed_origins;  // "https://app.example" (scheme://host[:port]) or "*"
  bool enabled() const { return !allowed_origins.empty(); }
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Throws lastrank::Error unless origin is "*" or an origin "http(s)://host[:port]" (no path,
// no trailing slash, no spaces): the flag's check at start-up.
void check_cors_origin(std::string_view origin);

// The CORS headers of a response to a request with this Origin header ("" if none); preflight:
// the request is an OPTIONS preflight. Empty when the policy is off.
HeaderList cors_headers(const CorsPolicy& policy, std::string_view origin, bool preflight);

}  // namespace lastrank::server
