#pragma once

// JobLauncher: the ProcessLauncher of durable jobs. New attempts go to the configured launcher
// (`[jobs] runner`: the shared job runner, or a shim per attempt); an attempt that an earlier
// daemon started under the other one is re-adopted by that one and followed to its end. So a
// daemon restarted with the other launcher (an upgrade to a release with another default, or
// a person switching `[jobs] runner`) neither kills a running job nor runs it again: without
// this, the configured launcher would not find the attempt, judge its outcome unknown and
// kill the job as an orphan (docs/jobs.md, "Switching launchers").
//
//   JobLauncher launcher(runner_launcher, shim_launcher,
//                        {.run_dir = data + "/run"}, DefaultFileSystem());
//   launcher.Adopt(spec, on_exit);   // under whichever launcher its child record names
//   launcher.Launch(spec, on_exit);  // always under runner_launcher
//
// Who runs an attempt is read from its child records (supervise/child_table.h: the runner's
// table, then RUN_DIR/NAME.child, which every shim writes). Any record whose shim_pid is a live
// `rebound shim --name NAME --run-dir RUN_DIR` sends it to the shim launcher; else any whose
// shim_pid is a live `rebound runner --run-dir RUN_DIR`, to the runner launcher (whichever
// record is newest: a dead runner's slot can outlive later attempts). A NAME.child that names
// nothing alive is judged by the configured launcher from the records, as before. With no
// NAME.child, a shim that has not written it yet is looked for by its command line (ShimLauncher's
// Adopt); failing that, the runner launcher decides when it is the configured one, when a
// dead runner's slot names the job (it kills what that runner orphaned), when a runner of
// RUN_DIR lives (it asks the runner what runs), or when NAME.exit is there.
//
// Loop-thread only, like the launchers it routes to; they and `fs` must outlive it.

#include <optional>
#include <set>
#include <string>

#include "base/file_system.h"
#include "supervise/launcher.h"

namespace rebound::jobs {

struct JobLauncherOptions {
  std::string run_dir;  // the jobs' NAME.child and NAME.exit
};

class JobLauncher final : public supervise::ProcessLauncher {
 public:
  // `configured` starts every new attempt; `shims` and `runner` are the two launchers (one of
  // them is `configured`).
  JobLauncher(supervise::ProcessLauncher& configured, supervise::ProcessLauncher& shims,
              supervise::ProcessLauncher& runner, JobLauncherOptions options, FileSystem& fs);

  Result<supervise::LaunchedProcess> Launch(const supervise::ServiceSpec& spec,
                                            supervise::ExitCallback on_exit) override;
  Result<supervise::Adoption> Adopt(const supervise::ServiceSpec& spec,
                                    supervise::ExitCallback on_exit) override;
  Status Signal(const std::string& name, int signal) override;
  Status Kill(const std::string& name) override;
  std::optional<int> ChildPid(const std::string& name) override;
  void DiscardRecords(const std::string& name) override;

  // Jobs whose current attempt another launcher than the configured one runs or ended.
  size_t adopted_from_other() const { return other_.size(); }

 private:
  // Whether a `rebound runner --run-dir RUN_DIR` lives (/proc, read once: adoption happens at
  // startup).
  bool HasLiveRunner();
  supervise::ProcessLauncher& For(const std::string& name);
  Result<supervise::Adoption> AdoptUnder(supervise::ProcessLauncher& launcher,
                                         const supervise::ServiceSpec& spec,
                                         supervise::ExitCallback on_exit);

  supervise::ProcessLauncher& configured_;
  supervise::ProcessLauncher& shims_;
  supervise::ProcessLauncher& runner_;
  JobLauncherOptions options_;
  FileSystem& fs_;
  std::set<std::string> other_;  // names adopted from the launcher that is not configured_
  std::optional<bool> live_runner_;
};

}  // namespace rebound::jobs
