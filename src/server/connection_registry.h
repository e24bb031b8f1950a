// The live connections of the server, for the --max-connections cap and for draining them all
// on shutdown. Thread-safe; holds weak references only (a connection owns itself through its
// pending operations).
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace lastrank::server {

class Connection;

class ConnectionRegistry {
 public:
  size_t add(std::weak_ptr<Connection> c);  // returns its id (never 0)
  void remove(size_t id);
  size_t size() const;
  // Posts Connection::drain to every live connection's strand.
  void drain_all();

 private:
  mutable std::mutex mu_;
  size_t next_id_ = 1;
  std::unordered_map<size_t, std::weak_ptr<Connection>> live_;
};

}  // namespace lastrank::server
