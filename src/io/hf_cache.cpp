// Offline model lookup in the Hugging Face hub cache (layout and rules: hf_cache.h).
#include "io/hf_cache.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace lastrank {
namespace fs = std::filesystem;

namespace {

// A refs file holds one sha and maybe a newline; anything much longer is not a refs file.
constexpr std::uintmax_t kMaxRefsFileBytes = 256;
constexpr size_t kMaxRepoPartChars = 96;   // huggingface_hub's limit on an org or repo name
constexpr size_t kMaxRevisionChars = 255;  // a git ref name component limit; plenty for tags/branches

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

bool is_alnum_or_underscore(char c) { return is_name_char(c) && c != '-' && c != '.'; }

// One org or repo name: [A-Za-z0-9._-], starts and ends with [A-Za-z0-9_], no "--" or "..".
bool is_repo_part(const std::string& s) {
  if (s.empty() || s.size() > kMaxRepoPartChars) return false;
  if (!is_alnum_or_underscore(s.front()) || !is_alnum_or_underscore(s.back())) return false;
  for (char c : s)
    if (!is_name_char(c)) return false;
  return s.find("--") == std::string::npos && s.find("..") == std::string::npos;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// "hf download ..." with the revision when it is not the default.
std::string download_hint(const std::string& repo_id, const std::string& revision) {
  const std::string args = repo_id + (revision == kDefaultRevision ? "" : " --revision " + revision);
  return cat("download it with `huggingface-cli download ", args, "` (or `hf download ", args,
             "`; it goes to $HF_HUB_CACHE or $HF_HOME/hub), or pass --model DIR");
}

// Says what is at p ("does not exist", "is a directory", "is a broken symlink (to ...)", ...)
// without following a broken symlink into an exception.
std::string describe(const fs::path& p) {
  std::error_code ec;
  const auto st = fs::symlink_status(p, ec);
  if (ec || st.type() == fs::file_type::not_found) return "does not exist";
  if (st.type() == fs::file_type::directory) return "is a directory";
  if (st.type() == fs::file_type::regular) return "is a file";
  if (st.type() != fs::file_type::symlink) return "is a special file";
  std::error_code read_ec, exists_ec;
  const fs::path target = fs::read_symlink(p, read_ec);
  const std::string to = read_ec ? "?" : target.string();
  if (fs::exists(p, exists_ec)) return cat("is a symlink to ", to);
  return cat("is a broken symlink (to ", to, exists_ec ? ": " + exists_ec.message() : "", ")");
}

// The commit sha a ref points to, read from <repo>/refs/<revision>.
std::string read_ref(const fs::path& repo_dir, const std::string& revision, const std::string& repo_id) {
  const fs::path ref = repo_dir / "refs" / revision;
  std::error_code ec;
  if (!fs::is_regular_file(ref, ec))
    fail("Hugging Face cache: ", repo_id, " has no revision '", revision, "' (", ref.string(), " ", describe(ref),
         "); ", download_hint(repo_id, revision));
  const auto size = fs::file_size(ref, ec);
  if (ec || size > kMaxRefsFileBytes)
    fail("Hugging Face cache: ", ref.string(), " is not a refs file (", ec ? ec.message() : cat(size, " bytes"),
         "; expected a 40-hex commit sha)");
  std::ifstream f(ref, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (!is_commit_sha(text))
    fail("Hugging Face cache: ", ref.string(), " does not hold a commit sha (expected 40 lowercase hex digits, found ",
         text.size(), " bytes); re-download with `huggingface-cli download ", repo_id, "`");
  return text;
}

// Every file the loader reads must resolve: config.json, tokenizer.json, and model.safetensors or
// model.safetensors.index.json are required; any other *.json / *.safetensors entry must not be a
// dangling symlink (an interrupted download leaves those).
void check_snapshot(const fs::path& snap, const std::string& repo_id, const std::string& revision) {
  std::error_code ec;
  for (fs::directory_iterator it(snap, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path p = it->path();
    const std::string ext = p.extension().string();
    std::error_code file_ec;
    if ((ext == ".json" || ext == ".safetensors") && !fs::is_regular_file(p, file_ec))
      fail("Hugging Face cache: ", p.string(), " ", describe(p), ", not a regular file (incomplete download?); ",
           download_hint(repo_id, revision));
  }
  if (ec) fail("Hugging Face cache: cannot list ", snap.string(), ": ", ec.message());
  std::vector<std::string> missing;
  for (const char* f : {"config.json", "tokenizer.json"})
    if (!fs::is_regular_file(snap / f, ec)) missing.push_back(f);
  if (!fs::is_regular_file(snap / "model.safetensors", ec) && !fs::is_regular_file(snap / "model.safetensors.index.json", ec))
    missing.push_back("model.safetensors (or model.safetensors.index.json)");
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    fail("Hugging Face cache: snapshot ", snap.string(), " of ", repo_id, " lacks ", list, "; ",
         download_hint(repo_id, revision));
  }
}

ModelLocation locate_in_cache(const std::string& repo_id, const std::string& revision) {
  const HubCacheDir hub = hub_cache_dir();
  if (hub.path.empty())
    fail("model '", repo_id, "' is not a directory, and there is no Hugging Face cache to look in (set HF_HUB_CACHE, ",
         "HF_HOME or HOME); ", download_hint(repo_id, revision));
  std::string folder = "models--" + repo_id;
  for (size_t i = folder.find('/'); i != std::string::npos; i = folder.find('/')) folder.replace(i, 1, "--");
  const fs::path repo_dir = fs::path(hub.path) / folder;
  std::error_code ec;
  if (!fs::is_directory(repo_dir, ec))
    fail("model '", repo_id, "' not found: no directory ", fs::absolute(repo_id, ec).string(),
         ", and not in the Hugging Face cache (", repo_dir.string(), " ", describe(repo_dir), "; cache from ",
         hub.source, "); ", download_hint(repo_id, revision));
  const std::string commit = is_commit_sha(revision) ? revision : read_ref(repo_dir, revision, repo_id);
  const fs::path snap = repo_dir / "snapshots" / commit;
  if (!fs::is_directory(snap, ec))
    fail("Hugging Face cache: ", repo_id, " revision '", revision, "' is commit ", commit, " but ", snap.string(), " ",
         describe(snap), "; ", download_hint(repo_id, revision));
  check_snapshot(snap, repo_id, revision);
  const size_t slash = repo_id.find('/');
  return {snap.string(), slash == std::string::npos ? repo_id : repo_id.substr(slash + 1), repo_id, revision, commit};
}

}  // namespace

bool is_repo_id(const std::string& s) {
  const size_t slash = s.find('/');
  if (slash == std::string::npos) return is_repo_part(s);
  return is_repo_part(s.substr(0, slash)) && is_repo_part(s.substr(slash + 1));
}

bool is_commit_sha(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_revision_name(const std::string& s) {
  if (s.empty() || s.size() > kMaxRevisionChars) return false;
  size_t start = 0;
  while (true) {
    const size_t end = s.find('/', start);
    const std::string part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part)
      if (!is_name_char(c)) return false;
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

HubCacheDir hub_cache_dir() {
  if (auto v = env("HF_HUB_CACHE"); !v.empty()) return {v, "HF_HUB_CACHE"};
  if (auto v = env("HF_HOME"); !v.empty()) return {(fs::path(v) / "hub").string(), "HF_HOME"};
  if (auto v = env("XDG_CACHE_HOME"); !v.empty()) return {(fs::path(v) / "huggingface" / "hub").string(), "XDG_CACHE_HOME"};
  if (auto v = env("HOME"); !v.empty()) return {(fs::path(v) / ".cache" / "huggingface" / "hub").string(), "HOME"};
  return {"", "none"};
}

ModelLocation locate_model(const std::string& model, const std::string& revision) {
  if (model.empty()) fail("model: expected a model directory or a Hugging Face repo id, got an empty string");
  std::error_code ec;
  const auto st = fs::status(model, ec);
  if (st.type() == fs::file_type::directory) {
    if (!revision.empty())
      fail("--revision applies to a Hugging Face repo id, but '", model, "' is a directory");
    const std::string name = fs::path(model).lexically_normal().filename().string();
    return {model, name.empty() || name == "." || name == ".." ? "jina-reranker-v3" : name, "", "", ""};
  }
  if (st.type() != fs::file_type::not_found && st.type() != fs::file_type::none)
    fail("model '", model, "' is not a directory (expected a model directory or a Hugging Face repo id)");
  if (!is_repo_id(model))
    fail("model directory '", model, "' does not exist (expected a directory with config.json, tokenizer.json and ",
         "model.safetensors, or a Hugging Face repo id like jinaai/jina-reranker-v3)");
  const std::string rev = revision.empty() ? kDefaultRevision : revision;
  if (!is_commit_sha(rev) && !is_revision_name(rev))
    fail("revision '", rev, "' is not a branch/tag name ([A-Za-z0-9._-] parts separated by '/', none '.' or '..') ",
         "nor a 40-hex commit sha");
  return locate_in_cache(model, rev);
}

}  // namespace lastrank
