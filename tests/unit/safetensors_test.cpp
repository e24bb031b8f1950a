// Safetensors reader/writer: round trips, python-identical layout, and every malformed input the
// reader must reject with a clear Error (never a crash): built in memory with the writer plus
// byte surgery, no committed binaries. Runs under ASan+UBSan in CI.
#include "expect_error.h"
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "io/mmap_file.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "io/text_clip.h"

namespace lastrank {
namespace {

namespace fs = std::filesystem;


// A raw image: 8-byte length (or `len_override`), header text, data bytes.
std::vector<uint8_t> raw_image(const std::string& header, const std::vector<uint8_t>& data,
                               uint64_t len_override = ~uint64_t(0)) {
  uint64_t n = len_override == ~uint64_t(0) ? header.size() : len_override;
  std::vector<uint8_t> out(8 + header.size() + data.size());
  for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(n >> (8 * i));
  if (!header.empty()) std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

std::map<std::string, TensorView> parse(const std::vector<uint8_t>& img) {
  return parse_safetensors(img.data(), img.size(), "test.safetensors");
}

std::vector<TensorData> sample_tensors() {
  return {make_tensor("b", DType::BF16, {3}, {1.5f, -2.f, 3.f}),
          make_tensor("a", DType::F32, {2}, {0.1f, 7.f}),
          make_tensor("c", DType::F16, {1, 2}, {0.25f, 1e4f}),
          make_tensor("aa", DType::BF16, {0}, {}),
          make_tensor("model.x\"y", DType::F32, {2, 2}, {1.f, 2.f, 3.f, 4.f})};
}

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() / ("lastrank_st_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
void write_text(const std::string& path, const std::string& s) { std::ofstream(path) << s; }

TEST(SafetensorsWriter, MatchesPythonLayout) {
  // Header produced by python safetensors 0.8 save_file() for the same tensors (tools/ref_env.sh).
  const std::string py_header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("model.x\"y":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},)"
      R"("aa":{"dtype":"BF16","shape":[0],"data_offsets":[24,24]},)"
      R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[24,30]},)"
      R"("c":{"dtype":"F16","shape":[1,2],"data_offsets":[30,34]}})";
  std::vector<uint8_t> img = serialize_safetensors(sample_tensors(), {{"format", "pt"}});
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(img[size_t(i)]) << (8 * i);
  ASSERT_EQ(n % 8, 0u);
  std::string header(img.begin() + 8, img.begin() + 8 + long(n));
  EXPECT_EQ(header.substr(0, py_header.size()), py_header);
  EXPECT_EQ(header.find_first_not_of(' ', py_header.size()), std::string::npos);  // space padding
  EXPECT_EQ(img.size(), 8 + n + 34);
}

TEST(SafetensorsWriter, RoundTrip) {
  const std::vector<uint8_t> img = serialize_safetensors(sample_tensors());  // views point into it
  auto views = parse(img);
  ASSERT_EQ(views.size(), 5u);
  const TensorView& b = views.at("b");
  EXPECT_EQ(b.dtype, DType::BF16);
  EXPECT_EQ(b.shape_str(), "[3]");
  EXPECT_EQ(b.at(0), 1.5f);
  EXPECT_EQ(b.at(1), -2.f);
  EXPECT_EQ(views.at("a").at(0), 0.1f);
  EXPECT_EQ(views.at("c").shape_str(), "[1, 2]");
  EXPECT_EQ(views.at("c").at(1), 1e4f);
  EXPECT_EQ(views.at("model.x\"y").at(3), 4.f);
  EXPECT_EQ(views.at("aa").numel(), 0);
}

TEST(SafetensorsWriter, RejectsInconsistentInput) {
  TensorData t{"x", DType::F32, {3}, std::vector<uint8_t>(8)};
  expect_error([&] { serialize_safetensors({t}); }, {"x", "expected 12 bytes, found 8"});
  expect_error([&] { serialize_safetensors({make_tensor("x", DType::F32, {1}, {1}), make_tensor("x", DType::F32, {1}, {1})}); },
               {"duplicate"});
  expect_error([&] { make_tensor("x", DType::F32, {2}, {1}); }, {"expected 2 values"});
}

TEST(SafetensorsReader, EveryTruncationIsAnError) {
  std::vector<uint8_t> img = serialize_safetensors(sample_tensors(), {{"format", "pt"}});
  for (size_t len = 0; len < img.size(); ++len) {
    std::vector<uint8_t> cut(img.begin(), img.begin() + long(len));
    EXPECT_THROW(parse(cut), Error) << "length " << len;
  }
  expect_error([&] { parse(std::vector<uint8_t>(img.begin(), img.begin() + 5)); }, {"too small"});
  expect_error([&] { parse(std::vector<uint8_t>(img.begin(), img.end() - 1)); }, {"tensor c", "outside the data section"});
  std::vector<uint8_t> longer = img;
  longer.push_back(0);
  expect_error([&] { parse(longer); }, {"1 trailing bytes"});
}

TEST(SafetensorsReader, HeaderLength) {
  expect_error([] { parse(raw_image("{}", {}, ~uint64_t(0) - 1)); }, {"header length", "exceeds the limit"});
  expect_error([] { parse(raw_image("{}", {}, kMaxSafetensorsHeader + 1)); }, {"exceeds the limit"});
  expect_error([] { parse(raw_image("{}", {}, 1000)); }, {"header length 1000 exceeds the file size"});
  expect_error([] { parse(raw_image("", {}, 0)); }, {"does not start with '{'"});
  EXPECT_TRUE(parse(raw_image("{}", {})).empty());
  EXPECT_TRUE(parse(raw_image("{}      ", {})).empty());  // padding
}

TEST(SafetensorsReader, BadJson) {
  expect_error([] { parse(raw_image("{\"a\":", {})); }, {"not valid JSON"});
  expect_error([] { parse(raw_image("{} x", {})); }, {"not valid JSON"});
  expect_error([] { parse(raw_image("{\"a\xff\":1}", {})); }, {"not valid JSON"});  // invalid UTF-8
  expect_error([] { parse(raw_image("[1,2]", {})); }, {"does not start with '{'"});
  expect_error([] { parse(raw_image("{\"x\":[1]}", {})); }, {"tensor x", "expected a JSON object"});
  expect_error([] { parse(raw_image("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", std::vector<uint8_t>(4))); },
               {"tensor x", "missing \"dtype\""});
  expect_error([] { parse(raw_image("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", std::vector<uint8_t>(4))); },
               {"missing \"shape\""});
  expect_error([] { parse(raw_image("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", std::vector<uint8_t>(4))); },
               {"missing \"data_offsets\""});
  expect_error([] { parse(raw_image("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", std::vector<uint8_t>(4))); },
               {"array of 2 integers"});
  expect_error([] { parse(raw_image("{\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", std::vector<uint8_t>(4))); },
               {"non-negative integers"});
}

TEST(SafetensorsReader, Dtypes) {
  expect_error([] { parse(raw_image(R"({"w":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}})", std::vector<uint8_t>(4))); },
               {"tensor w", "unknown dtype \"F99\""});
  expect_error([] { parse(raw_image(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", std::vector<uint8_t>(8))); },
               {"tensor w", "unsupported dtype F64"});
  expect_error([] { parse(raw_image(R"({"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", std::vector<uint8_t>(4))); },
               {"tensor w", "must be a string"});
  auto ok = parse(raw_image(R"({"w":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})", std::vector<uint8_t>(4)));
  EXPECT_EQ(ok.at("w").dtype, DType::I32);
}

TEST(SafetensorsReader, ShapesAndByteLengths) {
  expect_error([] { parse(raw_image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", std::vector<uint8_t>(4))); },
               {"tensor w", "needs 8 bytes", "hold 4"});
  expect_error([] { parse(raw_image(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", std::vector<uint8_t>(4))); },
               {"tensor w", "negative dimension -1"});
  expect_error([] { parse(raw_image(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}})", std::vector<uint8_t>(4))); },
               {"tensor w", "overflows"});
  expect_error([] { parse(raw_image(R"({"w":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,4]}})", std::vector<uint8_t>(4))); },
               {"overflows"});
  expect_error([] { parse(raw_image(R"({"w":{"dtype":"F32","shape":[1,1,1,1,1],"data_offsets":[0,4]}})", std::vector<uint8_t>(4))); },
               {"rank 5"});
  // A zero dimension makes a huge other dimension harmless (numel 0).
  auto z = parse(raw_image(R"({"w":{"dtype":"F32","shape":[0,4611686018427387904],"data_offsets":[0,0]}})", {}));
  EXPECT_EQ(z.at("w").nbytes(), 0u);
}

TEST(SafetensorsReader, Offsets) {
  const std::vector<uint8_t> d8(8);
  expect_error([&] { parse(raw_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})", d8)); },
               {"tensor b", "overlap tensor a"});
  expect_error([&] { parse(raw_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", d8)); },
               {"tensor b", "overlap tensor a"});
  expect_error([&] { parse(raw_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", d8)); },
               {"tensor a", "gap of 4 unused bytes"});
  expect_error([&] { parse(raw_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", d8)); },
               {"tensor b", "outside the data section (8 bytes)"});
  expect_error([&] { parse(raw_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551616]}})", d8)); },
               {"tensor a"});
  expect_error([&] { parse(raw_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", d8)); },
               {"end before begin"});
  expect_error([&] { parse(raw_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", d8)); },
               {"trailing"});
  // Out-of-order in the header but contiguous by offset is fine (as in safetensors).
  auto ok = parse(raw_image(R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", d8));
  EXPECT_EQ(ok.size(), 2u);
}

TEST(SafetensorsReader, Metadata) {
  auto ok = parse(raw_image(R"({"__metadata__":{"format":"pt"}})", {}));
  EXPECT_TRUE(ok.empty());
  expect_error([] { parse(raw_image(R"({"__metadata__":{"format":1}})", {})); }, {"__metadata__", "must be a string"});
  expect_error([] { parse(raw_image(R"({"__metadata__":[]})", {})); }, {"__metadata__ must be an object"});
}

TEST(SafetensorsReader, MessagesClipUntrustedNames) {
  // A 3000-byte name of 3-byte characters plus a newline: the message stays short, valid UTF-8
  // (dumpable as JSON by the server) and free of control bytes.
  std::string name = "\\n";
  for (int i = 0; i < 1000; ++i) name += "\u20ac";
  const std::string h = "{\"" + name + "\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}";
  try {
    parse(raw_image(h, std::vector<uint8_t>(4)));
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_LT(m.size(), 400u);
    EXPECT_EQ(m.find('\n'), std::string::npos);
    EXPECT_NE(m.find("?\u20ac\u20ac"), std::string::npos) << m;
    EXPECT_NE(m.find("..."), std::string::npos);
    EXPECT_NO_THROW((void)nlohmann::json(m).dump());  // throws on invalid UTF-8
  }
  EXPECT_EQ(clip("abc"), "abc");
  EXPECT_EQ(clip("\xe2\x82\xac\xe2\x82\xac", 4), "\xe2\x82\xac...");
}

TEST(SafetensorsReader, RandomCorruptionNeverCrashes) {
  const std::vector<uint8_t> img = serialize_safetensors(sample_tensors(), {{"format", "pt"}});
  std::mt19937 rng(1234);
  int accepted = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> m = img;
    int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      size_t at = rng() % (trial % 3 == 0 ? 8 + 64 : m.size());  // bias towards length + header start
      m[at] = uint8_t(rng());
    }
    try {
      auto v = parse(m);
      for (auto& [name, t] : v) {  // accepted views must lie inside the buffer
        const uint8_t* p = static_cast<const uint8_t*>(t.data);
        ASSERT_GE(p, m.data());
        ASSERT_LE(p + t.nbytes(), m.data() + m.size());
      }
      ++accepted;
    } catch (const Error&) {
    }
  }
  EXPECT_GT(accepted, 0);  // flips inside tensor data stay valid
}

TEST(SafetensorsArchive, OpenFileMmapAndReadAgree) {
  TempDir dir;
  write_safetensors(dir / "model.safetensors", sample_tensors());
  SafetensorsArchive m = SafetensorsArchive::open_file(dir / "model.safetensors");
  set_mmap_disabled_for_testing(true);
  SafetensorsArchive r = SafetensorsArchive::open_file(dir / "model.safetensors");
  set_mmap_disabled_for_testing(false);
  ASSERT_EQ(m.tensors().size(), r.tensors().size());
  for (const auto& [name, v] : m.tensors()) {
    const TensorView& w = r.get(name);
    ASSERT_EQ(v.nbytes(), w.nbytes());
    EXPECT_EQ(std::memcmp(v.data, w.data, v.nbytes()), 0) << name;
  }
  expect_error([&] { m.get("nope"); }, {"no tensor nope"});
  expect_error([&] { SafetensorsArchive::open_file(dir / "missing.safetensors"); }, {"cannot open", "missing.safetensors"});
  expect_error([&] { SafetensorsArchive::open_file(dir.path.string()); }, {"not a regular file"});
  write_bytes(dir / "empty.safetensors", {});
  expect_error([&] { SafetensorsArchive::open_file(dir / "empty.safetensors"); }, {"too small"});
}

TEST(SafetensorsArchive, MisalignedTensorsGetAlignedCopies) {
  // An F32 tensor after an odd-length BF16 one (the python writer never does this; others might).
  const std::string h = R"({"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})";
  std::string padded = h + std::string((8 - h.size() % 8) % 8, ' ');
  std::vector<uint8_t> data = {0x80, 0x3f, 0, 0, 0x40, 0x40};  // a = 1.0 bf16, b = 3.0 f32
  TempDir dir;
  write_bytes(dir / "m.safetensors", raw_image(padded, data));
  SafetensorsArchive a = SafetensorsArchive::open_file(dir / "m.safetensors");
  const TensorView& b = a.get("b");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data) % 4, 0u);
  EXPECT_EQ(b.at(0), 3.f);
  EXPECT_EQ(a.get("a").at(0), 1.f);
}

// --- sharded checkpoints ---

void write_shards(const TempDir& dir) {
  write_safetensors(dir / "model-00001-of-00002.safetensors",
                    {make_tensor("x", DType::F32, {2}, {1, 2}), make_tensor("y", DType::BF16, {1}, {3})});
  write_safetensors(dir / "model-00002-of-00002.safetensors", {make_tensor("z", DType::F16, {1}, {4})});
}
const char* kGoodIndex = R"({"metadata":{"total_size":12},"weight_map":{
  "x":"model-00001-of-00002.safetensors","y":"model-00001-of-00002.safetensors","z":"model-00002-of-00002.safetensors"}})";

TEST(SafetensorsArchive, ShardedDirectory) {
  TempDir dir;
  write_shards(dir);
  write_text(dir / "model.safetensors.index.json", kGoodIndex);
  SafetensorsArchive a = SafetensorsArchive::open_dir(dir.path.string());
  ASSERT_EQ(a.tensors().size(), 3u);
  EXPECT_EQ(a.get("x").at(1), 2.f);
  EXPECT_EQ(a.get("y").at(0), 3.f);
  EXPECT_EQ(a.get("z").at(0), 4.f);
}

TEST(SafetensorsArchive, BadShardIndex) {
  TempDir dir;
  write_shards(dir);
  const std::string idx = dir / "model.safetensors.index.json";
  auto open = [&] { SafetensorsArchive::open_dir(dir.path.string()); };

  expect_error(open, {"no model.safetensors or model.safetensors.index.json"});
  write_text(idx, "{not json");
  expect_error(open, {"index.json", "not valid JSON"});
  write_text(idx, "[]");
  expect_error(open, {"expected a JSON object"});
  write_text(idx, R"({"metadata":{}})");
  expect_error(open, {"missing \"weight_map\""});
  write_text(idx, R"({"weight_map":{}})");
  expect_error(open, {"weight_map is empty"});
  write_text(idx, R"({"weight_map":{"x":3}})");
  expect_error(open, {"weight_map[\"x\"]", "file name string"});
  write_text(idx, R"({"weight_map":{"x":"../x.safetensors"}})");
  expect_error(open, {"\"../x.safetensors\" is not a plain file name"});
  write_text(idx, R"({"weight_map":{"x":"/etc/passwd"}})");
  expect_error(open, {"not a plain file name"});
  write_text(idx, R"({"weight_map":{"x":".."}})");
  expect_error(open, {"not a plain file name"});
  write_text(idx, R"({"weight_map":{"x":"model-00003-of-00003.safetensors"}})");
  expect_error(open, {"shard model-00003-of-00003.safetensors", "does not exist"});
  // y is listed in the wrong shard.
  write_text(idx, R"({"weight_map":{"x":"model-00001-of-00002.safetensors","y":"model-00002-of-00002.safetensors","z":"model-00002-of-00002.safetensors"}})");
  expect_error(open, {"tensor y is mapped to model-00002-of-00002.safetensors but found in model-00001-of-00002.safetensors"});
  // y not listed at all.
  write_text(idx, R"({"weight_map":{"x":"model-00001-of-00002.safetensors","z":"model-00002-of-00002.safetensors"}})");
  expect_error(open, {"tensor y is not listed"});
  // w listed but absent from its shard.
  write_text(idx, R"({"weight_map":{"w":"model-00001-of-00002.safetensors","x":"model-00001-of-00002.safetensors","y":"model-00001-of-00002.safetensors","z":"model-00002-of-00002.safetensors"}})");
  expect_error(open, {"tensor w is mapped to model-00001-of-00002.safetensors but that shard lacks it"});
  // Duplicate across shards.
  write_safetensors(dir / "model-00002-of-00002.safetensors",
                    {make_tensor("z", DType::F16, {1}, {4}), make_tensor("x", DType::F32, {2}, {1, 2})});
  write_text(idx, kGoodIndex);
  expect_error(open, {"tensor x appears in two shards"});
  // A corrupt shard names the shard file.
  write_bytes(dir / "model-00002-of-00002.safetensors", {1, 2, 3});
  expect_error(open, {"model-00002-of-00002.safetensors", "too small"});
}

TEST(SafetensorsArchive, SingleFilePreferredOverIndex) {
  TempDir dir;
  write_safetensors(dir / "model.safetensors", {make_tensor("only", DType::F32, {1}, {5})});
  write_text(dir / "model.safetensors.index.json", "garbage");
  SafetensorsArchive a = SafetensorsArchive::open_dir(dir.path.string());
  EXPECT_TRUE(a.has("only"));
}

}  // namespace
}  // namespace lastrank
