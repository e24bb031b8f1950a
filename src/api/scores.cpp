#include "api/scores.h"

#include "core/error.h"

namespace lastrank::api {

ScoreScale parse_score_scale(std::string_view name) {
  if (name == "cosine") return ScoreScale::cosine;
  if (name == "unit") return ScoreScale::unit;
  fail("scores must be \"cosine\" or \"unit\", not \"", name, "\"");
}

const char* score_scale_name(ScoreScale scale) { return scale == ScoreScale::unit ? "unit" : "cosine"; }

float unit_score(float cosine) { return (1.0f + cosine) * 0.5f; }

float scaled_score(float cosine, ScoreScale scale) { return scale == ScoreScale::unit ? unit_score(cosine) : cosine; }

void apply_score_scale(RerankResponse& response, ScoreScale scale) {
  if (scale == ScoreScale::cosine) return;
  for (RerankItem& item : response.results) item.relevance_score = unit_score(item.relevance_score);
}

}  // namespace lastrank::api
