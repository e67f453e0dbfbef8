#pragma once

// FakeLauncher: a ProcessLauncher with scripted processes, for supervisor tests.
//
//   FakeLauncher launcher(scheduler, clock);
//   supervisor.StartAll();
//   launcher.Crash("api", 1);          // the running "api" exits with code 1 (delivered via
//   scheduler.RunDue();                //  the scheduler, like a real exit notification)
//   EXPECT_EQ(launcher.launches("api"), 2);
//
// Processes obey stop signals (exit with that signal) unless told to ignore them.
//
// After EnableRespawn(), processes restart their service themselves like a shim with
// --respawn: an exit (Crash, ExitWithSignal, Kill) that the policy restarts, while the
// process's generation is below its allowance and it has not received its stop signal,
// becomes a new child (a new pid, generation + 1) reported through WatchRespawns instead
// of an exit. Restarts made before the report is delivered are reported together, as one
// jump of the generation (as a reader of the latest NAME.child sees them).
//
//   launcher.EnableRespawn();
//   supervisor.StartAll();
//   launcher.Crash("api", 1);   scheduler.RunDue();
//   EXPECT_EQ(launcher.generation("api"), 1);
//
// Not thread-safe. Scheduler and clock must outlive it.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/scheduler.h"
#include "supervise/launcher.h"

namespace rebound::testing {

class FakeLauncher final : public supervise::ProcessLauncher {
 public:
  FakeLauncher(Scheduler& scheduler, const Clock& clock) : scheduler_(scheduler), clock_(clock) {}

  Result<supervise::LaunchedProcess> Launch(const supervise::ServiceSpec& spec,
                                            supervise::ExitCallback on_exit) override;
  Result<supervise::Adoption> Adopt(const supervise::ServiceSpec& spec,
                                    supervise::ExitCallback on_exit) override;
  Status Signal(const std::string& name, int signal) override;
  Status Kill(const std::string& name) override;
  std::optional<int> ChildPid(const std::string& name) override;
  // Records the call; `on_discard` (if set) sees it as it happens.
  void DiscardRecords(const std::string& name) override;
  bool SupportsRespawn() const override { return respawn_enabled_; }
  Status SetRespawnAllowance(const std::string& name, uint64_t generation) override;
  Status WatchRespawns(const std::string& name, supervise::RespawnCallback on_respawn) override;

  // Scripting.
  void Crash(const std::string& name, int exit_code);
  void ExitWithSignal(const std::string& name, int signal);
  void IgnoreStopSignals(const std::string& name) { stubborn_.insert(name); }
  void FailLaunches(const std::string& name, Error error) { launch_errors_.emplace(name, error); }
  void SetAdoption(const std::string& name, supervise::Adoption adoption) {
    adoptions_[name] = adoption;
  }
  void FailAdoption(const std::string& name, Error error) { adopt_errors_.emplace(name, error); }
  void EnableRespawn() { respawn_enabled_ = true; }
  // A restart the process makes whatever its allowance says: an allowance revoked too late.
  void RespawnIgnoringAllowance(const std::string& name, int exit_code);
  // Allowances sent to `name` fail (and change nothing) until told otherwise. Like the shim
  // launcher, a Kill() after a failed send ends the whole process: no restart.
  void FailAllowances(const std::string& name, bool fail) { fail_allowances_[name] = fail; }
  // WatchRespawns for `name` fails: like the shim launcher, the process's allowance is revoked
  // and later ones are lowered to revokes; its restarts are still reported.
  void FailRespawnWatch(const std::string& name) { unwatched_.insert(name); }

  // Observation.
  int launches(const std::string& name) const;
  bool IsRunning(const std::string& name) const { return running_.contains(name); }
  const std::vector<std::string>& launch_order() const { return launch_order_; }
  const std::vector<std::pair<std::string, int>>& signals() const { return signals_; }
  int pid(const std::string& name) const;
  const std::vector<std::string>& discards() const { return discards_; }
  // The allowance the running process of `name` holds (0: none), and every one sent.
  uint64_t allowance(const std::string& name) const;
  const std::vector<std::pair<std::string, uint64_t>>& allowances_sent() const {
    return allowances_sent_;
  }
  uint64_t generation(const std::string& name) const;
  // Allowances and signals in the order they were sent: "allow api 3", "signal api 15"
  // ("allow api 0 failed" for a send that failed).
  const std::vector<std::string>& calls() const { return calls_; }
  void OnDiscard(std::function<void(const std::string&)> on_discard) {
    on_discard_ = std::move(on_discard);
  }

 private:
  void DeliverExit(const std::string& name, supervise::ExitInfo exit);
  bool MayRespawn(const std::string& name, const supervise::ExitInfo& exit) const;
  void Respawn(const std::string& name, supervise::ExitInfo exit);

  struct RespawnState {
    supervise::RestartPolicy policy = supervise::RestartPolicy::kNever;
    int stop_signal = 0;
    uint64_t generation = 0;
    uint64_t allowance = 0;
    bool stop_received = false;
    bool allowance_unsure = false;  // the last send failed
    supervise::RespawnCallback on_respawn = {};
    std::optional<supervise::Respawn> unreported = {};  // the latest, until delivered
  };

  Scheduler& scheduler_;
  const Clock& clock_;
  int next_pid_ = 1000;
  std::map<std::string, supervise::ExitCallback> running_;
  std::map<std::string, int> pids_;
  std::map<std::string, int> launch_counts_;
  std::vector<std::string> launch_order_;
  std::vector<std::pair<std::string, int>> signals_;
  std::set<std::string> stubborn_;
  std::map<std::string, Error> launch_errors_;
  std::map<std::string, supervise::Adoption> adoptions_;
  std::map<std::string, Error> adopt_errors_;
  std::vector<std::string> discards_;
  std::function<void(const std::string&)> on_discard_;
  bool respawn_enabled_ = false;
  std::map<std::string, RespawnState> respawn_;  // of the running process of each name
  std::vector<std::pair<std::string, uint64_t>> allowances_sent_;
  std::vector<std::string> calls_;
  std::map<std::string, bool> fail_allowances_;
  std::set<std::string> unwatched_;
};

}  // namespace rebound::testing
