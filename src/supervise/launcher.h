#pragma once

// ProcessLauncher: how the supervisor starts, signals and finds service processes. The real
// one (launcher_shim.cc) runs each service under `rebound shim`; tests use
// testing::FakeLauncher with scripted exits.
//
//   auto process = launcher.Launch(spec, [this](const ExitInfo& exit) { OnExit(exit); });
//   launcher.Signal("api", SIGTERM);   // forwarded to the service's process group
//   launcher.Kill("api");              // SIGKILL to the whole process group
//
// `on_exit` is called exactly once per launched or adopted process, on the thread that
// drives the supervisor (the reactor), never from inside Launch or Adopt.
//
// A launcher that SupportsRespawn() runs processes that may restart their service themselves,
// without a round trip through the supervisor, while the supervisor allows it:
//
//   launcher.WatchRespawns("api", [this](const Respawn& r) { OnRespawned(r); });
//   launcher.SetRespawnAllowance("api", generation + 3);   // up to 3 immediate restarts
//   launcher.SetRespawnAllowance("api", generation);       // revoked: exits come to on_exit
//
// An exit the process does not restart itself still ends it and reaches `on_exit`.

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/error.h"
#include "supervise/service_spec.h"

namespace rebound::supervise {

struct LaunchedProcess {
  int shim_pid = 0;
  std::optional<int> child_pid = {};  // the service itself, once known
  WallTime started = {};
  uint64_t generation = 0;  // restarts the process already did itself (adopted ones)
};

struct ExitInfo {
  std::optional<int> exit_code = {};
  std::optional<int> signal = {};
  WallTime ended = {};
  // "exited with code 3", "killed by signal 9 (SIGKILL)", "shim vanished without a record".
  std::string description = {};

  bool IsSuccess() const { return exit_code == 0 && !signal; }
};

enum class AdoptOutcome {
  kNothingFound,     // no instance from an earlier daemon: start it
  kRunning,          // a live instance was re-adopted: do not start another
  kExitedMeanwhile,  // it ended while no daemon watched: apply the restart policy
};

struct Adoption {
  AdoptOutcome outcome = AdoptOutcome::kNothingFound;
  LaunchedProcess process = {};
  ExitInfo exit = {};
};

using ExitCallback = std::function<void(const ExitInfo&)>;

// A process restarted its service itself, under its allowance.
struct Respawn {
  uint64_t generation = 0;  // its restarts so far; may jump by more than one
  int child_pid = 0;        // the service's new process
  WallTime started = {};
  ExitInfo previous_exit = {};  // how the process before it ended
};

using RespawnCallback = std::function<void(const Respawn&)>;

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;

  virtual Result<LaunchedProcess> Launch(const ServiceSpec& spec, ExitCallback on_exit) = 0;
  // Looks for an instance an earlier daemon started; a live one is watched from now on.
  virtual Result<Adoption> Adopt(const ServiceSpec& spec, ExitCallback on_exit) = 0;
  virtual Status Signal(const std::string& name, int signal) = 0;
  virtual Status Kill(const std::string& name) = 0;
  // The pid of the service's own process (not the shim's), once it is known.
  virtual std::optional<int> ChildPid(const std::string& name) = 0;
  // Forgets what an ended process of this name left behind (its exit record), for launchers
  // that keep it until the caller has durably recorded the outcome. Default: nothing kept.
  virtual void DiscardRecords(const std::string& /*name*/) {}

  // Whether launched processes can restart their service themselves. Default: no.
  virtual bool SupportsRespawn() const { return false; }
  // The running process of `name` may restart its service itself while its restart
  // generation is below `generation`; a value at or below it revokes. Absolute, so one that
  // arrives late never allows more than was meant. An error means it may not have arrived:
  // the process may still hold the allowance it had (a Kill() then ends the whole process,
  // so that it cannot restart what is killed). Default: nothing.
  virtual Status SetRespawnAllowance(const std::string& /*name*/, uint64_t /*generation*/) {
    return OkStatus();
  }
  // Calls `on_respawn` (loop thread, never from inside this call) when the running process
  // of `name` reports restarts it did itself, until it exits. Before its exit reaches
  // on_exit, every restart it recorded has been reported. An error means restarts cannot be
  // reported as they happen (only at the exit): the process's allowance is revoked and later
  // ones are lowered to revokes. Default: never.
  virtual Status WatchRespawns(const std::string& /*name*/, RespawnCallback /*on_respawn*/) {
    return OkStatus();
  }
};

// Receives every supervisor state change (the engine journals and logs them).
class EventSink {
 public:
  virtual ~EventSink() = default;
  // kind: "starting", "started", "exited", "restart_scheduled", "fatal", "stopping",
  // "stopped", "stop_timeout", "adopted", "launch_failed", "respawn_unwatched",
  // "respawn_revoke_failed". data always has "message".
  virtual void Emit(const std::string& kind, const std::string& service,
                    const nlohmann::json& data) = 0;
};

}  // namespace rebound::supervise
