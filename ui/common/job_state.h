#pragma once
// One panel's background job as its buttons see it: idle, running, being
// cancelled; and locked while another panel's job runs (one destructive or
// heavy job at a time). Tickets tell the current job's results from those of a
// job since superseded or dropped (another connection, a Cancel whose partial
// result is not shown). The Invalidate and Warm panels, the Keys page's scan
// and the keyspace analysis (and its Reclaim) hold one each instead of their
// own copies of the same flags and generation counters.
//
// GUI thread only. The job itself runs on CoreService's workers; its handle
// only asks it to stop (between batches).
#include <cstdint>
#include <utility>

#include "common/core_service.h"

namespace tier::ui {

class JobState {
 public:
  JobState() = default;
  JobState(const JobState&) = delete;
  JobState& operator=(const JobState&) = delete;
  ~JobState() { handle_.cancel(); }  // a panel that goes away stops its worker

  // The job (or the next step of it) now running: its handle, for cancel().
  JobState& operator=(JobHandle handle) {
    handle_ = std::move(handle);
    return *this;
  }

  bool running() const noexcept { return running_; }
  bool cancelling() const noexcept { return cancelling_; }
  bool locked() const noexcept { return locked_; }
  bool idle() const noexcept { return !running_ && !locked_; }              // a job may start
  bool cancellable() const noexcept { return running_ && !cancelling_; }  // Cancel is enabled

  void setLocked(bool locked) noexcept { locked_ = locked; }
  void started() noexcept {
    running_ = true;
    cancelling_ = false;
  }
  void finished() {
    running_ = false;
    cancelling_ = false;
    handle_ = JobHandle{};
  }
  // A new job, superseding any running one (its handle is asked to stop, its
  // results become stale): started(), and the new job's ticket.
  std::uint64_t begin() {
    handle_.cancel();
    handle_ = JobHandle{};
    ++ticket_;
    started();
    return ticket_;
  }
  // True while the job that got this ticket is the running one: its results
  // (and progress) are shown; any other ticket's are dropped.
  bool current(std::uint64_t ticket) const noexcept { return running_ && ticket == ticket_; }
  // The current job's ticket, for a job that asks for its next step later (a scan's next page).
  std::uint64_t ticket() const noexcept { return ticket_; }
  // Stops the job and retires its ticket at once, without waiting for it to
  // report: whatever it still delivers is dropped.
  void drop() {
    handle_.cancel();
    ++ticket_;
    finished();
  }
  // Asks the running job to stop; false (nothing done) if none runs or it was asked already.
  bool cancel() {
    if (!cancellable()) return false;
    cancelling_ = true;
    handle_.cancel();
    return true;
  }

 private:
  JobHandle handle_;
  bool running_ = false;
  bool cancelling_ = false;
  bool locked_ = false;
  std::uint64_t ticket_ = 0;
};

}  // namespace tier::ui
