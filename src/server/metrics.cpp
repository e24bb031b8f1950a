// Prometheus text rendering of the counters kept by Metrics (see metrics.h).
#include "server/metrics.h"

#include <sstream>

namespace lastrank::server {
namespace {

std::string num(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

std::string with(const std::string& labels, const std::string& extra) {
  if (labels.empty()) return "{" + extra + "}";
  return "{" + labels + "," + extra + "}";
}

}  // namespace

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < kBounds.size() && v > kBounds[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  uint64_t cum = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket" + with(labels, "le=\"" + num(kBounds[i]) + "\"") + " " + std::to_string(cum) + "\n";
  }
  cum += counts_[kBounds.size()];
  out += name + "_bucket" + with(labels, "le=\"+Inf\"") + " " + std::to_string(cum) + "\n";
  const std::string l = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + l + " " + num(sum_) + "\n";
  out += name + "_count" + l + " " + std::to_string(count_) + "\n";
}

void Metrics::record_request(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  latency_[route].observe(seconds);
}

void Metrics::record_compute(double queue_s, double compute_s, int64_t tokens, size_t documents) {
  std::lock_guard lock(mu_);
  queue_wait_.observe(queue_s);
  compute_.observe(compute_s);
  tokens_ += uint64_t(tokens > 0 ? tokens : 0);
  documents_ += documents;
  ++computed_;
}

void Metrics::record_cancelled(CancelReason reason) {
  std::lock_guard lock(mu_);
  ++cancelled_[reason];
}

void Metrics::add_in_flight(int delta) {
  std::lock_guard lock(mu_);
  in_flight_ += delta;
}

std::string Metrics::render(size_t queue_depth, bool computing) const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP lastrank_requests_total HTTP requests by route and status.\n# TYPE lastrank_requests_total counter\n";
  for (const auto& [k, v] : requests_)
    out += "lastrank_requests_total{route=\"" + k.first + "\",status=\"" + std::to_string(k.second) + "\"} " +
           std::to_string(v) + "\n";
  out += "# HELP lastrank_request_duration_seconds End-to-end request latency by route.\n"
         "# TYPE lastrank_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) h.render(out, "lastrank_request_duration_seconds", "route=\"" + route + "\"");
  out += "# HELP lastrank_queue_wait_seconds Time a rerank waited for the compute thread.\n"
         "# TYPE lastrank_queue_wait_seconds histogram\n";
  queue_wait_.render(out, "lastrank_queue_wait_seconds", "");
  out += "# HELP lastrank_compute_seconds Engine time per rerank.\n# TYPE lastrank_compute_seconds histogram\n";
  compute_.render(out, "lastrank_compute_seconds", "");
  out += "# HELP lastrank_reranks_total Reranks computed by the engine.\n# TYPE lastrank_reranks_total counter\n";
  out += "lastrank_reranks_total " + std::to_string(computed_) + "\n";
  out += "# HELP lastrank_requests_cancelled_total Reranks given up before they finished (left the queue or "
         "stopped computing), by reason.\n# TYPE lastrank_requests_cancelled_total counter\n";
  for (CancelReason r : {CancelReason::client_gone, CancelReason::deadline, CancelReason::shutdown}) {
    const auto it = cancelled_.find(r);
    out += "lastrank_requests_cancelled_total{reason=\"" + std::string(cancel_reason_name(r)) + "\"} " +
           std::to_string(it == cancelled_.end() ? 0 : it->second) + "\n";
  }
  out += "# HELP lastrank_tokens_total Prompt tokens processed.\n# TYPE lastrank_tokens_total counter\n";
  out += "lastrank_tokens_total " + std::to_string(tokens_) + "\n";
  out += "# HELP lastrank_documents_total Documents reranked.\n# TYPE lastrank_documents_total counter\n";
  out += "lastrank_documents_total " + std::to_string(documents_) + "\n";
  out += "# HELP lastrank_queue_depth Reranks waiting for the compute thread.\n# TYPE lastrank_queue_depth gauge\n";
  out += "lastrank_queue_depth " + std::to_string(queue_depth) + "\n";
  out += "# HELP lastrank_computing 1 while the engine runs a rerank.\n# TYPE lastrank_computing gauge\n";
  out += "lastrank_computing " + std::string(computing ? "1" : "0") + "\n";
  out += "# HELP lastrank_in_flight HTTP requests being handled.\n# TYPE lastrank_in_flight gauge\n";
  out += "lastrank_in_flight " + std::to_string(in_flight_) + "\n";
  return out;
}

}  // namespace lastrank::server
