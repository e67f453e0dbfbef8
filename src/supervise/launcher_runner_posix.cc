#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/atomic_file.h"
#include "base/clock.h"
#include "base/spawn.h"
#include "supervise/child_table.h"
#include "supervise/exit_record.h"
#include "supervise/job_runner.h"
#include "supervise/launcher_runner.h"
#include "supervise/rotating_log.h"
#include "supervise/runner_process.h"

extern char** environ;

namespace rebound::supervise {
namespace {

// How long the first Adopt waits for a runner it found in /proc to answer (it may be between
// its exec and its listen) before treating it as gone.
constexpr int kRunnerConnectAttempts = 500;  // 10 ms apart: 5 s
constexpr int kRunnerSocketTimeoutSeconds = 5;

int RunnerPidfdOpen(int pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

bool HasExited(int pidfd, int wait_ms) {
  pollfd poll_fd{pidfd, POLLIN, 0};
  return ::poll(&poll_fd, 1, wait_ms) > 0;
}

void SetSocketTimeouts(int socket) {
  timeval timeout{.tv_sec = kRunnerSocketTimeoutSeconds, .tv_usec = 0};
  ::setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
}

int ConnectUnix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    SetSocketTimeouts(fd);  // a runner whose backlog is full (stopped, wedged) must not hang us
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    return fd;
  }
  if (fd >= 0) {
    ::close(fd);
  }
  return -1;
}

ExitInfo FromRecord(const ExitRecord& record, const std::string& suffix) {
  return ExitInfo{.exit_code = record.exit_code,
                  .signal = record.signal,
                  .ended = FromUnixMillis(record.ended_ms),
                  .description = DescribeExit(record) + suffix};
}

// The runner's stderr is appended to job:runner.log. Each new runner starts a new file, and
// earlier runners' output is kept as job:runner.log.1 ... .3, as a shim rotates its log at
// start: the file does not grow across runners. (A runner only writes warnings there.)
void RotatePreviousRunnersLog(FileSystem& fs, const std::string& path) {
  constexpr uint64_t kRunnerLogMaxBytes = 10 * 1024 * 1024;
  constexpr int kRunnerLogKeep = 3;
  RotatingLog previous(fs, {.path = path, .max_bytes = kRunnerLogMaxBytes, .keep = kRunnerLogKeep});
  if (previous.Open().ok()) {
    (void)previous.Close();
  }
}

}  // namespace

RunnerLauncher::RunnerLauncher(RunnerLauncherOptions options, FdWatcher& watcher, FileSystem& fs)
    : options_(std::move(options)), watcher_(watcher), fs_(fs) {}

RunnerLauncher::~RunnerLauncher() {
  // The runner and its jobs go on; the next daemon connects again.
  CloseConnection();
  if (deferred_fd_ >= 0) {
    watcher_.UnwatchFd(deferred_fd_);
    ::close(deferred_fd_);
  }
  if (runner_pidfd_ >= 0) {
    watcher_.UnwatchFd(runner_pidfd_);
    ::close(runner_pidfd_);
  }
}

// A runner whose pidfd says it lives is the runner: reconnect to it, never start a second
// (it would refuse: the live one holds the run directory's lock).
Status RunnerLauncher::EnsureRunner() {
  if (socket_ >= 0) {
    return OkStatus();
  }
  if (runner_pidfd_ >= 0) {
    return Reconnect();
  }
  looked_for_live_runner_ = true;
  Status live = ConnectToLiveRunner();
  if (live.ok() || runner_pidfd_ >= 0) {
    return live;
  }
  return StartRunner();
}

Status RunnerLauncher::Reconnect() {
  if (reconnecting_) {
    return ResourceError("the job runner's new connection failed too");  // no recursion
  }
  reconnecting_ = true;
  Status connected = ConnectAndAsk();
  reconnecting_ = false;
  return connected;
}

Status RunnerLauncher::ConnectAndAsk() {
  const std::string path = JobRunnerSocketPath(options_.run_dir);
  const int socket = ConnectUnix(path);
  if (socket < 0) {
    return ResourceError("the job runner (pid " + std::to_string(runner_pid_) +
                         ") lives but does not accept connections on " + path);
  }
  REBOUND_RETURN_IF_ERROR(WatchConnection(socket));
  return AskWhatRuns();
}

