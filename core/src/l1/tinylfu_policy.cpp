#include "l1/tinylfu_policy.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tier::l1::detail {
namespace {

// Caffeine's guard against hash flooding: a warm candidate that loses still gets
// in now and then, so an attacker cannot pin a victim by inflating its count.
constexpr unsigned kWarmCandidate = 6;
constexpr std::size_t kDynamicSketchStart = 1024;
// The hill climber: the step (Caffeine: 6.25 %; on a small cache a large step is
// mostly noise), its decay per sample, the hit rate change that restarts it.
constexpr double kStepShare = 0.03;
constexpr double kStepDecay = 0.98;
constexpr double kRestartThreshold = 0.05;
constexpr std::uint64_t kMinSample = 256;  // a tiny cache's samples would be all noise

}  // namespace

TinyLfuPolicy::TinyLfuPolicy() : EvictionPolicy(/*eagerAccess=*/false), step_(kStepShare) {}

void TinyLfuPolicy::setCapacity(std::size_t entries) {
  capacity_ = entries;
  sketch_.ensureCapacity(entries ? entries : kDynamicSketchStart);
}

std::size_t TinyLfuPolicy::capacityNow() const noexcept { return capacity_ ? capacity_ : std::max<std::size_t>(total(), 1); }

std::size_t TinyLfuPolicy::windowMax() const noexcept {
  // At least one entry: a newcomer always enters through the window.
  return std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(capacityNow()) * share_));
}

std::size_t TinyLfuPolicy::protectedMax() const noexcept {
  const std::size_t cap = capacityNow();
  const std::size_t main = cap > windowMax() ? cap - windowMax() : 0;
  return main * 8 / 10;
}

void TinyLfuPolicy::flushHits(Entry* e) noexcept {
  const unsigned n = std::min(e->takePendingHits(), 16u);  // the sketch saturates at 15 anyway
  if (n == 0) return;
  const std::uint64_t h = keyHash(e->key());
  for (unsigned i = 0; i < n; ++i) sketch_.increment(h);
}

Entry* TinyLfuPolicy::moveFront(Segment from, Segment to) noexcept {
  Entry* e = lists_[from].popFront();
  if (!e) return nullptr;
  e->setSegment(to);
  lists_[to].pushBack(e);
  return e;
}

void TinyLfuPolicy::onInsert(Entry* e, std::uint64_t hash) {
  if (capacity_ == 0 && total() >= sketch_.capacity()) sketch_.ensureCapacity(std::bit_ceil(total() + 1) * 2);
  sketch_.increment(hash);
  e->setSegment(kWindow);
  lists_[kWindow].pushBack(e);
  // The window's LRU end moves to probation, where the next eviction judges it.
  // (size > windowMax >= 1: a live entry other than e is on the window.)
  while (lists_[kWindow].size() > windowMax()) {
    Entry* t = lists_[kWindow].front();
    // The newcomer is the most recent use of all (others' pending hits happened
    // before it): it goes back to the MRU end, as does one used while in the window
    // (second chance).
    if (t == e || t->pendingHits() != 0) {
      if (t != e) flushHits(t);
      moveFront(kWindow, kWindow);
      continue;
    }
    candidate_ = moveFront(kWindow, kProbation);
  }
}

void TinyLfuPolicy::onReplace(Entry* old, Entry* fresh, std::uint64_t) {
  flushHits(old);  // its pending hits count for the key, not for the retired block
  const auto seg = static_cast<Segment>(old->segment());
  lists_[seg].remove(old);  // released by the queue later
  fresh->setSegment(seg);
  lists_[seg].pushBack(fresh);
  if (candidate_ == old) candidate_ = fresh;  // both newest on probation
  fresh->touch();
}

void TinyLfuPolicy::onErase(Entry* e) {
  flushHits(e);  // a key that comes back keeps its popularity
  if (candidate_ == e) candidate_ = nullptr;
  lists_[e->segment()].remove(e);
}

