// The process half of job_runner.h: one epoll loop over the daemon's connection, the
// listening socket, a signalfd, and each job's pidfd and output pipe.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>
#include <unordered_map>

#include "base/atomic_file.h"
#include "base/clock.h"
#include "base/file_system.h"
#include "base/unique_fd.h"
#include "supervise/child_table.h"
#include "supervise/exit_record.h"
#include "supervise/exit_record_writer.h"
#include "supervise/job_runner.h"
#include "supervise/job_spawn.h"
#include "supervise/process_info.h"
#include "supervise/rotating_log.h"
#include "supervise/runner_protocol.h"

namespace rebound::supervise {
namespace {

constexpr int kRunnerStopSignals[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP};
constexpr size_t kRunnerChunkBytes = 64 * 1024;
constexpr size_t kRunnerFinalDrainBytes = 1024 * 1024;
// A daemon that reads nothing while this much waits for it is hung or gone: drop it.
constexpr size_t kRunnerMaxOutgoingBytes = 64 * 1024 * 1024;
constexpr int kRunnerExitNotFound = 127;
constexpr int kRunnerExitNotExecutable = 126;

// What an epoll event is about: the low 32 bits hold the fd.
enum class Source : uint64_t { kListen, kConnection, kSignal, kPidfd, kOutput, kRecords };

uint64_t Token(Source source, int fd) {
  return (static_cast<uint64_t>(source) << 32) | static_cast<uint32_t>(fd);
}

int64_t RunnerNowMillis() { return ToUnixMillis(DefaultClock().WallNow()); }

void RunnerSay(const std::string& text) { std::cerr << "rebound runner: " << text << "\n"; }

struct RunningJob {
  RunnerStart start;
  pid_t pid = 0;
  UniqueFd pidfd = {};
  UniqueFd output = {};
  std::unique_ptr<RotatingLog> log = {};
  // The log is opened (created) once the job has something to say: output, or a note other
  // than its start and its success. Until then its routine notes are held here.
  bool log_opened = false;
  std::string held_notes = {};
  int64_t started_ms = 0;
  std::optional<size_t> child_slot = {};  // its record's slot in children_, if there
  bool reaped = false;  // its pid may belong to another process now: never signal it
  bool log_failing = false;
};

class JobRunner {
 public:
  explicit JobRunner(const JobRunnerOptions& options)
      : options_(options), fs_(DefaultFileSystem()) {}

  int Run() {
    if (Status ready = Setup(); !ready.ok()) {
      RunnerSay(ready.error().ToString());
      return another_runner_ ? kRunnerAlreadyRunningExitCode : kRunnerFailedExitCode;
    }
    while (!IsDone()) {
      epoll_event events[64];
      const int n = ::epoll_wait(epoll_.get(), events, std::size(events), -1);
      if (n < 0 && errno != EINTR) {
        RunnerSay(std::string("epoll_wait: ") + ::strerror(errno));
        return kRunnerFailedExitCode;
      }
      for (int i = 0; i < n; ++i) {
        Dispatch(events[i]);
      }
    }
    UnlinkOwnSocket();
    return 0;
  }

 private:
  bool IsDone() const {
    return jobs_.empty() && records_in_flight_ == 0 && unflushed_.empty() &&
           (stopping_ || !connection_.IsOpen());
  }

  Status Setup() {
    (void)::setsid();  // the daemon's death or its terminal's SIGHUP must not reach us
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGCHLD, SIG_DFL);  // an ignored SIGCHLD would let the kernel reap our jobs
    RaiseJobRunnerDescriptorLimit();
    sigset_t stop_signals;
    ::sigemptyset(&stop_signals);
    for (int signal : kRunnerStopSignals) {
      ::sigaddset(&stop_signals, signal);
    }
    ::sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
    signal_fd_.Reset(::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
    epoll_.Reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!signal_fd_.IsOpen() || !epoll_.IsOpen()) {
      return ErrnoError(errno, "signalfd/epoll");
    }
    REBOUND_RETURN_IF_ERROR(fs_.CreateDirs(options_.run_dir));
    REBOUND_RETURN_IF_ERROR(LockRunDir());
    OpenChildTable();
    REBOUND_RETURN_IF_ERROR(Listen());
    Add(Source::kSignal, signal_fd_.get());
    // After the signal mask is set: the writer's thread inherits it.
    try {
      writer_ = std::make_unique<ExitRecordWriter>(options_.run_dir);
    } catch (const std::system_error& error) {
      return ResourceError(std::string("start the exit record writer: ") + error.what());
    }
    if (writer_->ready_fd() < 0) {
      return ErrnoError(errno, "eventfd");
    }
    Add(Source::kRecords, writer_->ready_fd());
    if (options_.connection_fd) {
      ::fcntl(*options_.connection_fd, F_SETFD, FD_CLOEXEC);
      ::fcntl(*options_.connection_fd, F_SETFL, O_NONBLOCK);
      Adopt(UniqueFd(*options_.connection_fd), /*ready=*/true);
    }
    return OkStatus();
  }