Status RunnerLauncher::ConnectToLiveRunner() {
  const std::optional<int> pid = FindJobRunnerProcess(fs_, options_.run_dir);
  if (!pid) {
    return NotFoundError("no job runner for " + options_.run_dir);
  }
  // Open the pidfd first, then check who it is: the pidfd cannot drift to a reused pid.
  const int pidfd = RunnerPidfdOpen(*pid);
  if (pidfd < 0 || !IsJobRunnerFor(fs_, *pid, options_.run_dir)) {
    if (pidfd >= 0) {
      ::close(pidfd);
    }
    return NotFoundError("the job runner " + std::to_string(*pid) + " is gone");
  }
  const std::string path = JobRunnerSocketPath(options_.run_dir);
  for (int attempt = 0; attempt < kRunnerConnectAttempts; ++attempt) {
    const int socket = ConnectUnix(path);
    if (socket >= 0) {
      REBOUND_RETURN_IF_ERROR(Connected(*pid, pidfd, socket));
      return AskWhatRuns();
    }
    if (HasExited(pidfd, 10)) {
      ::close(pidfd);  // it failed its parent check, or ended as we looked
      return NotFoundError("the job runner " + std::to_string(*pid) + " ended");
    }
  }
  // Alive but silent: it stays our runner (its pidfd watched); the next Launch reconnects.
  REBOUND_RETURN_IF_ERROR(Connected(*pid, pidfd, -1));
  return ResourceError("the job runner " + std::to_string(*pid) + " does not answer on " + path);
}

// The answer to hello lists what runs; anything later (exits) goes through OnReadable.
Status RunnerLauncher::AskWhatRuns() {
  Status sent = Send(RunnerHello{.forget = true, .child_table = true});
  while (sent.ok()) {
    std::optional<std::string> line = incoming_.NextLine();
    if (!line) {
      char buffer[64 * 1024];
      const ssize_t n = ::recv(socket_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        break;
      }
      incoming_.Append(std::string_view(buffer, static_cast<size_t>(n)));
      continue;
    }
    auto event = DecodeEvent(*line);
    if (event.ok() && std::holds_alternative<RunnerRunning>(*event)) {
      runner_forgets_ = std::get<RunnerRunning>(*event).forget;
      running_at_connect_.clear();
      for (const RunnerStarted& job : std::get<RunnerRunning>(*event).jobs) {
        running_at_connect_[job.name] = job.child_pid;
      }
      Reconcile();
      Defer();  // lines that came with the answer: the watcher only calls on new bytes
      return OkStatus();
    }
  }
  // A silent connection is not a dead runner: only its pidfd says that.
  CloseConnection();
  return ResourceError("the job runner did not answer its hello");
}

// After a reconnect: a job we follow that the runner no longer runs ended while nobody
// listened; the runner answered only once its exit records were on disk.
void RunnerLauncher::Reconcile() {
  for (auto& [name, job] : jobs_) {
    auto running = running_at_connect_.find(name);
    if (running != running_at_connect_.end()) {
      job.child_pid = running->second;
      running_at_connect_.erase(running);
      continue;
    }
    auto record = ReadExitRecord(fs_, ExitRecordPath(options_.run_dir, name));
    deferred_reports_.emplace_back(
        name, record.ok() ? FromRecord(*record, " while the connection to the job runner was lost")
                          : ExitInfo{.ended = std::chrono::system_clock::now(),
                                     .description = "the job runner no longer runs it and left "
                                                    "no exit record"});
  }
}

// Runs OnDeferred from the loop, after the caller (Launch, Adopt) has returned: exits are
// reported from the loop, never from inside a Launch.
void RunnerLauncher::Defer() {
  if (deferred_fd_ >= 0) {
    return;
  }
  deferred_fd_ = ::eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
  if (deferred_fd_ < 0 || !watcher_.WatchFd(deferred_fd_, [this] { OnDeferred(); }).ok()) {
    if (deferred_fd_ >= 0) {
      ::close(deferred_fd_);
      deferred_fd_ = -1;
    }
    OnDeferred();
  }
}

void RunnerLauncher::OnDeferred() {
  if (deferred_fd_ >= 0) {
    watcher_.UnwatchFd(deferred_fd_);
    ::close(deferred_fd_);
    deferred_fd_ = -1;
  }
  for (auto& [name, exit] : std::exchange(deferred_reports_, {})) {
    Report(name, exit);
  }
  HandleBufferedLines();
}

