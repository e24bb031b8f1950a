// MappedFile implementation: POSIX open/fstat/mmap with a read() fallback into an aligned buffer.
#include "io/mmap_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "core/error.h"

namespace lastrank {

namespace {

std::atomic<bool> g_mmap_disabled{false};
constexpr size_t kOwnedAlign = 64;

uint8_t* aligned_alloc_bytes(size_t size, const std::string& what) {
  size_t rounded = (size + kOwnedAlign - 1) / kOwnedAlign * kOwnedAlign;
  if (rounded == 0) rounded = kOwnedAlign;
  void* p = std::aligned_alloc(kOwnedAlign, rounded);
  if (!p) fail(what, ": cannot allocate ", size, " bytes");
  std::memset(p, 0, rounded);
  return static_cast<uint8_t*>(p);
}

// The live read-only file mappings [begin, end): release_pages drops their pages from this process
// only (MADV_DONTNEED), where MADV_PAGEOUT would also evict them from the page cache, so the next
// process to open the checkpoint would read it from disk again.
struct MappedRanges {
  std::mutex mu;
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;

  void add(const void* p, size_t n) {
    std::lock_guard<std::mutex> lock(mu);
    ranges.emplace_back(uintptr_t(p), uintptr_t(p) + n);
  }
  void remove(const void* p) {
    std::lock_guard<std::mutex> lock(mu);
    ranges.erase(std::remove_if(ranges.begin(), ranges.end(), [&](const auto& r) { return r.first == uintptr_t(p); }),
                 ranges.end());
  }
  bool contains(uintptr_t b, uintptr_t e) {
    std::lock_guard<std::mutex> lock(mu);
    return std::any_of(ranges.begin(), ranges.end(), [&](const auto& r) { return r.first <= b && e <= r.second; });
  }
};

MappedRanges& mapped_ranges() {
  static MappedRanges* r = new MappedRanges();  // never destroyed: MappedFiles may outlive statics
  return *r;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void set_mmap_disabled_for_testing(bool disabled) { g_mmap_disabled = disabled; }

std::shared_ptr<MappedFile> MappedFile::owned(size_t size, const std::string& what) {
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->data_ = aligned_alloc_bytes(size, what);
  f->size_ = size;
  f->path_ = what;
  return f;
}

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path, uint64_t max_size) {
  Fd fd;
  fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd.fd < 0) fail("cannot open ", path, ": ", std::strerror(errno));
  struct stat st;
  if (::fstat(fd.fd, &st) != 0) fail("cannot stat ", path, ": ", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(path, " is not a regular file");
  uint64_t size = uint64_t(st.st_size);
  if (size > max_size) fail(path, ": file is ", size, " bytes, more than the limit of ", max_size);
  if (size > uint64_t(SIZE_MAX / 2)) fail(path, ": file too large (", size, " bytes)");

  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = size_t(size);
  if (size == 0) {  // mmap rejects length 0; an empty owned buffer is equivalent
    f->data_ = aligned_alloc_bytes(0, path);
    return f;
  }
  if (!g_mmap_disabled) {
    void* p = ::mmap(nullptr, size_t(size), PROT_READ, MAP_PRIVATE, fd.fd, 0);
    if (p != MAP_FAILED) {
      f->data_ = static_cast<uint8_t*>(p);
      f->mapped_ = true;
      mapped_ranges().add(p, size_t(size));
      return f;
    }
  }
  // Fallback: read the whole file.
  f->data_ = aligned_alloc_bytes(size_t(size), path);
  size_t done = 0;
  while (done < size) {
    ssize_t r = ::read(fd.fd, f->data_ + done, size_t(size) - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("cannot read ", path, ": ", std::strerror(errno));
    if (r == 0) fail("cannot read ", path, ": file shrank to ", done, " bytes while reading (expected ", size, ")");
    done += size_t(r);
  }
  return f;
}

MappedFile::~MappedFile() {
  if (!data_) return;
  if (mapped_) {
    mapped_ranges().remove(data_);
    ::munmap(data_, size_);
  }
  else
    std::free(data_);
}

std::string read_text_file(const std::string& path, uint64_t max_size) {
  std::shared_ptr<MappedFile> f = MappedFile::open(path, max_size);
  return std::string(reinterpret_cast<const char*>(f->data()), f->size());
}

void release_pages(const void* p, size_t n) {
  const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
  const uintptr_t b = (uintptr_t(p) + page - 1) & ~(page - 1), e = (uintptr_t(p) + n) & ~(page - 1);
  if (e <= b) return;
  void* start = reinterpret_cast<void*>(b);
  // Hints; errors are harmless. A read-only private file mapping is never written, so dropping its
  // pages cannot change its contents: they are read back from the page cache on access.
  if (mapped_ranges().contains(b, e)) {
    (void)::madvise(start, e - b, MADV_DONTNEED);
    return;
  }
#ifdef MADV_PAGEOUT
  (void)::madvise(start, e - b, MADV_PAGEOUT);  // anonymous memory: swapped out if there is swap
#endif
}

}  // namespace lastrank
