// MappedFile: the read-only bytes of one file, mmapped when possible, otherwise read into an
// owned buffer (the fallback also serves in-memory images and aligned copies). Owns its memory;
// TensorViews into it stay valid while a shared_ptr to it lives.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lastrank {

class MappedFile {
 public:
  // Maps `path` read-only; falls back to reading it whole if mmap fails. Throws Error if the
  // file cannot be opened/read, is not a regular file, or exceeds max_size bytes.
  static std::shared_ptr<MappedFile> open(const std::string& path, uint64_t max_size = kNoLimit);
  // An owned, 64-byte-aligned buffer of `size` zero bytes (for copies); data() is writable via mutable_data().
  static std::shared_ptr<MappedFile> owned(size_t size, const std::string& what);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() { return mapped_ ? nullptr : data_; }
  size_t size() const { return size_; }
  bool is_mapped() const { return mapped_; }
  const std::string& path() const { return path_; }

  static constexpr uint64_t kNoLimit = ~uint64_t(0);

 private:
  MappedFile() = default;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::string path_;
};

// Reads a whole (small, text) file; throws Error if missing, unreadable or larger than max_size.
std::string read_text_file(const std::string& path, uint64_t max_size);

// Test hook: when true, MappedFile::open skips mmap and always uses the read fallback.
void set_mmap_disabled_for_testing(bool disabled);

// Hint that [p, p+n) will not be read soon (e.g. a checkpoint tensor after it was repacked): its
// pages stop counting in this process's RSS. Content is never changed; pages are re-read on access.
// Inside a MappedFile's mapping the pages leave this process only (MADV_DONTNEED) and stay in the
// page cache, so the next process that opens the file finds it warm; elsewhere (owned buffers)
// MADV_PAGEOUT (anonymous memory without swap stays as is).
void release_pages(const void* p, size_t n);

}  // namespace lastrank
