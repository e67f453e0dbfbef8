// The pure half of job_runner.h: the command line.

#include <sys/un.h>

#include <charconv>
#include <iostream>

#include "supervise/job_runner.h"

namespace rebound::supervise {
namespace {

Result<int> ParseRunnerInteger(const std::string& flag, const std::string& value, int min) {
  int parsed = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || parsed < min) {
    return ValidationError("option " + flag + " needs an integer of at least " +
                           std::to_string(min) + ", got '" + value + "'");
  }
  return parsed;
}

Status SetRunnerOption(const std::string& flag, const std::string& value,
                       JobRunnerOptions& options) {
  if (flag == "--run-dir" || flag == "--socket") {
    if (value.empty()) {
      return ValidationError("option " + flag + " needs a non-empty value");
    }
    (flag == "--run-dir" ? options.run_dir : options.socket_path) = value;
    return OkStatus();
  }
  if (flag == "--parent-pid" || flag == "--connection-fd") {
    auto number = ParseRunnerInteger(flag, value, flag == "--parent-pid" ? 1 : 3);
    if (!number.ok()) {
      return number.error();
    }
    (flag == "--parent-pid" ? options.parent_pid : options.connection_fd) = *number;
    return OkStatus();
  }
  return ValidationError("unknown option '" + flag +
                         "'; expected --run-dir, --socket, --parent-pid or --connection-fd");
}

}  // namespace

std::string JobRunnerSocketPath(const std::string& run_dir) { return run_dir + "/job:runner.sock"; }
std::string JobRunnerLockPath(const std::string& run_dir) { return run_dir + "/job:runner.lock"; }

Result<JobRunnerOptions> ParseJobRunnerArgs(const std::vector<std::string>& args) {
  JobRunnerOptions options;
  for (size_t i = 0; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) {
      return ValidationError("option " + args[i] + " needs a value");
    }
    REBOUND_RETURN_IF_ERROR(SetRunnerOption(args[i], args[i + 1], options));
  }
  if (options.run_dir.empty() || options.socket_path.empty()) {
    return ValidationError("options --run-dir and --socket are required");
  }
  if (options.socket_path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return ValidationError("option --socket: path longer than " +
                           std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                           " bytes, the limit of a unix socket: " + options.socket_path);
  }
  return options;
}

std::string JobRunnerUsage() {
  return "usage: rebound runner --run-dir DIR --socket PATH [--parent-pid PID] "
         "[--connection-fd FD]\n";
}

int JobRunnerMain(const std::vector<std::string>& args) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << JobRunnerUsage();
    return 0;
  }
  auto options = ParseJobRunnerArgs(args);
  if (!options.ok()) {
    std::cerr << "rebound runner: " << options.error().message() << "\n" << JobRunnerUsage();
    return kRunnerUsageExitCode;
  }
  return RunJobRunner(*options);
}

}  // namespace rebound::supervise
