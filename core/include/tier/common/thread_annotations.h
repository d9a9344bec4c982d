#pragma once
// Lock-guarded state, checked at compile time: clang's -Wthread-safety analysis
// (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html). Mark a member
// TIER_GUARDED_BY(mu), a function that needs the lock TIER_REQUIRES(mu); clang
// then rejects a read or write of that member, or a call, without mu held.
// GCC ignores the attributes (the macros expand to nothing), so the release,
// ASan and TSan builds compile as before; the clang preset and the fuzz preset
// build the core with -Wthread-safety -Werror=thread-safety.
//
// libstdc++'s std::mutex carries no annotations, so the analysis cannot see it
// being taken: the guarded state uses tier::Mutex / tier::SharedMutex and takes
// them with tier::MutexLock / ReaderLock / WriterLock (scoped, like
// std::lock_guard), or waits on them with tier::CondVar. All are thin
// wrappers: no extra state, the same cost as the std types.
//
// Thread-safety: Mutex, SharedMutex and CondVar are safe to use from any thread,
// as their std counterparts; the scoped locks belong to the thread that made them.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define TIER_TSA(x) __attribute__((x))
#else
#define TIER_TSA(x)
#endif

#define TIER_CAPABILITY(name) TIER_TSA(capability(name))
#define TIER_SCOPED_CAPABILITY TIER_TSA(scoped_lockable)
#define TIER_GUARDED_BY(m) TIER_TSA(guarded_by(m))
#define TIER_PT_GUARDED_BY(m) TIER_TSA(pt_guarded_by(m))
#define TIER_REQUIRES(...) TIER_TSA(requires_capability(__VA_ARGS__))
#define TIER_REQUIRES_SHARED(...) TIER_TSA(requires_shared_capability(__VA_ARGS__))
#define TIER_ACQUIRE(...) TIER_TSA(acquire_capability(__VA_ARGS__))
#define TIER_ACQUIRE_SHARED(...) TIER_TSA(acquire_shared_capability(__VA_ARGS__))
#define TIER_RELEASE(...) TIER_TSA(release_capability(__VA_ARGS__))
#define TIER_RELEASE_SHARED(...) TIER_TSA(release_shared_capability(__VA_ARGS__))
#define TIER_RELEASE_GENERIC(...) TIER_TSA(release_generic_capability(__VA_ARGS__))
#define TIER_TRY_ACQUIRE(...) TIER_TSA(try_acquire_capability(__VA_ARGS__))
#define TIER_EXCLUDES(...) TIER_TSA(locks_excluded(__VA_ARGS__))
#define TIER_RETURN_CAPABILITY(x) TIER_TSA(lock_returned(x))
// For the few functions whose locking the analysis cannot follow (say why at
// each use): a lock taken in one function and released in another.
#define TIER_NO_THREAD_SAFETY_ANALYSIS TIER_TSA(no_thread_safety_analysis)

namespace tier {

class TIER_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() TIER_ACQUIRE() { m_.lock(); }
  void unlock() TIER_RELEASE() { m_.unlock(); }
  bool try_lock() TIER_TRY_ACQUIRE(true) { return m_.try_lock(); }

 private:
  friend class CondVar;
  std::mutex m_;
};

class TIER_CAPABILITY("shared mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void lock() TIER_ACQUIRE() { m_.lock(); }
  void unlock() TIER_RELEASE() { m_.unlock(); }
  void lock_shared() TIER_ACQUIRE_SHARED() { m_.lock_shared(); }
  void unlock_shared() TIER_RELEASE_SHARED() { m_.unlock_shared(); }

 private:
  std::shared_mutex m_;
};

// std::lock_guard for Mutex, plus unlock() and lock() again inside the scope
// (std::unique_lock's use); the destructor unlocks only if held.
class TIER_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& m) TIER_ACQUIRE(m) : m_(m) { m_.lock(); }
  // Takes over a lock the caller already holds (after its own lock() or try_lock()).
  MutexLock(Mutex& m, std::adopt_lock_t) TIER_REQUIRES(m) : m_(m) {}
  ~MutexLock() TIER_RELEASE() {
    if (held_) m_.unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  void unlock() TIER_RELEASE() {
    m_.unlock();
    held_ = false;
  }
  void lock() TIER_ACQUIRE() {
    m_.lock();
    held_ = true;
  }

 private:
  Mutex& m_;
  bool held_ = true;
};

class TIER_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& m) TIER_ACQUIRE_SHARED(m) : m_(m) { m_.lock_shared(); }
  ~ReaderLock() TIER_RELEASE() { m_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& m_;
};

class TIER_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& m) TIER_ACQUIRE(m) : m_(m) { m_.lock(); }
  ~WriterLock() TIER_RELEASE() { m_.unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& m_;
};

// std::condition_variable over a Mutex the caller holds (REQUIRES: m held; it is
// held again when a wait returns). Callers loop on their condition themselves,
// in code the analysis checks: `while (!ready) cv.wait(mu);`.
class CondVar {
 public:
  void wait(Mutex& m) TIER_REQUIRES(m) {
    std::unique_lock<std::mutex> lk(m.m_, std::adopt_lock);
    cv_.wait(lk);
    lk.release();
  }
  // false when the deadline passed (the caller re-checks its condition either way).
  template <class Clock, class Duration>
  bool waitUntil(Mutex& m, const std::chrono::time_point<Clock, Duration>& deadline) TIER_REQUIRES(m) {
    std::unique_lock<std::mutex> lk(m.m_, std::adopt_lock);
    const bool notTimedOut = cv_.wait_until(lk, deadline) == std::cv_status::no_timeout;
    lk.release();
    return notTimedOut;
  }
  template <class Rep, class Period>
  bool waitFor(Mutex& m, const std::chrono::duration<Rep, Period>& d) TIER_REQUIRES(m) {
    return waitUntil(m, std::chrono::steady_clock::now() + d);
  }
  void notify_one() noexcept { cv_.notify_one(); }
  void notify_all() noexcept { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace tier