void TinyLfuPolicy::setWindowShare(double share) noexcept {
  share_ = std::clamp(share, 0.0, kMaxWindowShare);
  // A smaller window hands its LRU end to probation now (pending hits travel along
  // and are applied there); a larger one fills from newcomers while evictions shrink
  // the main space. Either way every entry stays on exactly one list.
  while (lists_[kWindow].size() > windowMax()) moveFront(kWindow, kProbation);
  while (lists_[kProtected].size() > protectedMax()) moveFront(kProtected, kProbation);
}

void TinyLfuPolicy::onCounts(std::uint64_t hits, std::uint64_t misses) {
  // Totals that went backwards (a counter reset) start a new sample.
  if (hits < sampleHits_ || misses < sampleMisses_) {
    sampleHits_ = hits;
    sampleMisses_ = misses;
    return;
  }
  // While the cache first fills and the sketch learns (until its first halving), the
  // hit rate rises whatever the window does: no samples yet.
  if (!warm_) {
    sampleHits_ = hits;
    sampleMisses_ = misses;
    warm_ = total() >= capacityNow() && sketch_.resets() != 0;
    return;
  }
  const std::uint64_t dh = hits - sampleHits_;
  const std::uint64_t n = dh + (misses - sampleMisses_);
  // A sample spans one aging period of the sketch (Caffeine: 10 x capacity): shorter
  // samples swing with the aging more than with the window (simulated: +-3 points of
  // hit rate, which random-walked the window to 30 % on IID Zipf).
  if (n < std::max<std::uint64_t>(FrequencySketch::kSampleFactor * capacityNow(), kMinSample)) return;
  sampleHits_ = hits;
  sampleMisses_ = misses;
  ++samples_;
  const double rate = static_cast<double>(dh) / static_cast<double>(n);
  if (previousRate_ < 0) {  // the first full sample is the baseline; the first probe grows the window
    previousRate_ = rate;
    step_ = kStepShare;
    setWindowShare(share_ + step_);
    return;
  }
  // Caffeine's rule: keep the direction while the hit rate does not fall, else
  // reverse; a jump restarts the step at full size.
  const double change = rate - previousRate_;
  const double amount = change >= 0 ? step_ : -step_;
  step_ = std::abs(change) >= kRestartThreshold ? (amount >= 0 ? kStepShare : -kStepShare) : amount * kStepDecay;
  previousRate_ = rate;
  setWindowShare(share_ + amount);
}

Entry* TinyLfuPolicy::probationVictim() noexcept {
  for (;;) {
    Entry* t = lists_[kProbation].front();
    if (!t || t->pendingHits() == 0 || t == candidate_) return t;
    // Used while on probation: promoted, as an eager SLRU would have done at the hit.
    flushHits(t);
    moveFront(kProbation, kProtected);
    while (lists_[kProtected].size() > protectedMax()) {
      Entry* p = lists_[kProtected].front();
      if (p != t && p->pendingHits() != 0) {
        flushHits(p);
        moveFront(kProtected, kProtected);
        continue;
      }
      moveFront(kProtected, kProbation);  // demoted to probation's MRU end
    }
  }
}

bool TinyLfuPolicy::admit(unsigned candidateFreq, unsigned victimFreq) noexcept {
  if (candidateFreq > victimFreq) return true;
  if (candidateFreq < kWarmCandidate) return false;
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return (rng_ & 127) == 0;
}

Entry* TinyLfuPolicy::victim() {
  Entry* v = probationVictim();
  Entry* c = candidate_;
  candidate_ = nullptr;
  if (c && v && c != v) {
    const unsigned fc = sketch_.frequency(keyHash(c->key())) + c->pendingHits();
    const unsigned fv = sketch_.frequency(keyHash(v->key()));
    return admit(fc, fv) ? v : c;
  }
  if (v) return v;
  if (Entry* p = lists_[kProtected].front()) return p;
  return lists_[kWindow].front();
}

}  // namespace tier::l1::detail