Status RunnerLauncher::StartRunner() {
  REBOUND_RETURN_IF_ERROR(fs_.CreateDirs(options_.run_dir));
  REBOUND_RETURN_IF_ERROR(fs_.CreateDirs(options_.log_dir));
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoError(errno, "socketpair for the job runner");
  }
  // A descriptor number that cannot be 3 already (dup2 onto itself would keep CLOEXEC).
  const int runner_end = ::fcntl(pair[1], F_DUPFD_CLOEXEC, 10);
  ::close(pair[1]);
  const std::vector<std::string> args = {"rebound",         "runner",
                                         "--run-dir",       options_.run_dir,
                                         "--socket",        JobRunnerSocketPath(options_.run_dir),
                                         "--parent-pid",    std::to_string(::getpid()),
                                         "--connection-fd", "3"};
  const std::string log = options_.log_dir + "/job:runner.log";
  RotatePreviousRunnersLog(fs_, log);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  ::posix_spawn_file_actions_adddup2(&actions, runner_end, 3);
  ::posix_spawn_file_actions_addclosefrom_np(&actions, 4);
  posix_spawnattr_t attributes;
  ::posix_spawnattr_init(&attributes);
  sigset_t none;
  ::sigemptyset(&none);
  sigset_t all;
  ::sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attributes, &none);
  ::posix_spawnattr_setsigdefault(&attributes, &all);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv = ExecPointers(args);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, options_.runner_binary.c_str(), &actions, &attributes,
                               argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  ::close(runner_end);
  if (rc != 0) {
    ::close(pair[0]);
    return ErrnoError(rc, "start the job runner " + options_.runner_binary);
  }
  const int pidfd = RunnerPidfdOpen(pid);
  if (pidfd < 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ::close(pair[0]);
    return ErrnoError(errno, "pidfd_open of the job runner");
  }
  REBOUND_RETURN_IF_ERROR(Connected(pid, pidfd, pair[0]));
  // Not waited for: its answer (OnEvent) comes before any exit the runner keeps in memory.
  return Send(RunnerHello{.forget = true, .child_table = true});
}

// `socket` may be -1: a live runner not connected yet.
Status RunnerLauncher::Connected(int pid, int pidfd, int socket) {
  runner_pid_ = pid;
  runner_pidfd_ = pidfd;
  Status watched = watcher_.WatchFd(runner_pidfd_, [this] {
    (void)ReadEvents();  // what it said before it ended comes first
    OnRunnerGone("the job runner (pid " + std::to_string(runner_pid_) + ") ended");
  });
  if (watched.ok() && socket >= 0) {
    watched = WatchConnection(socket);
  } else if (!watched.ok() && socket >= 0) {
    ::close(socket);
  }
  if (!watched.ok()) {
    OnRunnerGone("cannot watch the job runner");
  }
  return watched;
}

Status RunnerLauncher::WatchConnection(int socket) {
  SetSocketTimeouts(socket);
  socket_ = socket;
  incoming_ = LineBuffer();
  Status watched = watcher_.WatchFd(socket_, [this] { OnReadable(); });
  if (!watched.ok()) {
    CloseConnection();
  }
  return watched;
}

void RunnerLauncher::CloseConnection() {
  told_exits_.clear();  // the runner writes them to disk when the connection ends
  kept_exits_.clear();
  runner_forgets_ = false;
  if (socket_ >= 0) {
    watcher_.UnwatchFd(socket_);
    ::close(socket_);
    socket_ = -1;
  }
  incoming_ = LineBuffer();  // half a line of the old connection would corrupt the next
}

// The connection ended or broke. Only the pidfd says whether the runner did: a live one is
// reconnected to (hello), and its jobs are neither killed nor judged.
void RunnerLauncher::OnConnectionLost() {
  CloseConnection();
  if (runner_pidfd_ < 0) {
    return;
  }
  if (HasExited(runner_pidfd_, 0)) {
    // Judged from the loop, by the pidfd's watch (readable until unwatched): not here, where
    // a caller (a Signal inside a cancel, a Launch) would see its jobs' exits reported inside
    // its own call.
    return;
  }
  (void)Reconnect();  // failing, the next Launch tries again; the pidfd still watches
}

