// The scale of reported scores, one rule for every front end (server responses, CLI output,
// C/C++/Python results; docs/server.md "Scores"). The engine's score is the reference's cosine
// similarity in [-1, 1] (the default, ScoreScale::cosine); ScoreScale::unit reports
// (1 + cosine) / 2 in [0, 1] for clients that expect Cohere-style [0, 1] relevance scores. The
// map is monotonic, so the order of results never changes.
#pragma once
#include <string_view>

#include "rerank/reranker.h"

namespace lastrank::api {

enum class ScoreScale { cosine, unit };

// "cosine" | "unit"; anything else throws lastrank::Error naming the accepted values.
ScoreScale parse_score_scale(std::string_view name);
const char* score_scale_name(ScoreScale scale);

// (1 + cosine) / 2.
float unit_score(float cosine);
// A score on the given scale.
float scaled_score(float cosine, ScoreScale scale);
// Rescales every result's relevance_score in place (no-op for cosine).
void apply_score_scale(RerankResponse& response, ScoreScale scale);

}  // namespace lastrank::api
