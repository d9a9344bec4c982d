#pragma once
// One panel's background job as its buttons see it: idle, running, being
// cancelled; and locked while another panel's job runs (one destructive or
// heavy job at a time). The Invalidate and Warm panels hold one each instead
// of their own copies of the same flags.
//
// GUI thread only. The job itself runs on CoreService's workers; its handle
// only asks it to stop (between batches).
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
};

}  // namespace tier::ui
