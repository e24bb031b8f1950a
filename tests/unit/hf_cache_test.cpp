// The offline Hugging Face cache resolver (src/io/hf_cache.h): a hand-made hub cache in a temp
// dir (blobs, snapshot symlinks, refs/main and a second revision, a snapshot missing a file)
// built from the tiny fixture checkpoint, the environment precedence, and hostile caches
// (garbage refs, traversal in revisions and ids, dangling and looping symlinks).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "expect_error.h"
#include "io/hf_cache.h"
#include "rerank/reranker.h"
#include "test_paths.h"

namespace lastrank {
namespace {
namespace fs = std::filesystem;

const fs::path kModel = fs::path(LASTRANK_TEST_MODELS) / "tiny-gqa2";
const std::string kSha1 = "1111111111111111111111111111111111111111";
const std::string kSha2 = "2222222222222222222222222222222222222222";
const std::string kShaBroken = "3333333333333333333333333333333333333333";

// Sets an environment variable for the test's lifetime, restoring the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// <hub>/models--jinaai--jina-reranker-v3 with the fixture's files as blobs; snapshots kSha1
// (refs/main) and kSha2 (refs/v2, and refs/refs/pr/1) are complete; kShaBroken (refs/broken)
// lacks tokenizer.json.
class HfCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModel / "tokenizer.json")) GTEST_SKIP() << "fixture " << kModel << " has no tokenizer (run scripts/setup.sh)";
    root_ = fs::temp_directory_path() / ("lastrank-hf-cache-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    hub_ = root_ / "hub";
    repo_ = hub_ / "models--jinaai--jina-reranker-v3";
    int n = 0;
    for (const auto& e : fs::directory_iterator(kModel)) {
      if (!e.is_regular_file() || e.path().filename().string().front() == '.') continue;
      const std::string blob = std::string(40 - std::to_string(n).size(), 'b') + std::to_string(n);
      ++n;
      fs::create_directories(repo_ / "blobs");
      fs::copy_file(e.path(), repo_ / "blobs" / blob);
      for (const auto& sha : {kSha1, kSha2, kShaBroken}) {
        if (sha == kShaBroken && e.path().filename() == "tokenizer.json") continue;
        fs::create_directories(repo_ / "snapshots" / sha);
        fs::create_symlink(fs::path("../../blobs") / blob, repo_ / "snapshots" / sha / e.path().filename());
      }
    }
    write_file(repo_ / "refs" / "main", kSha1);
    write_file(repo_ / "refs" / "v2", kSha2 + "\n");
    write_file(repo_ / "refs" / "refs" / "pr" / "1", kSha2);
    write_file(repo_ / "refs" / "broken", kShaBroken);
  }
  void TearDown() override {
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }
  ModelLocation locate(const std::string& id, const std::string& rev = "") {
    ScopedEnv e("HF_HUB_CACHE", hub_.c_str());
    return locate_model(id, rev);
  }
  void expect_locate_error(const std::string& id, const std::string& rev, std::initializer_list<const char*> frags) {
    ScopedEnv e("HF_HUB_CACHE", hub_.c_str());
    expect_error([&] { locate_model(id, rev); }, frags);
  }
  fs::path root_, hub_, repo_;
};

TEST(HfCacheNames, RepoIds) {
  for (const char* ok : {"jinaai/jina-reranker-v3", "gpt2", "a/b", "Org_1/model.v2", "x/y_", "_a/b"})
    EXPECT_TRUE(is_repo_id(ok)) << ok;
  for (const std::string& bad : std::vector<std::string>{"", "/", "a/", "/b", "a/b/c", "../x", "a/..", "..", ".", "a/.b",
                                                        "a/b.", "-a/b", "a/b-", "a--b/c", "a/b..c", "a b/c", "a/b\\c",
                                                        "a/~b", "./x", "a/b/", std::string(97, 'a')})
    EXPECT_FALSE(is_repo_id(bad)) << bad;
}

TEST(HfCacheNames, Revisions) {
  for (const char* ok : {"main", "v1.0", "refs/pr/1", "release-2026_11", "a.b"}) EXPECT_TRUE(is_revision_name(ok)) << ok;
  for (const std::string& bad : std::vector<std::string>{"", "../../x", "..", ".", "/etc/passwd", "a//b", "a/", "/",
                                                        "a/./b", "a/../b", "a b", "a\\b", "x\n", "~", std::string(256, 'a')})
    EXPECT_FALSE(is_revision_name(bad)) << bad;
  EXPECT_TRUE(is_commit_sha(kSha1));
  for (const char* bad : {"", "111", "ABCDEF1111111111111111111111111111111111", "g111111111111111111111111111111111111111",
                          "11111111111111111111111111111111111111111"})
    EXPECT_FALSE(is_commit_sha(bad)) << bad;
}

