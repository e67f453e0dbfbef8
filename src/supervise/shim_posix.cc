// The process half of shim.h: session, spawn, output capture, signal forwarding, records.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "base/atomic_file.h"
#include "base/clock.h"
#include "base/file_system.h"
#include "base/spawn.h"
#include "base/unique_fd.h"
#include "supervise/exit_record.h"
#include "supervise/process_info.h"
#include "supervise/rotating_log.h"
#include "supervise/shim.h"

namespace rebound::supervise {
namespace {

// The stop and control signals a supervisor sends; SIGKILL goes to the group directly.
constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2};
constexpr size_t kReadChunkBytes = 64 * 1024;
// After the child exits, a grandchild may still hold the pipe and keep writing: the final
// drain reads at most this much (the largest pipe buffer Linux allows by default).
constexpr size_t kMaxFinalDrainBytes = 1024 * 1024;
constexpr int kExitNotFound = 127;
constexpr int kExitNotExecutable = 126;

// The shim's few lines for stderr and stdout, written with write(2): no iostreams, whose
// static set-up (locale, buffers) every shim would pay for at each start and in memory.
void WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // nobody reads (stderr is /dev/null under the daemon): nothing else to do
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

void PrintError(const std::string& line) { WriteAll(STDERR_FILENO, line + "\n"); }

// A broken invariant (a bad argument to a syscall that cannot fail otherwise): a bug.
[[noreturn]] void DieBecause(const std::string& what) {
  PrintError("rebound shim: internal error: " + what + ": " + ::strerror(errno));
  std::abort();
}

// What the signalfd reads: the forwarded signals and the daemon's respawn allowance.
sigset_t ShimSignalSet() {
  sigset_t set;
  ::sigemptyset(&set);
  for (int signal : kForwardedSignals) {
    ::sigaddset(&set, signal);
  }
  ::sigaddset(&set, RespawnAllowanceSignal());
  return set;
}

int64_t NowMillis() { return ToUnixMillis(DefaultClock().WallNow()); }

class Shim {
 public:
  explicit Shim(const ShimOptions& options)
      : options_(options),
        fs_(DefaultFileSystem()),
        log_(fs_, {.path = options.log_path,
                   .max_bytes = options.log_max_bytes,
                   .keep = options.log_keep}) {}

  int Run() {
    TakeOverProcess();
    if (Status prepared = PrepareRunDir(); !prepared.ok()) {
      OpenLogOrWarn();
      Warn("cannot prepare the run directory, not starting: " + prepared.error().ToString());
      return kShimRecordFailedExitCode;
    }
    // The service starts before the log opens: rotating the previous run's log (a directory
    // scan and a few renames) stays off the way to a respawn. Until the log is open, the
    // service's first output waits in the pipe.
    const int spawn_error = StartChild();
    OpenLogOrWarn();
    if (spawn_error != 0) {
      return Finish(ExecFailureRecord(spawn_error));
    }
    Note("started '" + options_.command.front() + "' as pid " + std::to_string(child_));
    if (!RecordChild(std::nullopt).ok()) {
      // Unrecorded, the service could not be told from another process after a daemon crash,
      // nor killed by a daemon that stops it: it must not run. No exit record either: the
      // daemon sees a shim that ended without one and applies the restart policy.
      Warn("ending '" + options_.command.front() + "': its child record could not be written");
      ::kill(-child_, SIGKILL);
      (void)ReapChild();
      return kShimRecordFailedExitCode;
    }
    while (true) {
      Supervise();
      ExitRecord ended = ReapChild();
      if (!MayRespawn(ended)) {
        (void)CopyOutput(output_fd_.get(), kMaxFinalDrainBytes);  // what the child wrote last
        return Finish(ended);
      }
      if (std::optional<ExitRecord> not_restarted = Respawn(ended)) {
        return Finish(*not_restarted);
      }
    }
  }

 private:
  // Own session (the daemon's death or its terminal's SIGHUP does not reach us), SIGPIPE
  // ignored (a dead reader is an error return), forwarded signals read from a signalfd.
  void TakeOverProcess() {
    setsid_error_ = ::setsid() < 0 ? errno : 0;
    ::signal(SIGPIPE, SIG_IGN);
    // Dispositions survive exec: an ignored SIGCHLD inherited from the daemon would make the
    // kernel reap the child for us and lose its status.
    ::signal(SIGCHLD, SIG_DFL);
    for (int signal : kForwardedSignals) {
      ::signal(signal, SIG_DFL);
    }
    const sigset_t handled = ShimSignalSet();
    if (::sigprocmask(SIG_BLOCK, &handled, nullptr) != 0) {
      DieBecause("sigprocmask");
    }
    signal_fd_.Reset(::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signal_fd_.IsOpen()) {
      DieBecause("signalfd");
    }
    for (const auto& [key, value] : options_.env) {
      ::setenv(key.c_str(), value.c_str(), /*overwrite=*/1);
    }
  }

