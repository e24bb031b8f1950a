// The backend seam (src/backend/backend.h): precision names, the backend registry, the CPU
// backend's precision -> packing map, its load-time error order, and its fast attention at
// selected rows vs the reference backend's.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/kernel_set.h"
#include "core/error.h"

namespace lastrank {
namespace {

TEST(Precision, NamesAreTheUserNames) {
  EXPECT_EQ(precision_names(), (std::vector<std::string>{"fp32", "bf16", "int8"}));
  for (Precision p : {Precision::fp32, Precision::bf16, Precision::int8})
    EXPECT_EQ(parse_precision(precision_name(p)), p);
  EXPECT_EQ(parse_precision("bf16"), Precision::bf16);
  for (const char* bad : {"bf16-weights", "bf16-dot", "fp16", "fast-bf16", ""})
    EXPECT_THROW(parse_precision(bad), Error) << bad;
}

// avx2_vnni is avx2 + AVX-VNNI; the avx512 sets above it in the order do not need AVX-VNNI.
TEST(KernelSets, Avx2VnniNeedsAvxVnniOnly) {
  using cpu::KernelSet;
  cpu::CpuFeatures f;
  f.sse2 = f.x86_64_v2 = f.avx = f.avx2 = f.fma = f.f16c = f.bmi1 = f.bmi2 = f.lzcnt = f.movbe = f.os_ymm = true;
  EXPECT_EQ(cpu::missing_features(KernelSet::avx2, f), "");
  EXPECT_EQ(cpu::missing_features(KernelSet::avx2_vnni, f), "avx_vnni");
  f.avx_vnni = true;
  EXPECT_EQ(cpu::missing_features(KernelSet::avx2_vnni, f), "");
  f.avx_vnni = false;
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = f.avx512cd = f.os_zmm = f.avx512_vnni = true;
  EXPECT_EQ(cpu::missing_features(KernelSet::avx512_vnni, f), "");
  EXPECT_EQ(cpu::parse_kernel_set("avx2_vnni"), KernelSet::avx2_vnni);
  EXPECT_STREQ(cpu::kernel_set_name(KernelSet::avx2_vnni), "avx2_vnni");
}

// The ARM64 sets are cumulative: neon_i8mm needs dot product (HWCAP) as well as i8mm (HWCAP2),
// neon_bf16 all of those and bf16 (HWCAP2).
TEST(KernelSets, NeonSetsAreCumulative) {
  using cpu::KernelSet;
  cpu::CpuFeatures f;
  f.neon = true;
  EXPECT_EQ(cpu::missing_features(KernelSet::neon_i8mm, f), "asimddp i8mm");
  f.i8mm = true;
  EXPECT_EQ(cpu::missing_features(KernelSet::neon_i8mm, f), "asimddp");
  f.asimddp = true;
  EXPECT_EQ(cpu::missing_features(KernelSet::neon_i8mm, f), "");
  EXPECT_EQ(cpu::missing_features(KernelSet::neon_bf16, f), "bf16");
  f.bf16 = true;
  f.i8mm = false;
  EXPECT_EQ(cpu::missing_features(KernelSet::neon_bf16, f), "i8mm");
  EXPECT_EQ(cpu::missing_features(KernelSet::neon_dotprod, f), "");
  EXPECT_EQ(cpu::parse_kernel_set("neon_i8mm"), KernelSet::neon_i8mm);
  EXPECT_STREQ(cpu::kernel_set_name(KernelSet::neon_i8mm), "neon_i8mm");
  EXPECT_EQ(cpu::parse_kernel_set("neon_bf16"), KernelSet::neon_bf16);
}

TEST(Backend, RegistryByName) {
  EXPECT_EQ(backend_names(), (std::vector<std::string>{"cpu"}));
  BackendOptions o;
  o.threads = 2;
  EXPECT_EQ(make_backend("cpu", o)->threads(), 2);
  try {
    make_backend("cuda", o);
    ADD_FAILURE() << "unknown backend accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cpu"), std::string::npos) << e.what();
  }
}

