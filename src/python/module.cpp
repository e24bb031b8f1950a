// The extension module lastrank._lastrank: the C++ API (include/lastrank/lastrank.hpp) for the
// pure-Python package (python/lastrank/__init__.py, which shapes the results). Requests are checked
// by library::check_request, i.e. with the CLI's rules and messages; a field of the wrong type raises
// TypeError, a bad value ValueError, a bad model lastrank.ModelError. The GIL is released while a
// model loads or computes; calls on one model are serialized by the C++ API's mutex.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>

#include "library/request_check.h"
#include "lastrank/lastrank.hpp"

namespace py = pybind11;

namespace {

// An integer argument (int or any __index__ type, not bool), saturated to [INT64_MIN, UINT64_MAX].
std::optional<nlohmann::json> integer(py::handle o) {
  if (py::isinstance<py::bool_>(o) || !PyIndex_Check(o.ptr())) return std::nullopt;
  py::int_ i = py::reinterpret_steal<py::int_>(PyNumber_Index(o.ptr()));
  if (!i) throw py::error_already_set();
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (overflow == 0) return nlohmann::json(int64_t(v));
  if (overflow < 0) return nlohmann::json(INT64_MIN);
  const unsigned long long u = PyLong_AsUnsignedLongLong(i.ptr());
  if (PyErr_Occurred()) {
    PyErr_Clear();
    return nlohmann::json(UINT64_MAX);
  }
  return nlohmann::json(uint64_t(u));
}

// A str as UTF-8; a lone surrogate raises Python's UnicodeEncodeError (a ValueError).
std::string utf8(py::handle str) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(str.ptr(), &size);
  if (!data) throw py::error_already_set();
  return std::string(data, size_t(size));
}

// A Python value as the JSON value of the same kind, so check_request gives the CLI's message for
// a wrong type: a list or tuple becomes an array, anything else {} (an object without "text");
// every field rejects both.
nlohmann::json scalar(py::handle o) {
  if (o.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(o)) return o.cast<bool>();
  if (auto i = integer(o)) return *i;
  if (py::isinstance<py::float_>(o)) return o.cast<double>();
  if (py::isinstance<py::str>(o)) return utf8(o);
  if (py::isinstance<py::list>(o) || py::isinstance<py::tuple>(o)) return nlohmann::json::array();
  return nlohmann::json::object();
}

// A query or document: a str, or (as in a Jina request) a dict with a str "text".
nlohmann::json text_item(py::handle o) {
  if (!py::isinstance<py::dict>(o)) return scalar(o);
  py::dict d = py::reinterpret_borrow<py::dict>(o);
  if (!d.contains("text")) return nlohmann::json::object();
  return {{"text", scalar(d["text"])}};
}

// documents: a list or tuple of text items.
nlohmann::json text_list(py::handle o) {
  if (!py::isinstance<py::list>(o) && !py::isinstance<py::tuple>(o)) return text_item(o);
  nlohmann::json a = nlohmann::json::array();
  for (py::handle item : o) a.push_back(text_item(item));
  return a;
}

std::optional<size_t> length(py::handle o, const char* name) {
  if (o.is_none()) return std::nullopt;
  auto i = integer(o);
  if (!i) throw py::type_error(std::string(name) + " must be an integer");
  if (i->is_number_unsigned()) return size_t(i->get<uint64_t>());
  return size_t(std::max<int64_t>(0, i->get<int64_t>()));  // 0: the C++ API says "must be at least 1"
}