Status RunnerLauncher::Send(const RunnerRequest& request) {
  if (socket_ < 0) {
    return ResourceError("no job runner");
  }
  const std::string line = EncodeRequest(request);
  for (size_t sent = 0; sent < line.size();) {
    const ssize_t n = ::send(socket_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      // Part of the line may be in the socket: the runner must never see the rest glued to
      // the next line, so this connection ends here and a new one says hello.
      const Error error = ErrnoError(errno, "send to the job runner");
      OnConnectionLost();
      return error;
    }
    sent += static_cast<size_t>(n);
  }
  return OkStatus();
}

void RunnerLauncher::OnReadable() {
  if (!ReadEvents()) {
    OnConnectionLost();
  }
}

void RunnerLauncher::HandleBufferedLines() {
  while (socket_ >= 0) {
    std::optional<std::string> line = incoming_.NextLine();
    if (!line) {
      return;
    }
    if (auto event = DecodeEvent(*line); event.ok()) {
      OnEvent(*event);
    }
  }
}

bool RunnerLauncher::ReadEvents() {
  while (socket_ >= 0) {
    char buffer[64 * 1024];
    const ssize_t n = ::recv(socket_, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    incoming_.Append(std::string_view(buffer, static_cast<size_t>(n)));
    HandleBufferedLines();
  }
  return false;
}

void RunnerLauncher::OnEvent(const RunnerEvent& event) {
  if (const auto* started = std::get_if<RunnerStarted>(&event)) {
    if (auto it = jobs_.find(started->name); it != jobs_.end()) {
      it->second.child_pid = started->child_pid;
    }
  } else if (const auto* running = std::get_if<RunnerRunning>(&event)) {
    runner_forgets_ = running->forget;  // the answer to the hello sent at its start
  } else if (const auto* exited = std::get_if<RunnerExited>(&event)) {
    if (runner_forgets_) {
      told_exits_.insert(exited->record.name);
      if (exited->kept) {
        kept_exits_.insert(exited->record.name);
      }
    }
    Report(exited->record.name, FromRecord(exited->record, ""));
  } else if (const auto* refused = std::get_if<RunnerRefused>(&event)) {
    Report(refused->name,
           ExitInfo{.ended = std::chrono::system_clock::now(),
                    .description = "the job runner refused to start it: " + refused->message});
  }
}

void RunnerLauncher::Report(const std::string& name, const ExitInfo& exit) {
  auto it = jobs_.find(name);
  if (it == jobs_.end()) {
    // Running at the hello but not adopted yet: its Adopt gets this exit.
    if (running_at_connect_.erase(name) > 0) {
      exited_before_adopt_[name] = exit;
    }
    return;  // else not ours (no daemon adopted it); its records stay for the store to decide
  }
  ExitCallback on_exit = std::move(it->second.on_exit);
  jobs_.erase(it);
  on_exit(exit);
}

void RunnerLauncher::OnRunnerGone(const std::string& why) {
  CloseConnection();
  if (runner_pidfd_ >= 0) {
    watcher_.UnwatchFd(runner_pidfd_);
    siginfo_t info{};  // reaps a runner we started; one adopted is not our child
    (void)::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(runner_pidfd_), &info,
                   WEXITED | WNOHANG);
    ::close(runner_pidfd_);
    runner_pidfd_ = -1;
  }
  runner_pid_ = 0;
  running_at_connect_.clear();
  deferred_reports_.clear();  // judged below, with the rest
  std::map<std::string, Job> orphans = std::move(jobs_);
  jobs_.clear();
  for (auto& [name, job] : orphans) {
    job.on_exit(OutcomeFromRecords(name, why));
  }
}

ExitInfo RunnerLauncher::OutcomeFromRecords(const std::string& name, const std::string& why) {
  auto record = ReadExitRecord(fs_, ExitRecordPath(options_.run_dir, name));
  if (record.ok()) {
    return FromRecord(*record, " while no daemon watched");
  }
  const bool killed = KillOrphanedJob(fs_, options_.run_dir, name);
  return ExitInfo{
      .ended = std::chrono::system_clock::now(),
      .description = why + " without an exit record" + (killed ? "; killed the orphaned job" : "")};
}

