#include "tier/common/random.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tier::random {
namespace {

// log1p(x)/x, continuous at 0.
double helper1(double x) {
  return std::abs(x) > 1e-8 ? std::log1p(x) / x : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}
// expm1(x)/x, continuous at 0.
double helper2(double x) {
  return std::abs(x) > 1e-8 ? std::expm1(x) / x : 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
}

}  // namespace

ZipfSampler::ZipfSampler(std::uint64_t n, double s) : n_(std::max<std::uint64_t>(n, 1)), s_(std::max(s, 0.0)) {
  hIntegralX1_ = hIntegral(1.5) - 1.0;
  hIntegralN_ = hIntegral(static_cast<double>(n_) + 0.5);
  squeeze_ = 2.0 - hIntegralInverse(hIntegral(2.5) - h(2.0));
}

double ZipfSampler::h(double x) const {
  return std::exp(-s_ * std::log(x));
}

double ZipfSampler::hIntegral(double x) const {
  const double logX = std::log(x);
  return helper2((1.0 - s_) * logX) * logX;
}

double ZipfSampler::hIntegralInverse(double x) const {
  double t = x * (1.0 - s_);
  if (t < -1.0) t = -1.0;  // rounding can push t just past the domain of log1p
  return std::exp(helper1(t) * x);
}

std::uint64_t ZipfSampler::sample(Rng& rng) const {
  if (n_ == 1) return 1;
  for (;;) {
    const double u = hIntegralN_ + rng.uniform() * (hIntegralX1_ - hIntegralN_);
    const double x = hIntegralInverse(u);
    double kd = std::floor(x + 0.5);
    if (kd < 1) kd = 1;
    if (kd > static_cast<double>(n_)) kd = static_cast<double>(n_);
    const auto k = static_cast<std::uint64_t>(kd);
    if (kd - x <= squeeze_ || u >= hIntegral(kd + 0.5) - h(kd)) return k;
  }
}

double ZipfSampler::probability(std::uint64_t n, double s, std::uint64_t k) {
  double norm = 0;
  for (std::uint64_t i = n; i >= 1; --i) norm += std::pow(static_cast<double>(i), -s);  // small terms first
  return std::pow(static_cast<double>(k), -s) / norm;
}

Permutation::Permutation(std::uint64_t n, std::uint64_t seed) : n_(std::max<std::uint64_t>(n, 1)) {
  Rng r(seed);
  a_ = n_ == 1 ? 1 : 1 + r.next() % (n_ - 1);
  while (std::gcd(a_, n_) != 1) a_ = a_ % (n_ - 1) + 1;  // walks 1..n-1, and 1 always qualifies
  b_ = r.next() % n_;
}

std::uint64_t Permutation::operator()(std::uint64_t i) const noexcept {
  __extension__ using U128 = unsigned __int128;  // a*i may not fit 64 bits
  return static_cast<std::uint64_t>((static_cast<U128>(a_) * i + b_) % n_);
}

}  // namespace tier::random