// (scores in input order, order best first with top_n applied, embeddings as float32 bytes or
// None, embedding_dim, total_tokens)
py::tuple rerank(const lastrank::Reranker& model, py::handle query, py::handle documents, py::handle top_n,
                 py::handle return_embeddings, py::handle max_query_length, py::handle max_doc_length,
                 py::handle instruction, py::handle max_chunks_per_doc) {
  const nlohmann::json body = {{"query", text_item(query)},
                               {"documents", text_list(documents)},
                               {"top_n", scalar(top_n)},
                               {"return_embeddings", scalar(return_embeddings)},
                               {"instruction", scalar(instruction)},
                               {"max_chunks_per_doc", scalar(max_chunks_per_doc)}};
  lastrank::library::CheckedRequest req = lastrank::library::check_request(body);
  lastrank::RerankParams params;
  params.top_n = req.top_n;
  params.instruction = std::move(req.instruction);
  params.return_embeddings = req.return_embeddings;
  params.max_chunks_per_doc = req.max_chunks_per_doc;
  params.max_query_length = length(max_query_length, "max_query_length");
  params.max_doc_length = length(max_doc_length, "max_doc_length");
  lastrank::Ranking r;
  {
    py::gil_scoped_release unlocked;
    r = model.rerank(req.query, req.documents, params);
  }
  py::object embeddings = py::none();
  if (params.return_embeddings)
    embeddings = py::bytes(reinterpret_cast<const char*>(r.embeddings.data()), r.embeddings.size() * sizeof(float));
  return py::make_tuple(r.scores, r.order, embeddings, r.embedding_dim, r.total_tokens);
}

py::dict info(const lastrank::Reranker& model) {
  const lastrank::Info i = model.info();
  py::dict d;
  d["version"] = i.version;
  d["precision"] = i.precision;
  d["kernel_set"] = i.kernel_set;
  d["threads"] = i.threads;
  d["hidden_size"] = i.hidden_size;
  d["num_layers"] = i.num_layers;
  d["embedding_dim"] = i.embedding_dim;
  d["vocab_size"] = i.vocab_size;
  d["max_query_length"] = i.max_query_length;
  d["max_doc_length"] = i.max_doc_length;
  d["weight_cache"] = i.weight_cache;
  return d;
}

lastrank::Reranker load(const std::string& model_dir, const std::string& precision, int threads,
                        const std::string& scores, const std::string& weight_cache_dir) {
  lastrank::Options o;
  o.precision = precision;
  o.threads = threads;
  o.scores = scores;
  o.weight_cache_dir = weight_cache_dir;
  py::gil_scoped_release unlocked;
  return lastrank::Reranker::load(model_dir, o);
}

}  // namespace

PYBIND11_MODULE(_lastrank, m) {
  m.doc() = "lastrank engine binding; use the lastrank package (lastrank.Reranker), not this module.";
  static py::exception<lastrank::Error> model_error(m, "ModelError", PyExc_Exception);
  model_error.doc() = "A model directory or file is missing or malformed; the message names the file.";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const lastrank::library::RequestError& e) {
      const bool type = e.fault() == lastrank::library::RequestFault::wrong_type;
      PyErr_SetString(type ? PyExc_TypeError : PyExc_ValueError, e.what());
    } catch (const lastrank::Error& e) {
      switch (e.code()) {
        case lastrank::Error::Code::invalid_argument: PyErr_SetString(PyExc_ValueError, e.what()); return;
        case lastrank::Error::Code::model: PyErr_SetString(model_error.ptr(), e.what()); return;
        case lastrank::Error::Code::out_of_memory: PyErr_SetString(PyExc_MemoryError, e.what()); return;
        case lastrank::Error::Code::internal: PyErr_SetString(PyExc_RuntimeError, e.what()); return;
      }
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  m.def("version", &lastrank::version, "The library version, MAJOR.MINOR.PATCH.");
  py::class_<lastrank::Reranker>(m, "_Engine")
      .def(py::init(&load), py::arg("model_dir"), py::arg("precision"), py::arg("threads"), py::arg("scores"),
           py::arg("weight_cache_dir") = "")
      .def("rerank", &rerank, py::arg("query"), py::arg("documents"), py::arg("top_n"),
           py::arg("return_embeddings"), py::arg("max_query_length"), py::arg("max_doc_length"),
           py::arg("instruction"), py::arg("max_chunks_per_doc") = py::none())
      .def("info", &info);
}
