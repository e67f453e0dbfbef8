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

  // Scripting.
  void Crash(const std::string& name, int exit_code);
  void ExitWithSignal(const std::string& name, int signal);
  void IgnoreStopSignals(const std::string& name) { stubborn_.insert(name); }
  void FailLaunches(const std::string& name, Error error) { launch_errors_.emplace(name, error); }
  void SetAdoption(const std::string& name, supervise::Adoption adoption) {
    adoptions_[name] = adoption;
  }
  void FailAdoption(const std::string& name, Error error) { adopt_errors_.emplace(name, error); }

  // Observation.
  int launches(const std::string& name) const;
  bool IsRunning(const std::string& name) const { return running_.contains(name); }
  const std::vector<std::string>& launch_order() const { return launch_order_; }
  const std::vector<std::pair<std::string, int>>& signals() const { return signals_; }
  int pid(const std::string& name) const;
  const std::vector<std::string>& discards() const { return discards_; }
  void OnDiscard(std::function<void(const std::string&)> on_discard) {
    on_discard_ = std::move(on_discard);
  }

 private:
  void DeliverExit(const std::string& name, supervise::ExitInfo exit);

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
};

}  // namespace rebound::testing
