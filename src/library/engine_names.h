// The engine names the library facade (src/library) uses, bound before lastrank/lastrank.hpp is
// included: after it, lastrank::Reranker and lastrank::Error also name the public classes (in the
// inline namespace lastrank::v0), so the plain names of the engine's classes become ambiguous.
// A facade file includes this first, then any other engine header, then the public ones.
#pragma once
#ifdef LASTRANK_LASTRANK_HPP
#error "include library/engine_names.h before lastrank/lastrank.hpp"
#endif

#include "core/error.h"
#include "api/request.h"
#include "rerank/reranker.h"

namespace lastrank::library {

using Engine = ::lastrank::Reranker;
using EngineError = ::lastrank::Error;

}  // namespace lastrank::library
