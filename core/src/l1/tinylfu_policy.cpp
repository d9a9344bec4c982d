#include "l1/tinylfu_policy.h"

#include <algorithm>
#include <bit>

namespace tier::l1::detail {
namespace {

// Caffeine's guard against hash flooding: a warm candidate that loses still gets
// in now and then, so an attacker cannot pin a victim by inflating its count.
constexpr unsigned kWarmCandidate = 6;
constexpr std::size_t kDynamicSketchStart = 1024;

}  // namespace

void TinyLfuPolicy::setCapacity(std::size_t entries) {
  capacity_ = entries;
  sketch_.ensureCapacity(entries ? entries : kDynamicSketchStart);
}

std::size_t TinyLfuPolicy::capacityNow() const noexcept { return capacity_ ? capacity_ : std::max<std::size_t>(total(), 1); }

std::size_t TinyLfuPolicy::windowMax() const noexcept { return std::max<std::size_t>(1, capacityNow() / 100); }

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

void TinyLfuPolicy::move(Entry* e, Segment to) noexcept {
  lists_[e->segment()].unlink(e);
  e->setSegment(to);
  lists_[to].pushFront(e);
}

void TinyLfuPolicy::onInsert(Entry* e, std::uint64_t hash) {
  if (capacity_ == 0 && total() >= sketch_.capacity()) sketch_.ensureCapacity(std::bit_ceil(total() + 1) * 2);
  sketch_.increment(hash);
  e->setSegment(kWindow);
  lists_[kWindow].pushFront(e);
  // The window's LRU end moves to probation, where the next eviction judges it.
  while (lists_[kWindow].size() > windowMax()) {
    Entry* t = lists_[kWindow].tail();
    // The newcomer is the most recent use of all (others' pending hits happened before it).
    if (t == e) t = e->prev;
    if (t->pendingHits() != 0) {  // used while in the window: second chance
      flushHits(t);
      lists_[kWindow].moveToFront(t);
      continue;
    }
    move(t, kProbation);
    candidate_ = t;
  }
}

void TinyLfuPolicy::onErase(Entry* e) {
  flushHits(e);  // a key that comes back keeps its popularity
  if (candidate_ == e) candidate_ = nullptr;
  lists_[e->segment()].unlink(e);
}

Entry* TinyLfuPolicy::probationVictim() noexcept {
  for (;;) {
    Entry* t = lists_[kProbation].tail();
    if (!t || t->pendingHits() == 0 || t == candidate_) return t;
    // Used while on probation: promoted, as an eager SLRU would have done at the hit.
    flushHits(t);
    move(t, kProtected);
    while (lists_[kProtected].size() > protectedMax()) {
      Entry* p = lists_[kProtected].tail();
      if (p != t && p->pendingHits() != 0) {
        flushHits(p);
        lists_[kProtected].moveToFront(p);
        continue;
      }
      move(p, kProbation);  // demoted to probation's MRU end
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
  if (Entry* p = lists_[kProtected].tail()) return p;
  return lists_[kWindow].tail();
}

}  // namespace tier::l1::detail
