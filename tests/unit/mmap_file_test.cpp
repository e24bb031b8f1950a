// MappedFile and release_pages: releasing a mapped checkpoint's pages (after its tensors were
// repacked) keeps the bytes readable and the file in the page cache, so the next process that
// opens it does not read it from disk again; owned (read) buffers keep their bytes too.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "io/mmap_file.h"
#include "test_paths.h"

namespace lastrank {
namespace {

namespace fs = std::filesystem;

// A file on the build directory's file system (a disk, where eviction from the page cache is
// observable; a tmpfs file is always resident).
struct TempFile {
  std::string path = std::string(LASTRANK_BINARY_DIR) + "/mmap_file_test_" + std::to_string(::getpid()) + ".bin";
  std::vector<uint8_t> bytes;
  explicit TempFile(size_t n) : bytes(n) {
    for (size_t i = 0; i < n; ++i) bytes[i] = uint8_t(i * 2654435761u >> 13);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(n));
    // Written back, so its page cache pages are clean: the kind MADV_PAGEOUT evicts at once.
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
  ~TempFile() { fs::remove(path); }
};

// Pages of [p, p + n) that mincore reports resident (for a file mapping: in the page cache).
size_t resident_pages(const void* p, size_t n) {
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> v((n + page - 1) / page);
  if (::mincore(const_cast<void*>(p), n, v.data()) != 0) return 0;
  size_t r = 0;
  for (unsigned char c : v) r += c & 1;
  return r;
}

TEST(MappedFile, ReleasedPagesStayInThePageCache) {
  TempFile f(size_t(8) << 20);
  auto m = MappedFile::open(f.path);
  ASSERT_TRUE(m->is_mapped());
  ASSERT_EQ(std::memcmp(m->data(), f.bytes.data(), f.bytes.size()), 0);  // every page touched
  const size_t pages = f.bytes.size() / size_t(::sysconf(_SC_PAGESIZE));
  ASSERT_EQ(resident_pages(m->data(), m->size()), pages);
  release_pages(m->data(), m->size());
  // MADV_PAGEOUT would have evicted the clean file pages (mapped by this process only).
  EXPECT_GE(resident_pages(m->data(), m->size()), pages * 9 / 10);
  EXPECT_EQ(std::memcmp(m->data(), f.bytes.data(), f.bytes.size()), 0);
}

TEST(MappedFile, ReleasedOwnedBufferKeepsItsBytes) {
  TempFile f(size_t(4) << 20);
  set_mmap_disabled_for_testing(true);
  auto m = MappedFile::open(f.path);
  set_mmap_disabled_for_testing(false);
  ASSERT_FALSE(m->is_mapped());
  release_pages(m->data(), m->size());  // MADV_DONTNEED here would zero the buffer
  EXPECT_EQ(std::memcmp(m->data(), f.bytes.data(), f.bytes.size()), 0);
}

}  // namespace
}  // namespace lastrank
