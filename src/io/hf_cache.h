// Finds a model given as a directory or as a Hugging Face repo id ("jinaai/jina-reranker-v3"),
// offline, in the local Hugging Face hub cache laid out the way huggingface_hub writes it:
//   <hub>/models--<org>--<name>/refs/<revision>   a commit sha (40 hex digits)
//   <hub>/models--<org>--<name>/snapshots/<sha>/  the files, usually symlinks into ../../blobs/
// where <hub> is $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub. A revision is a ref name ("main", "v1.0", "refs/pr/1") or a full
// commit sha. The cache is untrusted: ids and revisions are validated before they become paths
// (no "..", no absolute paths), refs files are bounded and must hold a sha, and the snapshot's
// *.json / *.safetensors files must resolve (no broken symlink). Problems throw lastrank::Error
// naming the paths tried and the command that downloads the model. Nothing here touches the network.
#pragma once
#include <string>

namespace lastrank {

struct ModelLocation {
  std::string dir;       // the directory with config.json, tokenizer.json, model.safetensors
  std::string name;      // display name: the repo's name ("jina-reranker-v3") or the directory's
  std::string repo_id;   // empty when the model was given as a directory
  std::string revision;  // as requested (repo ids only)
  std::string commit;    // the snapshot's commit sha (repo ids only)
};

// The default revision of a repo id.
inline constexpr const char* kDefaultRevision = "main";

// `model` is an existing directory (used as is; `revision` must then be empty) or a repo id
// looked up in the hub cache at `revision` (empty = "main").
ModelLocation locate_model(const std::string& model, const std::string& revision = "");

// The hub cache directory from the environment (see above) and the variable that chose it.
struct HubCacheDir {
  std::string path;
  std::string source;  // "HF_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "HOME" or "none"
};
HubCacheDir hub_cache_dir();

// Validation of the strings that become paths (exposed for tests).
bool is_repo_id(const std::string& s);        // "org/name" or "name": [A-Za-z0-9._-], no "--"/".." , <= 96
bool is_commit_sha(const std::string& s);     // 40 lowercase hex digits
bool is_revision_name(const std::string& s);  // ref name: '/'-separated [A-Za-z0-9._-] parts, none "." or ".."

}  // namespace lastrank
