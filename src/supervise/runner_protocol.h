#pragma once

// The job runner's protocol (docs/shim.md, "The job runner"): newline-delimited JSON over a
// unix stream socket between the daemon and `rebound runner`. One message per line.
//
//   std::string line = EncodeRequest(RunnerStart{.name = "job:7", .command = {"/bin/true"},
//                                                .log_path = "/data/logs/job:7.log"});
//   LineBuffer buffer;
//   buffer.Append(bytes_read);
//   while (auto line = buffer.NextLine()) {
//     Result<RunnerEvent> event = DecodeEvent(*line);   // validation error on a bad line
//   }
//
// Daemon → runner: hello (first on every connection: which jobs run, and whether this daemon
// sends forget), start, signal, forget (an exit's outcome is committed). Runner → daemon:
// started, exited (kept by the runner until forget, or on disk), running (the answer to hello,
// and whether this runner understands forget), refused (a start it could not accept).
//
// Pure values and functions; LineBuffer is not thread-safe (one reader owns it).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/error.h"
#include "supervise/exit_record.h"

namespace rebound::supervise {

// A line longer than this is a protocol error (a start carries a command and its env).
inline constexpr size_t kMaxRunnerLineBytes = 4 * 1024 * 1024;

struct RunnerStart {
  std::string name;  // "job:ID": the records' and the log's name
  std::vector<std::string> command;
  std::string cwd = {};                         // empty: the runner's
  std::map<std::string, std::string> env = {};  // added to the runner's environment
  std::string log_path;
  uint64_t log_max_bytes = 10 * 1024 * 1024;
  int log_keep = 5;
  bool operator==(const RunnerStart&) const = default;
};

struct RunnerSignal {
  std::string name;
  int signal = 0;  // sent to the job's process group
  bool operator==(const RunnerSignal&) const = default;
};

struct RunnerHello {
  // This daemon sends `forget` once it has stored an exit's outcome, so the runner may keep
  // the exits it tells it in memory. An older daemon's hello lacks it (false): its runner
  // writes every exit to disk first, as before `forget` existed.
  bool forget = false;
  // This daemon finds child records in the runner's child table (child_table.h). An older
  // daemon's hello lacks it (false): the runner then writes NAME.child for each job it starts
  // while that daemon is connected, which is all such a daemon reads.
  bool child_table = false;
  bool operator==(const RunnerHello&) const = default;
};

// The daemon has committed the outcome of the job's last `exited`: the runner no longer
// needs to keep that exit record for a later daemon.
struct RunnerForget {
  std::string name;
  bool operator==(const RunnerForget&) const = default;
};

using RunnerRequest = std::variant<RunnerStart, RunnerSignal, RunnerHello, RunnerForget>;

struct RunnerStarted {
  std::string name;
  int child_pid = 0;
  bool operator==(const RunnerStarted&) const = default;
};

struct RunnerExited {
  // NAME.exit's content. Either already written to NAME.exit (durably), or kept in the
  // runner's memory until `forget` and written only if the connection ends first: the latter
  // only for a daemon whose hello offered forget, with this line wholly in the socket.
  ExitRecord record;
  // The runner keeps it in memory and its child record is in the child table
  // (child_table.h): no file of this job is in the run directory, so the daemon has none to
  // remove. An older runner never says so (false).
  bool kept = false;
  bool operator==(const RunnerExited&) const = default;
};

struct RunnerRunning {
  std::vector<RunnerStarted> jobs;  // started and not yet reported as exited
  // This runner understands `forget` (and keeps exits in memory for a daemon whose hello said
  // forget). An older runner's answer lacks it (false): the daemon then never sends `forget`.
  bool forget = false;
  bool operator==(const RunnerRunning&) const = default;
};

struct RunnerRefused {
  std::string name;
  std::string message;
  bool operator==(const RunnerRefused&) const = default;
};

using RunnerEvent = std::variant<RunnerStarted, RunnerExited, RunnerRunning, RunnerRefused>;

// Each returns one line, '\n' included.
std::string EncodeRequest(const RunnerRequest& request);
std::string EncodeEvent(const RunnerEvent& event);
// `line` without its '\n'. A validation error names what is wrong.
Result<RunnerRequest> DecodeRequest(std::string_view line);
Result<RunnerEvent> DecodeEvent(std::string_view line);

// Splits a byte stream into lines.
class LineBuffer {
 public:
  void Append(std::string_view bytes) { pending_.append(bytes); }
  // The next whole line without its '\n'; nullopt when none is complete yet.
  std::optional<std::string> NextLine();
  // True when the unfinished line is already longer than kMaxRunnerLineBytes.
  bool IsOverlong() const;

 private:
  std::string pending_;
  size_t consumed_ = 0;
};

}  // namespace rebound::supervise
