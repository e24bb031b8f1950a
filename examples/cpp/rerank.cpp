// Rerank documents with the lastrank C++ API (include/lastrank/lastrank.hpp).
//   CMake: find_package(lastrank) + target_link_libraries(app lastrank::lastrank) (CMakeLists.txt here)
//   or:    c++ -std=c++17 rerank.cpp $(pkg-config --cflags --libs lastrank)
//   ./rerank MODEL_DIR QUERY DOCUMENT...
// Prints one line per document, best first: rank, index, score, text.
#include <cstdio>
#include <string>
#include <vector>

#include <lastrank/lastrank.hpp>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODEL_DIR QUERY DOCUMENT...\n", argv[0]);
    return 2;
  }
  try {
    lastrank::Options options;
    options.precision = "fp32";
    const lastrank::Reranker model = lastrank::Reranker::load(argv[1], options);
    const lastrank::Info info = model.info();
    std::printf("lastrank %s, %s kernels, %d threads, embedding dim %lld\n", info.version.c_str(),
                info.kernel_set.c_str(), info.threads, static_cast<long long>(info.embedding_dim));
    const std::vector<std::string> documents(argv + 3, argv + argc);
    const lastrank::Ranking ranking = model.rerank(argv[2], documents);
    for (size_t i = 0; i < ranking.order.size(); ++i) {
      const size_t d = ranking.order[i];
      std::printf("%zu\t%zu\t%.9g\t%s\n", i, d, ranking.scores[d], documents[d].c_str());
    }
  } catch (const lastrank::Error& e) {
    std::fprintf(stderr, "lastrank error (%s): %s\n", lastrank::code_name(e.code()), e.what());
    return 1;
  }
  return 0;
}