TEST(HfCacheEnv, Precedence) {
  ScopedEnv a("HF_HUB_CACHE", "/c/hub"), b("HF_HOME", "/h"), c("XDG_CACHE_HOME", "/x"), d("HOME", "/home/u");
  EXPECT_EQ(hub_cache_dir().path, "/c/hub");
  {
    ScopedEnv e("HF_HUB_CACHE", nullptr);
    EXPECT_EQ(hub_cache_dir().path, "/h/hub");
    ScopedEnv f("HF_HOME", "");  // empty counts as unset, as in huggingface_hub
    EXPECT_EQ(hub_cache_dir().path, "/x/huggingface/hub");
    ScopedEnv g("XDG_CACHE_HOME", nullptr);
    EXPECT_EQ(hub_cache_dir().path, "/home/u/.cache/huggingface/hub");
    EXPECT_EQ(hub_cache_dir().source, "HOME");
    ScopedEnv h("HOME", nullptr);
    EXPECT_EQ(hub_cache_dir().path, "");
    expect_error([] { locate_model("jinaai/jina-reranker-v3"); }, {"no Hugging Face cache", "HF_HUB_CACHE"});
  }
}

TEST_F(HfCacheTest, DirectoryIsUsedAsIs) {
  const ModelLocation loc = locate_model(kModel.string());
  EXPECT_EQ(loc.dir, kModel.string());
  EXPECT_EQ(loc.name, "tiny-gqa2");
  EXPECT_TRUE(loc.repo_id.empty());
  expect_error([] { locate_model(kModel.string(), "main"); }, {"--revision", "is a directory"});
  expect_error([] { locate_model((kModel / "config.json").string()); }, {"is not a directory"});
  expect_error([&] { locate_model((root_ / "no" / "such" / "dir").string()); }, {"does not exist", "config.json"});
}

TEST_F(HfCacheTest, RefsAndCommits) {
  ModelLocation loc = locate("jinaai/jina-reranker-v3");
  EXPECT_EQ(fs::path(loc.dir), repo_ / "snapshots" / kSha1);
  EXPECT_EQ(loc.name, "jina-reranker-v3");
  EXPECT_EQ(loc.repo_id, "jinaai/jina-reranker-v3");
  EXPECT_EQ(loc.revision, "main");
  EXPECT_EQ(loc.commit, kSha1);
  EXPECT_EQ(locate("jinaai/jina-reranker-v3", "v2").commit, kSha2);  // refs file with a trailing newline
  EXPECT_EQ(locate("jinaai/jina-reranker-v3", "refs/pr/1").commit, kSha2);
  loc = locate("jinaai/jina-reranker-v3", kSha2);  // a commit sha needs no ref
  EXPECT_EQ(fs::path(loc.dir), repo_ / "snapshots" / kSha2);
}

TEST_F(HfCacheTest, EnvironmentChoosesTheCache) {
  fs::create_directories(root_ / "home" / ".cache" / "huggingface");
  fs::rename(hub_, root_ / "home" / ".cache" / "huggingface" / "hub");
  ScopedEnv a("HF_HUB_CACHE", nullptr), b("HF_HOME", nullptr), c("XDG_CACHE_HOME", nullptr),
      d("HOME", (root_ / "home").c_str());
  EXPECT_EQ(locate_model("jinaai/jina-reranker-v3").commit, kSha1);
  ScopedEnv e("HF_HOME", (root_ / "home" / ".cache" / "huggingface").c_str());
  EXPECT_EQ(locate_model("jinaai/jina-reranker-v3").commit, kSha1);
}

TEST_F(HfCacheTest, LoadByIdScoresLikeLoadByDirectory) {
  ScopedEnv e("HF_HUB_CACHE", hub_.c_str());
  RerankRequest req;
  req.query = "What is the capital of France?";
  req.documents = {"Paris is the capital of France.", "Berlin ist die Hauptstadt.", ""};
  const RerankResponse by_dir = Reranker::load(kModel.string())->rerank(req);
  const RerankResponse by_id = Reranker::load("jinaai/jina-reranker-v3")->rerank(req);
  ASSERT_EQ(by_dir.results.size(), by_id.results.size());
  for (size_t i = 0; i < by_dir.results.size(); ++i) {
    EXPECT_EQ(by_dir.results[i].index, by_id.results[i].index);
    EXPECT_EQ(by_dir.results[i].relevance_score, by_id.results[i].relevance_score);
  }
  EXPECT_EQ(by_dir.total_tokens, by_id.total_tokens);
}

