#include "server/engine_slot.h"

#include "core/error.h"

namespace lastrank::server {

void EngineSlot::set(std::unique_ptr<RerankEngine> engine) {
  LR_CHECK(engine && !owned_, "EngineSlot::set takes one engine, once");
  owned_ = std::move(engine);
  current_.store(owned_.get(), std::memory_order_release);
}

RerankEngine& EngineSlot::get() const {
  RerankEngine* e = current_.load(std::memory_order_acquire);
  if (!e) throw ApiError(ErrorKind::unavailable, "model is loading");
  return *e;
}

void warm_up(RerankEngine& engine) {
  RerankRequest req;
  req.query = "warm-up";
  req.documents = {"warm-up"};
  engine.rerank(req, CancelToken{});
}

}  // namespace lastrank::server