  Status OpenLog() {
    REBOUND_RETURN_IF_ERROR(fs_.CreateDirs(ParentDir(options_.log_path)));
    return log_.Open();
  }

  void OpenLogOrWarn() {
    if (Status opened = OpenLog(); !opened.ok()) {
      Warn("output will be dropped until the log can be written: " + opened.error().ToString());
    }
    if (setsid_error_ != 0) {
      Note(std::string("setsid failed (already a process group leader?): ") +
           ::strerror(setsid_error_));
    }
  }

  Status PrepareRunDir() {
    REBOUND_RETURN_IF_ERROR(fs_.CreateDirs(options_.run_dir));
    for (const std::string& path : {ExitRecordPath(options_.run_dir, options_.name),
                                    ChildRecordPath(options_.run_dir, options_.name)}) {
      if (fs_.Exists(path)) {
        REBOUND_RETURN_IF_ERROR(fs_.RemoveFile(path));  // a previous run's record
      }
    }
    return OkStatus();
  }

  // Returns 0 once the child runs, else the errno of the failed spawn.
  int StartChild() {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      return errno;
    }
    output_fd_.Reset(pipe_fds[0]);
    UniqueFd write_end(pipe_fds[1]);
    ::fcntl(output_fd_.get(), F_SETFL, O_NONBLOCK);
    started_ms_ = NowMillis();
    const SupervisedFileActions actions(write_end.get(), options_.cwd.value_or(""));
    const int spawn_error = SpawnInOwnGroup(options_.command, actions.get(), child_);
    if (spawn_error != 0) {
      return spawn_error;
    }
    pid_fd_.Reset(static_cast<int>(::syscall(SYS_pidfd_open, child_, 0)));
    if (!pid_fd_.IsOpen()) {
      // Linux >= 5.3 is required. Never leave a service running that nobody watches.
      const int pidfd_error = errno;
      ::kill(-child_, SIGKILL);
      errno = pidfd_error;
      DieBecause("pidfd_open of our own child");
    }
    return 0;
  }

  Status RecordChild(std::optional<PreviousExit> previous_exit) {
    ChildRecord record{.name = options_.name,
                       .shim_pid = ::getpid(),
                       .child_pid = child_,
                       .started_ms = started_ms_,
                       .generation = generation_,
                       .previous_exit = std::move(previous_exit)};
    // The child is not reaped yet, so /proc/PID exists even if it already exited.
    auto start_time = ProcessStartTime(child_);
    if (start_time.ok()) {
      record.child_start_time = *start_time;
    } else {
      Warn("child start time unknown (recorded as 0): " + start_time.error().ToString());
    }
    Status written =
        WriteChildRecord(fs_, ChildRecordPath(options_.run_dir, options_.name), record);
    if (!written.ok()) {
      Warn("cannot write the child record: " + written.error().ToString());
    }
    return written;
  }

