#pragma once
// The synthetic workload's operation mix: what share of its operations each
// kind of request is. A leaf header: the workload (workload.h) runs it and the
// trace simulator (tier/sim/trace_sim.h) replays its key sequence without the
// workload's engine.
namespace tier::workload {

struct Mix {  // relative weights, each >= 0, not all 0
  int entry_read = 40;
  int session_read = 25;
  int message_append = 5;
  int knowledge_lookup = 20;
  int analytics_read = 7;
  int entry_edit = 3;
  int search = 2;  // full-text search of the home user's entries
};

}  // namespace tier::workload