TEST(CpuBackend, PackFormatPerPrecision) {
  using cpu::PackFormat;
  EXPECT_EQ(cpu::pack_format(Precision::fp32), PackFormat::fp32);
  EXPECT_EQ(cpu::pack_format(Precision::int8), PackFormat::int8);
  EXPECT_EQ(cpu::pack_format(Precision::bf16),
            cpu::gemm_bf16_dot_rounds_activations() ? PackFormat::bf16_dot : PackFormat::bf16_weights);
  EXPECT_EQ(cpu::pack_format(Precision::bf16, false), PackFormat::bf16_weights);
}

TensorView view_of(const std::vector<float>& data, int rank, int64_t n, int64_t k, const char* name) {
  TensorView v;
  v.dtype = DType::F32;
  v.rank = rank;
  v.shape = {n, rank == 2 ? k : 0, 0, 0};
  v.data = data.data();
  v.name = name;
  return v;
}

// Weights are prepared concurrently; the error reported is the first bad one in spec order.
TEST(CpuBackend, LoadLinearsReportsFirstErrorInOrder) {
  std::vector<float> data(64, 0.5f);
  const TensorView good = view_of(data, 2, 8, 8, "good"), bad_a = view_of(data, 1, 64, 0, "bad_a"),
                   bad_b = view_of(data, 1, 64, 0, "bad_b");
  auto be = cpu::make_cpu_backend({4});
  std::vector<LinearSpec> specs;
  for (int i = 0; i < 9; ++i) specs.push_back({&good, Precision::fp32});
  specs.push_back({&bad_a, Precision::int8});
  specs.push_back({&good, Precision::bf16});
  specs.push_back({&bad_b, Precision::fp32});
  try {
    be->load_linears(specs);
    ADD_FAILURE() << "bad weights accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad_a"), std::string::npos) << e.what();
  }
  specs.resize(9);
  const auto ok = be->load_linears(specs);
  ASSERT_EQ(ok.size(), 9u);
  EXPECT_EQ(ok[0]->n(), 8);
  EXPECT_EQ(ok[0]->precision(), Precision::fp32);
}

// Attention at a few selected query rows: the fast kernel vs the reference backend (full causal
// attention, then the selected rows), fp32, with GQA and a sliding window.
TEST(CpuBackend, AttentionRowsMatchReference) {
  const int64_t len = 37, n_q = 4, n_kv = 2, d = 8;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> q(size_t(4 * n_q * d)), k(size_t(len * n_kv * d)), v(k.size());
  for (auto* t : {&q, &k, &v})
    for (float& e : *t) e = nd(rng);
  const std::vector<int64_t> rows = {0, 5, 20, 36};
  for (int64_t window : {0, 6}) {
    AttentionShape s{len, n_q, n_kv, d, window};
    std::vector<float> fast(q.size()), ref(q.size());
    cpu::make_cpu_backend({2})->attention_rows(s, rows.data(), 4, q.data(), k.data(), v.data(), fast.data());
    cpu::make_cpu_backend({1, true})->attention_rows(s, rows.data(), 4, q.data(), k.data(), v.data(), ref.data());
    for (size_t i = 0; i < q.size(); ++i) EXPECT_NEAR(fast[i], ref[i], 1e-5) << "window " << window << " at " << i;
  }
}

TEST(CpuBackend, BuffersGrowAndCrossToHost) {
  auto be = cpu::make_cpu_backend({1});
  auto b = be->buffer();
  float* p = b->grow(5);
  const std::vector<float> host = {1, -2, 3, -4, 5};
  be->upload(host.data(), 5, p);
  be->relu(p, 5);
  std::vector<float> back(5);
  be->download(b->data(), 5, back.data());
  EXPECT_EQ(back, (std::vector<float>{1, 0, 3, 0, 5}));
  EXPECT_NE(b->grow(1 << 20), nullptr);
}

}  // namespace
}  // namespace lastrank