Result<LaunchedProcess> RunnerLauncher::Launch(const ServiceSpec& spec, ExitCallback on_exit) {
  if (jobs_.contains(spec.name)) {
    return ConflictError(spec.name + " is already running under the job runner");
  }
  REBOUND_RETURN_IF_ERROR(EnsureRunner());
  RunnerStart start{.name = spec.name,
                    .command = spec.command,
                    .cwd = spec.cwd,
                    .env = spec.env,
                    .log_path = options_.log_dir + "/" + spec.name + ".log",
                    .log_max_bytes = static_cast<uint64_t>(spec.log.max_bytes),
                    .log_keep = spec.log.keep};
  jobs_[spec.name] = Job{.on_exit = std::move(on_exit)};
  if (Status sent = Send(start); !sent.ok()) {
    jobs_.erase(spec.name);
    return sent.error();
  }
  return LaunchedProcess{.shim_pid = runner_pid_, .started = std::chrono::system_clock::now()};
}

Result<Adoption> RunnerLauncher::Adopt(const ServiceSpec& spec, ExitCallback on_exit) {
  if (!looked_for_live_runner_) {
    looked_for_live_runner_ = true;
    (void)ConnectToLiveRunner();  // none: every running job is judged by its records
  }
  if (auto exited = exited_before_adopt_.find(spec.name); exited != exited_before_adopt_.end()) {
    Adoption adoption{.outcome = AdoptOutcome::kExitedMeanwhile, .exit = exited->second};
    exited_before_adopt_.erase(exited);
    return adoption;
  }
  if (socket_ < 0 && runner_pidfd_ >= 0) {
    // A live runner that did not answer: it may run this job, so nothing is judged or
    // killed now; the hello after a reconnect says (Reconcile).
    auto child = FindChildRecord(fs_, options_.run_dir, spec.name);
    jobs_[spec.name] =
        Job{.on_exit = std::move(on_exit),
            .child_pid = child.ok() ? std::optional<int>(child->child_pid) : std::nullopt};
    return Adoption{.outcome = AdoptOutcome::kRunning,
                    .process = {.shim_pid = runner_pid_,
                                .child_pid = jobs_[spec.name].child_pid,
                                .started = std::chrono::system_clock::now()}};
  }
  auto running = running_at_connect_.find(spec.name);
  if (socket_ >= 0 && running != running_at_connect_.end()) {
    jobs_[spec.name] = Job{.on_exit = std::move(on_exit), .child_pid = running->second};
    running_at_connect_.erase(running);
    return Adoption{.outcome = AdoptOutcome::kRunning,
                    .process = {.shim_pid = runner_pid_,
                                .child_pid = jobs_[spec.name].child_pid,
                                .started = std::chrono::system_clock::now()}};
  }
  // Not running: a runner that is alive has written the record of every job it ended.
  return Adoption{
      .outcome = AdoptOutcome::kExitedMeanwhile,
      .exit = OutcomeFromRecords(
          spec.name, socket_ >= 0 ? "unknown to the job runner and" : "its job runner is gone")};
}

Status RunnerLauncher::Signal(const std::string& name, int signal) {
  if (!jobs_.contains(name)) {
    return NotFoundError("no running job " + name);
  }
  return Send(RunnerSignal{.name = name, .signal = signal});
}

Status RunnerLauncher::Kill(const std::string& name) {
  if (!jobs_.contains(name)) {
    return NotFoundError("no running job " + name);
  }
  // Not connected (a live runner that did not answer): the job is killed by its record; the
  // runner records that exit, and once it has no job left and no daemon, it exits, and its
  // pidfd has the daemon judge the job from that record.
  if (Send(RunnerSignal{.name = name, .signal = SIGKILL}).ok()) {
    return OkStatus();
  }
  return KillOrphanedJob(fs_, options_.run_dir, name)
             ? OkStatus()
             : Status(NotFoundError("no live process recorded for " + name));
}

std::optional<int> RunnerLauncher::ChildPid(const std::string& name) {
  auto it = jobs_.find(name);
  return it == jobs_.end() ? std::nullopt : it->second.child_pid;
}

void RunnerLauncher::DiscardRecords(const std::string& name) {
  if (jobs_.contains(name)) {
    return;
  }
  // NAME.exit even for a kept exit: a runner told to stop writes what it keeps at once, while
  // still connected. A kept exit's child record is in the table, never in NAME.child.
  (void)fs_.RemoveFile(ExitRecordPath(options_.run_dir, name));
  if (kept_exits_.erase(name) == 0) {
    (void)fs_.RemoveFile(ChildRecordPath(options_.run_dir, name));
  }
  if (told_exits_.erase(name) > 0 && socket_ >= 0) {
    (void)Send(RunnerForget{.name = name});  // failing, the connection ends: the runner writes it
  }
}

}  // namespace rebound::supervise
