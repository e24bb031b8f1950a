// ConnectionRegistry (see connection_registry.h).
#include "server/connection_registry.h"

#include <boost/asio/post.hpp>
#include <vector>

#include "server/connection.h"

namespace lastrank::server {

size_t ConnectionRegistry::add(std::weak_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  const size_t id = next_id_++;
  live_.emplace(id, std::move(c));
  return id;
}

void ConnectionRegistry::remove(size_t id) {
  std::lock_guard lock(mu_);
  live_.erase(id);
}

size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mu_);
  return live_.size();
}

void ConnectionRegistry::drain_all() {
  std::vector<std::shared_ptr<Connection>> conns;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, weak] : live_)
      if (auto c = weak.lock()) conns.push_back(std::move(c));
  }
  // Outside the lock: dropping the last reference runs ~Connection, which calls remove().
  for (auto& c : conns) boost::asio::post(c->executor(), [c] { c->drain(); });
}

}  // namespace lastrank::server
