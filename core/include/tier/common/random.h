#pragma once
// Seedable random numbers for simulations, synthetic workloads and tests: a
// small generator and the two ways the core draws items from it (a Zipf rank,
// and a fixed permutation from ranks to items so the hot ones are spread out).
// Leaf header: the synthetic workload (workload/) and the cache-policy trace
// simulator (sim/) both use it; it depends on nothing of the core.
//
// Not cryptographic. Rng is not thread-safe (each thread owns one);
// ZipfSampler and Permutation are immutable after construction and safe to
// share between threads.
#include <cstdint>

namespace tier::random {

// splitmix64: a small, fast, seedable generator; each worker owns one.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  std::uint64_t below(std::uint64_t n) noexcept { return n ? next() % n : 0; }         // [0, n); 0 if n == 0

 private:
  std::uint64_t state_;
};

// Zipf over ranks 1..n with P(k) proportional to 1/k^s, by rejection-inversion
// (Hörmann & Derflinger 1996): O(1) memory and expected O(1) time per sample
// for any n.
class ZipfSampler {
 public:
  // REQUIRES: n >= 1, s >= 0 (smaller values are raised to those).
  ZipfSampler(std::uint64_t n, double s);
  std::uint64_t sample(Rng& rng) const;  // in [1, n]
  std::uint64_t n() const noexcept { return n_; }
  double s() const noexcept { return s_; }
  // The exact probability of rank k (sums the normalisation once; O(n)). For tests.
  static double probability(std::uint64_t n, double s, std::uint64_t k);

 private:
  double h(double x) const;
  double hIntegral(double x) const;
  double hIntegralInverse(double x) const;
  std::uint64_t n_;
  double s_;
  double hIntegralX1_ = 0;
  double hIntegralN_ = 0;
  double squeeze_ = 0;
};

// A fixed pseudo-random permutation of [0, n): i -> (a*i + b) mod n with a
// coprime to n. Maps Zipf ranks to items so the hot ones are spread out.
class Permutation {
 public:
  Permutation() = default;
  Permutation(std::uint64_t n, std::uint64_t seed);
  std::uint64_t operator()(std::uint64_t i) const noexcept;  // REQUIRES: i < n
  std::uint64_t size() const noexcept { return n_; }

 private:
  std::uint64_t n_ = 1, a_ = 1, b_ = 0;
};

}  // namespace tier::random
