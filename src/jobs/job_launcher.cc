#include "jobs/job_launcher.h"

#include "supervise/child_table.h"
#include "supervise/exit_record.h"
#include "supervise/launcher_shim.h"
#include "supervise/runner_process.h"

namespace rebound::jobs {

using supervise::Adoption;
using supervise::AdoptOutcome;
using supervise::ProcessLauncher;

JobLauncher::JobLauncher(ProcessLauncher& configured, ProcessLauncher& shims,
                         ProcessLauncher& runner, JobLauncherOptions options, FileSystem& fs)
    : configured_(configured),
      shims_(shims),
      runner_(runner),
      options_(std::move(options)),
      fs_(fs) {}

bool JobLauncher::HasLiveRunner() {
  if (!live_runner_) {
    live_runner_ = supervise::FindJobRunnerProcess(fs_, options_.run_dir).has_value();
  }
  return *live_runner_;
}

ProcessLauncher& JobLauncher::For(const std::string& name) {
  if (!other_.contains(name)) {
    return configured_;
  }
  return &configured_ == &shims_ ? runner_ : shims_;
}

Result<Adoption> JobLauncher::AdoptUnder(ProcessLauncher& launcher,
                                         const supervise::ServiceSpec& spec,
                                         supervise::ExitCallback on_exit) {
  auto adoption = launcher.Adopt(spec, std::move(on_exit));
  if (&launcher != &configured_ && adoption.ok() &&
      adoption->outcome != AdoptOutcome::kNothingFound) {
    other_.insert(spec.name);  // its signals, exit and records are that launcher's
  }
  return adoption;
}

Result<Adoption> JobLauncher::Adopt(const supervise::ServiceSpec& spec,
                                    supervise::ExitCallback on_exit) {
  other_.erase(spec.name);
  // Looked at before the records are read: a shim writing its NAME.child meanwhile is then
  // either in the records or found below as a starting shim, never judged without it.
  const bool had_file = fs_.Exists(supervise::ChildRecordPath(options_.run_dir, spec.name));
  // Any record that names a live supervisor decides, whichever is newest (a dead runner's slot
  // may outlive later attempts: nobody clears it once no runner opens the table), a live shim
  // before a runner (a slot whose clearing failed may still name the live runner).
  const std::vector<supervise::ChildRecord> records =
      supervise::FindChildRecords(fs_, options_.run_dir, spec.name);
  for (const supervise::ChildRecord& child : records) {
    if (supervise::IsShimFor(fs_, child.shim_pid, spec.name, options_.run_dir)) {
      return AdoptUnder(shims_, spec, std::move(on_exit));
    }
  }
  for (const supervise::ChildRecord& child : records) {
    if (supervise::IsJobRunnerFor(fs_, child.shim_pid, options_.run_dir)) {
      return AdoptUnder(runner_, spec, std::move(on_exit));
    }
  }
  // A NAME.child that names nothing alive is judged from the records by the configured
  // launcher, as always.
  if (had_file) {
    return AdoptUnder(configured_, spec, std::move(on_exit));
  }
  // No NAME.child: a shim so new that it has not written one (the shim launcher finds it by its
  // command line, and changes nothing when there is none), a job of a runner (alive, or dead
  // with its record in the table), or nothing at all.
  auto starting = AdoptUnder(shims_, spec, on_exit);
  if (!starting.ok() || starting->outcome != AdoptOutcome::kNothingFound) {
    return starting;
  }
  // The runner launcher asks a live runner what runs, reads an exit record without a
  // NAME.child (which the shim launcher would not), and kills what a dead runner orphaned.
  if (&configured_ == &runner_ || !records.empty() || HasLiveRunner() ||
      fs_.Exists(supervise::ExitRecordPath(options_.run_dir, spec.name))) {
    return AdoptUnder(runner_, spec, std::move(on_exit));
  }
  return starting;
}

Result<supervise::LaunchedProcess> JobLauncher::Launch(const supervise::ServiceSpec& spec,
                                                       supervise::ExitCallback on_exit) {
  other_.erase(spec.name);
  return configured_.Launch(spec, std::move(on_exit));
}

Status JobLauncher::Signal(const std::string& name, int signal) {
  return For(name).Signal(name, signal);
}

Status JobLauncher::Kill(const std::string& name) { return For(name).Kill(name); }

std::optional<int> JobLauncher::ChildPid(const std::string& name) {
  return For(name).ChildPid(name);
}

// Called once the outcome is committed (or before a new attempt): the last call that needs the
// launcher of the attempt that ended; the next attempt is the configured launcher's.
void JobLauncher::DiscardRecords(const std::string& name) {
  For(name).DiscardRecords(name);
  other_.erase(name);
}

}  // namespace rebound::jobs