  // One runner per run directory: two would unlink each other's socket and start jobs of the
  // same name. The lock is held (the fd kept open) until the process ends.
  Status LockRunDir() {
    const std::string path = JobRunnerLockPath(options_.run_dir);
    lock_.Reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock_.IsOpen()) {
      return ErrnoError(errno, "open " + path);
    }
    if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        another_runner_ = true;
        return ConflictError("another job runner holds " + path +
                             "; this one starts nothing (the daemon connects to that one)");
      }
      return ErrnoError(errno, "flock " + path);
    }
    return OkStatus();
  }

  // After the lock: the previous runner's table is ours now. Without one, each job's record
  // goes to NAME.child, as it would if too long for a slot.
  void OpenChildTable() {
    auto table = ChildTable::Open(ChildTablePath(options_.run_dir));
    if (table.ok()) {
      children_.emplace(std::move(*table));
    } else {
      RunnerSay("child records go to a file per job: " + table.error().ToString());
    }
  }

  // Only the socket this runner bound: a path that names another inode is not ours.
  void UnlinkOwnSocket() {
    struct stat now;
    if (::stat(options_.socket_path.c_str(), &now) == 0 && now.st_dev == socket_dev_ &&
        now.st_ino == socket_ino_) {
      (void)::unlink(options_.socket_path.c_str());
    }
  }

  // The socket is created with mode 0600 (umask): only the daemon's user may start jobs.
  Status Listen() {
    listen_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    ::strncpy(address.sun_path, options_.socket_path.c_str(), sizeof(address.sun_path) - 1);
    (void)::unlink(options_.socket_path.c_str());  // a dead runner's: we hold the lock
    const mode_t old_mask = ::umask(0077);
    const int bound = ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::umask(old_mask);
    if (bound != 0 || ::listen(listen_.get(), 16) != 0) {
      return ErrnoError(errno, "listen on " + options_.socket_path);
    }
    struct stat bound_stat;
    if (::stat(options_.socket_path.c_str(), &bound_stat) == 0) {
      socket_dev_ = bound_stat.st_dev;
      socket_ino_ = bound_stat.st_ino;
    }
    Add(Source::kListen, listen_.get());
    return OkStatus();
  }

  void Add(Source source, int fd, uint32_t events = EPOLLIN) {
    epoll_event event{.events = events, .data = {.u64 = Token(source, fd)}};
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
      RunnerSay(std::string("epoll_ctl: ") + ::strerror(errno));
    }
  }

  void Remove(int fd) { (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

  void Dispatch(const epoll_event& event) {
    const int fd = static_cast<int>(event.data.u64 & 0xffffffffu);
    switch (static_cast<Source>(event.data.u64 >> 32)) {
      case Source::kListen:
        Accept();
        break;
      case Source::kConnection:
        if (fd == connection_.get()) {
          OnConnection(event.events);
        }
        break;
      case Source::kSignal:
        OnSignals();
        break;
      case Source::kPidfd:
        if (auto it = job_by_fd_.find(fd); it != job_by_fd_.end()) {
          OnJobExit(it->second);
        }
        break;
      case Source::kOutput:
        if (auto it = job_by_fd_.find(fd); it != job_by_fd_.end()) {
          OnOutput(it->second);
        }
        break;
      case Source::kRecords:
        ReportWritten(writer_->TakeWritten());
        break;
    }
  }

  // A new daemon. What the previous one sent before it died is handled first, so a start it
  // sent is running (and in the answer to hello) before the new daemon asks.
  void Accept() {
    UniqueFd accepted(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!accepted.IsOpen()) {
      return;
    }
    if (connection_.IsOpen()) {
      ReadConnection();
      Disconnect();
    }
    Adopt(std::move(accepted), /*ready=*/false);
  }

  void Adopt(UniqueFd connection, bool ready) {
    connection_ = std::move(connection);
    connection_ready_ = ready;
    hello_pending_ = false;
    daemon_forgets_ = false;
    daemon_reads_table_ = false;
    incoming_ = LineBuffer();
    outgoing_.clear();
    Add(Source::kConnection, connection_.get());
  }

  void Disconnect() {
    FlushUnforgotten();
    Remove(connection_.get());
    connection_.Reset();
    connection_ready_ = false;
    hello_pending_ = false;
    daemon_forgets_ = false;
    daemon_reads_table_ = false;
    outgoing_.clear();
  }

  void OnConnection(uint32_t events) {
    if ((events & EPOLLOUT) != 0) {
      FlushOutgoing();
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && !ReadConnection()) {
      Disconnect();  // the daemon went away; its jobs go on, records tell the next one
    }
  }

  // Reads and handles what the daemon sent. False at end of stream or on an error.
  bool ReadConnection() {
    char buffer[kRunnerChunkBytes];
    while (true) {
      const ssize_t n = ::read(connection_.get(), buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return n < 0 && errno == EAGAIN;
      }
      incoming_.Append(std::string_view(buffer, static_cast<size_t>(n)));
      while (auto line = incoming_.NextLine()) {
        Handle(*line);
      }
      if (incoming_.IsOverlong()) {
        RunnerSay("a message from the daemon is too long; dropping the connection");
        return false;
      }
    }
  }

  // One message's failure (an exception from a library) must not end the runner and its jobs.
  void Handle(const std::string& line) {
    try {
      HandleRequest(line);
    } catch (const std::exception& error) {
      RunnerSay(std::string("cannot handle a message from the daemon: ") + error.what());
    }
  }

  void HandleRequest(const std::string& line) {
    auto request = DecodeRequest(line);
    if (!request.ok()) {
      RunnerSay(request.error().message());
      Send(RunnerRefused{.name = "", .message = request.error().message()});
    } else if (auto* start = std::get_if<RunnerStart>(&*request)) {
      Start(*start);
    } else if (auto* signal = std::get_if<RunnerSignal>(&*request)) {
      SignalJob(*signal);
    } else if (auto* forget = std::get_if<RunnerForget>(&*request)) {
      Forget(*forget);
    } else {
      Hello(std::get<RunnerHello>(*request));
    }
  }

  // Exits found before the hello are made durable first: a job missing from the answer has
  // its exit record on disk. The answer waits (hello_pending_) until no record is in flight,
  // rather than blocking the loop for a whole fsync batch; ReportWritten answers it then.
  void Hello(const RunnerHello& hello) {
    daemon_forgets_ = hello.forget;
    daemon_reads_table_ = hello.child_table;
    hello_pending_ = true;
    if (records_in_flight_ == 0) {
      AnswerHello();
    }
  }

  void AnswerHello() {
    hello_pending_ = false;
    connection_ready_ = true;
    RunnerRunning running{.jobs = {}, .forget = true};
    for (const auto& [name, job] : jobs_) {
      running.jobs.push_back({.name = name, .child_pid = job.pid});
    }
    Send(running);
  }

  void Send(const RunnerEvent& event) {
    if (!connection_.IsOpen() || !connection_ready_) {
      return;  // no daemon listens: the records on disk carry the news
    }
    outgoing_ += EncodeEvent(event);
    FlushOutgoing();
  }

  void FlushOutgoing() {
    while (!outgoing_.empty()) {
      const ssize_t n = ::send(connection_.get(), outgoing_.data(), outgoing_.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && errno == EAGAIN && outgoing_.size() < kRunnerMaxOutgoingBytes) {
        WatchWritable(true);
        return;
      }
      if (n < 0 && errno == EAGAIN) {
        // Hung: dropped whole, never cut mid-line; the daemon sees the end and says hello.
        RunnerSay("the daemon reads nothing and " + std::to_string(outgoing_.size()) +
                  " bytes wait for it; dropping the connection");
        Disconnect();
        return;
      }
      if (n < 0) {
        // The daemon is gone. Not disconnected here: what it sent before it died is still to
        // be read (a start in the socket must run), and the read then ends the connection.
        outgoing_.clear();
        connection_ready_ = false;
        break;
      }
      outgoing_.erase(0, static_cast<size_t>(n));
    }
    WatchWritable(false);
  }

  void WatchWritable(bool writable) {
    epoll_event event{.events = EPOLLIN | (writable ? EPOLLOUT : 0u),
                      .data = {.u64 = Token(Source::kConnection, connection_.get())}};
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, connection_.get(), &event);
  }

  void Refuse(const std::string& name, const std::string& why) {
    RunnerSay("not starting " + name + ": " + why);
    Send(RunnerRefused{.name = name, .message = why});
  }

  void Start(const RunnerStart& start) {
    if (stopping_) {
      return Refuse(start.name, "the runner is stopping");
    }
    if (jobs_.contains(start.name)) {
      return Refuse(start.name, "a job of that name is running");
    }
    unflushed_.erase(start.name);  // a previous attempt's: its outcome is stored
    for (const std::string& path : {ExitRecordPath(options_.run_dir, start.name),
                                    ChildRecordPath(options_.run_dir, start.name)}) {
      (void)::unlink(path.c_str());  // a previous attempt's
    }
    RunningJob job{.start = start};
    job.log = std::make_unique<RotatingLog>(
        fs_, RotatingLogOptions{
                 .path = start.log_path, .max_bytes = start.log_max_bytes, .keep = start.log_keep});
    if (fs_.Exists(start.log_path)) {
      OpenLog(job);  // an earlier attempt's log is rotated now, and this attempt's notes follow
    }
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      return StartFailed(job, errno);
    }
    job.output.Reset(pipe_fds[0]);
    UniqueFd write_end(pipe_fds[1]);
    ::fcntl(job.output.get(), F_SETFL, O_NONBLOCK);
    job.started_ms = RunnerNowMillis();
    if (const int error = SpawnJob(start, write_end.get(), job.pid); error != 0) {
      return StartFailed(job, error);
    }
    job.pidfd.Reset(static_cast<int>(::syscall(SYS_pidfd_open, job.pid, 0)));
    if (!job.pidfd.IsOpen()) {
      // Never leave a job running that nobody watches (Linux >= 5.3 has pidfds).
      const int error = errno;
      ::kill(-job.pid, SIGKILL);
      ::waitpid(job.pid, nullptr, 0);
      return StartFailed(job, error);
    }
    RecordChild(job);
    HoldNote(job, "started '" + start.command.front() + "' as pid " + std::to_string(job.pid));
    Add(Source::kPidfd, job.pidfd.get());
    Add(Source::kOutput, job.output.get());
    job_by_fd_[job.pidfd.get()] = start.name;
    job_by_fd_[job.output.get()] = start.name;
    const int pid = job.pid;
    jobs_.emplace(start.name, std::move(job));
    Send(RunnerStarted{.name = start.name, .child_pid = pid});
  }

  // Out of descriptors, processes or memory, the start is refused rather than failed: the daemon
  // then handles it as a start that did not happen (retried if the job is idempotent), not as a
  // command that cannot run (126).
  void StartFailed(RunningJob& job, int error) {
    if (error == EMFILE || error == ENFILE || error == EAGAIN || error == ENOMEM) {
      return Refuse(job.start.name, std::string("cannot start it now: ") + ::strerror(error));
    }
    Finish(job, ExecFailure(job, error));
  }

  // Writes the held notes first. A failure to open is said once; the writes then fail and
  // count as dropped output.
  void OpenLog(RunningJob& job) {
    job.log_opened = true;
    const std::string dir = ParentDir(job.start.log_path);
    Status opened = log_dirs_.contains(dir) ? OkStatus() : fs_.CreateDirs(dir);
    if (opened.ok()) {
      log_dirs_.insert(dir);
      opened = job.log->Open();
    }
    if (!opened.ok()) {
      RunnerSay(job.start.name + ": output will be dropped: " + opened.error().ToString());
    }
    if (!job.held_notes.empty()) {
      (void)job.log->Write(std::exchange(job.held_notes, {}));
    }
  }

  void RecordChild(RunningJob& job) {
    ChildRecord record{.name = job.start.name,
                       .shim_pid = ::getpid(),
                       .child_pid = job.pid,
                       .started_ms = job.started_ms};
    auto start_time = ProcessStartTime(job.pid);  // unreaped, so /proc/PID is still ours
    record.child_start_time = start_time.ok() ? *start_time : 0;
    if (children_ && daemon_reads_table_) {
      auto slot = children_->Put(record);
      if (slot.ok() && *slot) {
        job.child_slot = *slot;
        return;
      }
      if (!slot.ok()) {
        RunnerSay(job.start.name + ": child table: " + slot.error().ToString());
      }
    }
    Status written =
        WriteChildRecord(fs_, ChildRecordPath(options_.run_dir, job.start.name), record);
    if (!written.ok()) {
      RunnerSay(job.start.name + ": cannot write the child record: " + written.error().ToString());
    }
  }

  // As a shell reports it: 127 not found, 126 not executable (or a missing cwd).
  ExitRecord ExecFailure(RunningJob& job, int error) {
    struct stat cwd_stat;
    const int cwd_error =
        !job.start.cwd.empty() && ::stat(job.start.cwd.c_str(), &cwd_stat) != 0 ? errno : 0;
    const bool not_found = error == ENOENT && cwd_error == 0;
    std::string why = ::strerror(error);
    if (cwd_error != 0) {
      why = "working directory " + job.start.cwd + ": " + ::strerror(cwd_error);
    } else if (not_found) {
      why = "command not found (" + why + ")";
    }
    Note(job, "cannot run '" + job.start.command.front() + "': " + why);
    ExitRecord record = BaseRecord(job);
    record.exit_code = not_found ? kRunnerExitNotFound : kRunnerExitNotExecutable;
    return record;
  }

  ExitRecord BaseRecord(const RunningJob& job) const {
    return ExitRecord{.name = job.start.name,
                      .shim_pid = ::getpid(),
                      .started_ms = job.started_ms != 0 ? job.started_ms : RunnerNowMillis(),
                      .ended_ms = RunnerNowMillis()};
  }

  void SignalJob(const RunnerSignal& request) {
    auto it = jobs_.find(request.name);
    if (it == jobs_.end() || it->second.reaped) {
      return;  // it has ended; its exit is on its way
    }
    RunningJob& job = it->second;
    if (::kill(-job.pid, request.signal) == 0) {
      Note(job,
           "sent " + SignalName(request.signal) + " to process group " + std::to_string(job.pid));
    } else {
      Note(job, "could not send " + SignalName(request.signal) + ": " + ::strerror(errno));
    }
  }

  void OnSignals() {
    signalfd_siginfo info;
    while (::read(signal_fd_.get(), &info, sizeof(info)) == sizeof(info)) {
      const int signal = static_cast<int>(info.ssi_signo);
      if (signal == SIGHUP) {
        continue;  // no terminal to lose: we are in our own session
      }
      RunnerSay("received " + SignalName(signal) + "; passing it to every job and stopping");
      stopping_ = true;
      FlushUnforgotten();  // before the runner goes, whatever the daemon has committed
      for (const auto& [name, job] : jobs_) {
        SignalJob({.name = name, .signal = signal});
      }
    }
  }

  void OnOutput(const std::string& name) {
    RunningJob& job = jobs_.at(name);
    if (!CopyOutput(job, kRunnerChunkBytes)) {
      Remove(job.output.get());  // every writer closed it; the exit drains nothing more
    }
  }

  // Copies up to `budget` bytes from the job's pipe to its log. False at end of stream.
  bool CopyOutput(RunningJob& job, size_t budget) {
    char buffer[kRunnerChunkBytes];
    while (budget > 0) {
      const ssize_t n = ::read(job.output.get(), buffer, std::min(budget, sizeof(buffer)));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return n < 0 && errno == EAGAIN;
      }
      WriteOutput(job, std::string_view(buffer, static_cast<size_t>(n)));
      budget -= static_cast<size_t>(n);
    }
    return true;
  }

  void WriteOutput(RunningJob& job, std::string_view data) {
    if (!job.log_opened) {
      OpenLog(job);
    }
    Status written = job.log->Write(data);
    if (!written.ok() && !job.log_failing) {
      job.log_failing = true;
      RunnerSay(job.start.name + ": dropping output: " + written.error().ToString());
    } else if (written.ok() && job.log_failing) {
      job.log_failing = false;
      Note(job, "log writable again; " + std::to_string(job.log->stats().bytes_dropped) +
                    " bytes of output dropped so far");
    }
  }

  void OnJobExit(const std::string& name) {
    RunningJob& job = jobs_.at(name);
    siginfo_t info{};
    if (!Reap(job, info)) {
      return;  // not yet (or EINTR): the level-triggered pidfd says so again
    }
    job.reaped = true;
    if (job.child_slot) {
      children_->Clear(*job.child_slot);  // its pid may name another process from now on
    }
    (void)CopyOutput(job, kRunnerFinalDrainBytes);  // what it wrote before it exited
    // Closing them takes them out of the epoll set (no other descriptor shares their open
    // files): no epoll_ctl needed.
    for (UniqueFd* fd : {&job.pidfd, &job.output}) {
      job_by_fd_.erase(fd->get());
      fd->Reset();
    }
    ExitRecord record = BaseRecord(job);
    record.child_pid = job.pid;
    if (info.si_code == CLD_EXITED) {
      record.exit_code = info.si_status;
    } else {
      record.signal = info.si_status;
      record.core_dumped = info.si_code == CLD_DUMPED;
    }
    Finish(job, record);
  }

  // True once the job is reaped (its status in `info`). waitid on a pidfd failing other than by
  // EINTR would fail again at each level-triggered wakeup: fall back to waitpid, and if that
  // fails too, stop watching the pidfd rather than spin (its output's end still drains).
  bool Reap(RunningJob& job, siginfo_t& info) {
    if (::waitid(P_PIDFD, static_cast<id_t>(job.pidfd.get()), &info, WEXITED | WNOHANG) == 0) {
      return info.si_pid != 0;
    }
    if (errno == EINTR) {
      return false;
    }
    const int waitid_error = errno;
    int status = 0;
    const pid_t reaped = ::waitpid(job.pid, &status, WNOHANG);
    if (reaped == job.pid) {
      info.si_pid = reaped;
      info.si_code = WIFEXITED(status) ? CLD_EXITED : (WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED);
      info.si_status = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
      return true;
    }
    if (reaped < 0) {
      RunnerSay(job.start.name + ": cannot wait for pid " + std::to_string(job.pid) + " (" +
                ::strerror(waitid_error) + ", then " + ::strerror(errno) +
                "); no longer watching its exit");
      Remove(job.pidfd.get());
    }
    return false;
  }

  // The job's log is closed now. With a daemon listening that says `forget` (its hello said
  // so), the exit is sent at once and the record stays in memory (unflushed_) until the daemon
  // has committed the outcome, with no file: the commit is the durable point. That holds only
  // if the whole `exited` line is in the kernel's socket buffer, which the daemon still reads
  // after this runner is killed; so a send that would wait (outgoing_ backed up, the buffer
  // full) takes the durable path instead. Then only a power loss, or the runner and the daemon
  // both killed, before the commit loses the outcome, which is then unknown exactly as after a
  // power loss while the job ran (docs/jobs.md). If the connection ends first, the record goes
  // to disk (FlushUnforgotten). Otherwise (no daemon, an old one, stopping, backed up) the
  // writer makes the record durable first, and only then is the daemon told (ReportWritten).
  void Finish(RunningJob& job, const ExitRecord& record) {
    // An attempt that printed nothing and succeeded leaves no log: nothing in it would not be
    // in the job's record (`rebound jobs show`), and on a busy ext4 without a journal each new
    // file costs a scan (child_table.h). Anything else is noted, creating the log if need be.
    if (job.log_opened || record.exit_code != 0) {
      Note(job, job.start.name + " " + DescribeExit(record));
    }
    if (job.log->stats().bytes_dropped > 0) {
      Note(job, std::to_string(job.log->stats().bytes_dropped) + " bytes of output were dropped");
    }
    (void)job.log->Close();
    const bool may_keep = IsDaemonListening() && daemon_forgets_ && !stopping_;
    if (may_keep &&
        SendWhole(EncodeEvent(RunnerExited{.record = record, .kept = job.child_slot.has_value()}))) {
      const ExitRecord kept = record;  // `job` (and maybe `record`'s owner) goes with the erase
      jobs_.erase(kept.name);
      unflushed_[kept.name] = kept;
      return;
    }
    ++records_in_flight_;
    writer_->Submit(record);
  }

  // True if `line` is now wholly in the socket. Only with nothing queued before it (outgoing_
  // empty), so it cannot wait behind other lines. The kernel takes a line shorter than half the
  // send buffer whole or not at all (an exit line is a few hundred bytes); a longer one cut
  // short is queued as any other send.
  bool SendWhole(const std::string& line) {
    if (!outgoing_.empty()) {
      return false;
    }
    ssize_t n = -1;
    do {
      n = ::send(connection_.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno != EAGAIN) {
        connection_ready_ = false;  // gone: as in FlushOutgoing, the read ends the connection
      }
      return false;
    }
    if (static_cast<size_t>(n) < line.size()) {
      outgoing_ = line.substr(static_cast<size_t>(n));
      WatchWritable(true);
    }
    return true;
  }

  // The daemon that was told of these exits may not have committed them: they go to disk
  // (durably, by the writer) for the next one, which is answered only once they are there.
  void FlushUnforgotten() {
    for (auto& [name, record] : std::exchange(unflushed_, {})) {
      flushed_late_.insert(name);
      ++records_in_flight_;
      writer_->Submit(std::move(record));
    }
  }

  void Forget(const RunnerForget& request) { unflushed_.erase(request.name); }

  bool IsDaemonListening() const { return connection_.IsOpen() && connection_ready_; }

  // Records on disk: only now is the daemon told, and the job leaves the running set.
  void ReportWritten(std::vector<ExitRecord> records) {
    for (const ExitRecord& record : records) {
      --records_in_flight_;
      if (flushed_late_.erase(record.name) > 0) {
        continue;  // the daemon was told when the job ended
      }
      jobs_.erase(record.name);
      // Sent even if the record could not be written: a live daemon stores the outcome itself.
      Send(RunnerExited{record});
    }
    if (hello_pending_ && records_in_flight_ == 0) {
      AnswerHello();
    }
  }

  void Note(RunningJob& job, const std::string& text) {
    if (!job.log_opened) {
      OpenLog(job);
    }
    (void)job.log->WriteNote(text);
  }

  // A note that alone is no reason to create the log (see RunningJob::log_opened).
  void HoldNote(RunningJob& job, const std::string& text) {
    if (job.log_opened) {
      (void)job.log->WriteNote(text);
    } else {
      job.held_notes += std::string(RotatingLog::kNotePrefix) + text + "\n";
    }
  }

  const JobRunnerOptions& options_;
  FileSystem& fs_;
  UniqueFd epoll_;
  UniqueFd signal_fd_;
  UniqueFd listen_;
  UniqueFd lock_;  // flock on RUN_DIR/job:runner.lock, for the process's life
  std::optional<ChildTable> children_;  // RUN_DIR/job:runner.children
  bool another_runner_ = false;
  dev_t socket_dev_ = 0;  // the socket file we bound, so that exit unlinks only ours
  ino_t socket_ino_ = 0;
  UniqueFd connection_;
  bool connection_ready_ = false;  // an accepted daemon hears nothing before its hello
  bool hello_pending_ = false;     // answered once no exit record is in flight
  bool daemon_forgets_ = false;    // its hello said it sends `forget` once an outcome is stored
  bool daemon_reads_table_ = false;  // its hello said it reads children_ (else NAME.child)
  LineBuffer incoming_;
  std::string outgoing_;
  std::map<std::string, RunningJob> jobs_;
  std::unordered_map<int, std::string> job_by_fd_;  // pidfds and output pipes
  std::unique_ptr<ExitRecordWriter> writer_;
  size_t records_in_flight_ = 0;    // submitted to the writer, not yet reported
  // Exits the listening daemon was told of and has not said `forget` for: no file yet.
  std::map<std::string, ExitRecord> unflushed_;
  std::set<std::string> flushed_late_;  // of unflushed_, now with the writer
  std::set<std::string> log_dirs_;  // already created
  bool stopping_ = false;
};

}  // namespace

int RunJobRunner(const JobRunnerOptions& options) {
  // As for the shim (shim_posix.cc): a daemon that died while starting us cannot be followed
  // by one that knows we exist, so we start nothing.
  if (options.parent_pid && ::getppid() != *options.parent_pid) {
    RunnerSay("the daemon that started the runner is gone (parent pid " +
              std::to_string(::getppid()) + ", expected " + std::to_string(*options.parent_pid) +
              "); starting nothing");
    return kRunnerParentGoneExitCode;
  }
  return JobRunner(options).Run();
}

}  // namespace rebound::supervise