  // Level-triggered poll over three fds until the pidfd says the child has exited.
  void Supervise() {
    pollfd fds[] = {
        {signal_fd_.get(), POLLIN, 0}, {output_fd_.get(), POLLIN, 0}, {pid_fd_.get(), POLLIN, 0}};
    while (true) {
      if (::poll(fds, std::size(fds), /*timeout=*/-1) < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == ENOMEM) {
          continue;  // transient: poll again
        }
        DieBecause("poll");
      }
      if (fds[0].revents != 0) {
        ForwardPendingSignals();
      }
      if (fds[1].revents != 0 && !CopyOutput(output_fd_.get(), kReadChunkBytes)) {
        fds[1].fd = -1;  // every writer closed the pipe: stop polling it
      }
      if (fds[2].revents != 0) {
        return;
      }
    }
  }

  // Reads every pending signal: the allowance is kept, the others are forwarded to the
  // child's group while the child is unreaped (after that its pid could name another
  // process's group), and the stop signal is remembered either way.
  void ForwardPendingSignals(bool child_unreaped = true) {
    signalfd_siginfo info;
    while (::read(signal_fd_.get(), &info, sizeof(info)) == sizeof(info)) {
      const int signal = static_cast<int>(info.ssi_signo);
      if (signal == RespawnAllowanceSignal()) {
        // Absolute, so the latest one sent is the one that holds (same-signal real-time
        // signals arrive in the order sent): a revoke is simply a lower G.
        allowance_ = static_cast<uint32_t>(info.ssi_int);
        continue;
      }
      if (signal == options_.stop_signal.value_or(SIGTERM)) {
        stop_received_ = true;  // the daemon is stopping the service: never restart it now
      }
      if (!child_unreaped) {
        Note("received " + SignalName(signal) + " after the service ended");
      } else if (::kill(-child_, signal) == 0) {
        Note("forwarded " + SignalName(signal) + " to process group " + std::to_string(child_));
      } else {
        Note("could not forward " + SignalName(signal) + ": " + ::strerror(errno));
      }
    }
  }

  // Copies up to `budget` bytes from the pipe to the log. False once the pipe is at EOF.
  bool CopyOutput(int fd, size_t budget) {
    char buffer[kReadChunkBytes];
    while (budget > 0) {
      const ssize_t n = ::read(fd, buffer, std::min(budget, sizeof(buffer)));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return n < 0 && errno == EAGAIN;
      }
      WriteOutput(std::string_view(buffer, static_cast<size_t>(n)));
      budget -= static_cast<size_t>(n);
    }
    return true;
  }

  // Output that cannot be written is dropped (the pipe is always read, so the service never
  // blocks on a full disk); the first failure warns, the recovery says how much was lost.
  void WriteOutput(std::string_view data) {
    Status written = log_.Write(data);
    if (!written.ok() && !log_failing_) {
      log_failing_ = true;
      PrintError("rebound shim " + options_.name +
                 ": dropping output: " + written.error().ToString());
    } else if (written.ok() && log_failing_) {
      log_failing_ = false;
      Note("log writable again; " + std::to_string(log_.stats().bytes_dropped) +
           " bytes of output dropped so far");
    }
  }

  ExitRecord ReapChild() {
    siginfo_t info{};
    while (::waitid(P_PIDFD, static_cast<id_t>(pid_fd_.get()), &info, WEXITED) != 0) {
      if (errno != EINTR) {
        DieBecause("waitid on our own child");
      }
    }
    ExitRecord record = BaseRecord();
    record.child_pid = child_;
    if (info.si_code == CLD_EXITED) {
      record.exit_code = info.si_status;
    } else {
      record.signal = info.si_status;
      record.core_dumped = info.si_code == CLD_DUMPED;
    }
    return record;
  }

  // Whether this exit may be restarted here, without the daemon: the allowance (read after the
  // exit, so that a revoke sent before the daemon killed the service is seen) covers one more
  // generation, no stop signal came, and the restart policy wants it.
  bool MayRespawn(const ExitRecord& ended) {
    if (options_.respawn == ShimRespawn::kNever) {
      return false;
    }
    ForwardPendingSignals(/*child_unreaped=*/false);
    if (stop_received_ || generation_ >= allowance_) {
      return false;
    }
    const bool success = ended.exit_code == 0 && !ended.signal;
    return options_.respawn == ShimRespawn::kAlways || !success;
  }

  // Starts the service again at once; the bookkeeping comes after the spawn, off the way to
  // the new process: NAME.child first (until it names the new child, a daemon that must kill
  // the service finds only the dead one), then the old pipe's last output and the log note.
  // Returns nothing once restarted, else the record to finish with: the spawn's failure, or
  // the exit itself when the new child could not be recorded (an unrecorded restart must not
  // run: a daemon stopping the service would wait for a record that never comes).
  std::optional<ExitRecord> Respawn(const ExitRecord& ended) {
    UniqueFd old_output = std::move(output_fd_);
    const int spawn_error = StartChild();
    const PreviousExit previous{.child_pid = ended.child_pid,
                                .exit_code = ended.exit_code,
                                .signal = ended.signal,
                                .core_dumped = ended.core_dumped,
                                .started_ms = ended.started_ms,
                                .ended_ms = ended.ended_ms};
    bool recorded = false;
    if (spawn_error == 0) {
      ++generation_;
      recorded = RecordChild(previous).ok();
    }
    (void)CopyOutput(old_output.get(), kMaxFinalDrainBytes);
    if (spawn_error != 0) {
      Note(options_.name + " " + DescribeExit(previous) + "; restarting it failed");
      return ExecFailureRecord(spawn_error);
    }
    if (!recorded) {
      UndoUnrecordedRestart();
      return ended;
    }
    Note(options_.name + " " + DescribeExit(previous) + "; restarted it as pid " +
         std::to_string(child_) + " (restart " + std::to_string(generation_) +
         " allowed by the daemon, up to " + std::to_string(allowance_) + ")");
    return std::nullopt;
  }

  void UndoUnrecordedRestart() {
    Note("the restart as pid " + std::to_string(child_) +
         " could not be recorded: ending it and leaving the restart to the daemon");
    ::kill(-child_, SIGKILL);
    (void)ReapChild();
    --generation_;
  }

  // What a shell reports when it cannot run a command: 127 not found, 126 not executable.
  ExitRecord ExecFailureRecord(int spawn_error) {
    // posix_spawn reports a failed chdir with the same errno as a missing command.
    struct stat cwd_stat;
    const int cwd_error = options_.cwd && ::stat(options_.cwd->c_str(), &cwd_stat) != 0 ? errno : 0;
    const bool not_found = spawn_error == ENOENT && cwd_error == 0;
    std::string why = ::strerror(spawn_error);
    if (cwd_error != 0) {
      why = "working directory " + *options_.cwd + ": " + ::strerror(cwd_error);
    } else if (not_found) {
      why = "command not found (" + why + ")";
    }
    Note("cannot run '" + options_.command.front() + "': " + why);
    ExitRecord record = BaseRecord();
    record.exit_code = not_found ? kExitNotFound : kExitNotExecutable;
    return record;
  }

  ExitRecord BaseRecord() const {
    return ExitRecord{.name = options_.name,
                      .shim_pid = ::getpid(),
                      .started_ms = started_ms_ != 0 ? started_ms_ : NowMillis(),
                      .ended_ms = NowMillis()};
  }

  // The record is in place before the shim exits: renamed over NAME.exit, and fsynced with its
  // directory unless --exit-record atomic (services; docs/shim.md says why).
  int Finish(const ExitRecord& record) {
    Note(options_.name + " " + DescribeExit(record));
    if (log_.stats().bytes_dropped > 0) {
      Note(std::to_string(log_.stats().bytes_dropped) + " bytes of output were dropped");
    }
    (void)log_.Close();  // a log close error changes nothing about the record
    Status written = WriteExitRecord(fs_, ExitRecordPath(options_.run_dir, options_.name), record,
                                     options_.exit_record);
    if (!written.ok()) {
      PrintError("rebound shim " + options_.name +
                 ": cannot write the exit record: " + written.error().ToString());
      return kShimRecordFailedExitCode;
    }
    return 0;
  }

  void Note(const std::string& text) { (void)log_.WriteNote(text); }

  // A degraded mode: in the log when it can be written, and on stderr for whoever reads it.
  void Warn(const std::string& text) {
    Note("warning: " + text);
    PrintError("rebound shim " + options_.name + ": " + text);
  }

  const ShimOptions& options_;
  FileSystem& fs_;
  RotatingLog log_;
  UniqueFd signal_fd_;
  UniqueFd output_fd_;
  UniqueFd pid_fd_;
  pid_t child_ = 0;
  int64_t started_ms_ = 0;
  uint32_t generation_ = 0;  // restarts done here; NAME.child carries it
  uint32_t allowance_ = 0;   // G: restarts allowed while generation_ < G
  bool stop_received_ = false;
  int setsid_error_ = 0;
  bool log_failing_ = false;
};

}  // namespace

int RunShim(const ShimOptions& options) {
  // Before anything else: if the daemon died while starting us, the next one may already have
  // concluded that nothing started (it could not know this pre-exec process), so running the
  // command now could run it twice. Once past this check, our command line is visible in
  // /proc, and a daemon started after our parent's death finds us there.
  if (options.parent_pid && ::getppid() != *options.parent_pid) {
    PrintError("rebound shim: the daemon that started " + options.name + " is gone (parent pid " +
               std::to_string(::getppid()) + ", expected " + std::to_string(*options.parent_pid) +
               "); starting nothing");
    return kShimParentGoneExitCode;
  }
  return Shim(options).Run();
}

int ShimMain(const std::vector<std::string>& args) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    WriteAll(STDOUT_FILENO, ShimUsage());
    return 0;
  }
  auto options = ParseShimArgs(args);
  if (!options.ok()) {
    WriteAll(STDERR_FILENO, "rebound shim: " + options.error().message() + "\n" + ShimUsage());
    return kShimUsageExitCode;
  }
  return RunShim(*options);
}

}  // namespace rebound::supervise
