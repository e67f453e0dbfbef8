#pragma once

// Supervisor::Service, the per-service state the supervisor keeps. Internal to supervise/:
// shared by supervisor.cc and supervisor_reconfigure.cc only.

#include <deque>
#include <optional>
#include <string>

#include "resilience/backoff.h"
#include "supervise/supervisor.h"

namespace rebound::supervise {

struct Supervisor::Service {
  ServiceSpec spec;
  resilience::Backoff backoff;
  ServiceState state = ServiceState::kStopped;
  bool wanted = false;           // should be running
  bool stopped_by_hand = false;  // StartAll leaves it alone
  bool ever_ran = false;         // the startup timeout holds only for a first start
  bool stop_requested = false;   // the next exit is one we asked for
  uint64_t generation = 0;       // of the current process; stale exit callbacks are ignored
  // Restarts the current process did itself (ProcessLauncher::WatchRespawns), as last seen.
  uint64_t process_generation = 0;
  // The respawn allowance the current process holds, as last sent; unknown for an adopted one.
  std::optional<uint64_t> allowance = {};
  std::optional<LaunchedProcess> process = {};
  MonoTime running_since{};
  int64_t restarts = 0;
  std::deque<MonoTime> recent_restarts = {};  // within the intensity window
  std::optional<TimerId> restart_timer = {};
  std::optional<TimerId> kill_timer = {};
  // Sends again an allowance whose signal could not be sent (UpdateAllowance).
  std::optional<TimerId> allowance_retry = {};
  std::optional<MonoTime> waiting_since = {};  // for dependencies (the start gate)
  std::optional<TimerId> gate_timer = {};
  std::optional<ExitInfo> last_exit = {};
  std::string message = {};
  bool removed = false;  // by Reconfigure: hidden from Find, forgotten once it is down
};

}  // namespace rebound::supervise