TEST_F(HfCacheTest, MissingModelNamesPathsAndDownloadCommand) {
  expect_locate_error("jinaai/not-downloaded", "",
                      {"not found", "models--jinaai--not-downloaded", hub_.c_str(), "HF_HUB_CACHE",
                       "huggingface-cli download jinaai/not-downloaded", "hf download jinaai/not-downloaded"});
  expect_locate_error("jinaai/not-downloaded", "v9", {"huggingface-cli download jinaai/not-downloaded --revision v9"});
  expect_locate_error("jinaai/jina-reranker-v3", "v9", {"no revision 'v9'", "refs/v9", "does not exist"});
  expect_locate_error("jinaai/jina-reranker-v3", std::string(40, 'c'), {"snapshots/cccc", "does not exist"});
  expect_locate_error("a/b/c", "", {"does not exist", "repo id"});  // not an id: no cache lookup at all
}

TEST_F(HfCacheTest, SnapshotMissingAFile) {
  expect_locate_error("jinaai/jina-reranker-v3", "broken", {kShaBroken.c_str(), "lacks tokenizer.json", "download"});
  fs::remove(repo_ / "snapshots" / kSha1 / "model.safetensors");
  expect_locate_error("jinaai/jina-reranker-v3", "", {"lacks model.safetensors"});
}

TEST_F(HfCacheTest, DanglingAndLoopingSymlinks) {
  // A symlink loop where config.json should be.
  const fs::path config = repo_ / "snapshots" / kSha2 / "config.json";
  fs::remove(config);
  fs::create_symlink("config.json", config);
  expect_locate_error("jinaai/jina-reranker-v3", "v2", {"config.json", "broken symlink"});
  // An interrupted download: the blob behind model.safetensors is gone (all snapshots share it).
  const fs::path weights = repo_ / "snapshots" / kSha1 / "model.safetensors";
  fs::remove(repo_ / "blobs" / fs::read_symlink(weights).filename());
  expect_locate_error("jinaai/jina-reranker-v3", "", {"model.safetensors", "broken symlink", "incomplete download"});
  // A snapshot that is itself a dangling symlink.
  fs::remove_all(repo_ / "snapshots" / kShaBroken);
  fs::create_symlink(root_ / "gone", repo_ / "snapshots" / kShaBroken);
  expect_locate_error("jinaai/jina-reranker-v3", "broken", {"broken symlink"});
}

TEST_F(HfCacheTest, GarbageRefs) {
  write_file(repo_ / "refs" / "main", "not a sha at all");
  expect_locate_error("jinaai/jina-reranker-v3", "", {"refs/main", "does not hold a commit sha"});
  write_file(repo_ / "refs" / "main", "");
  expect_locate_error("jinaai/jina-reranker-v3", "", {"does not hold a commit sha"});
  write_file(repo_ / "refs" / "main", "../../../../etc/passwd");
  expect_locate_error("jinaai/jina-reranker-v3", "", {"does not hold a commit sha"});
  write_file(repo_ / "refs" / "main", std::string(1 << 20, '1'));
  expect_locate_error("jinaai/jina-reranker-v3", "", {"is not a refs file", "1048576 bytes"});
  write_file(repo_ / "refs" / "main", std::string("\x00\xff\xfe", 3) + kSha1);
  expect_locate_error("jinaai/jina-reranker-v3", "", {"does not hold a commit sha"});
  expect_locate_error("jinaai/jina-reranker-v3", "refs", {"no revision 'refs'", "is a directory"});
}

TEST_F(HfCacheTest, TraversalIsRejectedBeforeAnyPathIsBuilt) {
  // A file where a traversing revision would land: it must never be read.
  write_file(root_ / "x", kSha1);
  for (const char* rev : {"../../x", "../../../x", "/etc/passwd", "a/../../x", "..", "main/..", "main\\..\\x"})
    expect_locate_error("jinaai/jina-reranker-v3", rev, {"is not a branch/tag name"});
  fs::create_directories(root_ / "evil" / "snapshots" / kSha1);
  for (const char* id : {"../evil", "jinaai/../../evil", "/tmp/../evil"})
    expect_locate_error(id, "", {"does not exist"});
}

}  // namespace
}  // namespace lastrank
