// The pure half of shim.h: the command line.

#include <charconv>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "supervise/shim.h"

namespace rebound::supervise {
namespace {

constexpr int kMaxLogKeep = 1000;

using OptionSetter = std::function<Status(const std::string& value, ShimOptions& options)>;

Status NotEmpty(const std::string& flag, const std::string& value) {
  if (value.empty()) {
    return ValidationError("option " + flag + " needs a non-empty value");
  }
  return OkStatus();
}

template <typename Int>
Result<Int> ParseInteger(const std::string& flag, const std::string& value, Int min, Int max) {
  Int parsed = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || parsed < min ||
      parsed > max) {
    return ValidationError("option " + flag + " needs an integer from " + std::to_string(min) +
                           " to " + std::to_string(max) + ", got '" + value + "'");
  }
  return parsed;
}

Status SetName(const std::string& value, ShimOptions& options) {
  REBOUND_RETURN_IF_ERROR(NotEmpty("--name", value));
  if (value.find('/') != std::string::npos || value == "." || value == "..") {
    return ValidationError("option --name must be usable as a file name (no '/'), got '" + value +
                           "'");
  }
  options.name = value;
  return OkStatus();
}

Status SetLogMaxBytes(const std::string& value, ShimOptions& options) {
  auto bytes =
      ParseInteger<uint64_t>("--log-max-bytes", value, 1, std::numeric_limits<int64_t>::max());
  if (!bytes.ok()) {
    return bytes.error();
  }
  options.log_max_bytes = *bytes;
  return OkStatus();
}

Status SetLogKeep(const std::string& value, ShimOptions& options) {
  auto keep = ParseInteger<int>("--log-keep", value, 0, kMaxLogKeep);
  if (!keep.ok()) {
    return keep.error();
  }
  options.log_keep = *keep;
  return OkStatus();
}

Status SetParentPid(const std::string& value, ShimOptions& options) {
  auto pid = ParseInteger<int>("--parent-pid", value, 1, std::numeric_limits<int>::max());
  if (!pid.ok()) {
    return pid.error();
  }
  options.parent_pid = *pid;
  return OkStatus();
}

Status SetExitRecord(const std::string& value, ShimOptions& options) {
  if (value == "durable") {
    options.exit_record = FileDurability::kDurable;
  } else if (value == "atomic") {
    options.exit_record = FileDurability::kAtomicOnly;
  } else {
    return ValidationError("option --exit-record needs 'durable' or 'atomic', got '" + value + "'");
  }
  return OkStatus();
}

Status SetRespawn(const std::string& value, ShimOptions& options) {
  if (value == "always") {
    options.respawn = ShimRespawn::kAlways;
  } else if (value == "on-failure") {
    options.respawn = ShimRespawn::kOnFailure;
  } else {
    return ValidationError("option --respawn needs 'always' or 'on-failure', got '" + value + "'");
  }
  return OkStatus();
}

Status SetStopSignal(const std::string& value, ShimOptions& options) {
  auto signal = ParseInteger<int>("--stop-signal", value, 1, SIGRTMAX);
  if (!signal.ok()) {
    return signal.error();
  }
  options.stop_signal = *signal;
  return OkStatus();
}

Status AddEnv(const std::string& value, ShimOptions& options) {
  const size_t equals = value.find('=');
  if (equals == std::string::npos || equals == 0) {
    return ValidationError("option --env needs KEY=VALUE, got '" + value + "'");
  }
  options.env.emplace_back(value.substr(0, equals), value.substr(equals + 1));
  return OkStatus();
}

// A setter for an option whose value is a non-empty path.
OptionSetter PathSetter(std::string flag, std::string ShimOptions::*field) {
  return [flag, field](const std::string& value, ShimOptions& options) -> Status {
    REBOUND_RETURN_IF_ERROR(NotEmpty(flag, value));
    options.*field = value;
    return OkStatus();
  };
}

const std::map<std::string, OptionSetter>& Setters() {
  static const auto* setters = new std::map<std::string, OptionSetter>{
      {"--name", SetName},
      {"--run-dir", PathSetter("--run-dir", &ShimOptions::run_dir)},
      {"--log", PathSetter("--log", &ShimOptions::log_path)},
      {"--log-max-bytes", SetLogMaxBytes},
      {"--log-keep", SetLogKeep},
      {"--parent-pid", SetParentPid},
      {"--exit-record", SetExitRecord},
      {"--respawn", SetRespawn},
      {"--stop-signal", SetStopSignal},
      {"--cwd",
       [](const std::string& value, ShimOptions& options) -> Status {
         REBOUND_RETURN_IF_ERROR(NotEmpty("--cwd", value));
         options.cwd = value;
         return OkStatus();
       }},
      {"--env", AddEnv},
  };
  return *setters;
}

// Splits "--flag=value"; a bare "--flag" takes the next word as its value.
Status ParseOption(const std::vector<std::string>& args, size_t& index, ShimOptions& options,
                   std::set<std::string>& seen) {
  const std::string& arg = args[index];
  const size_t equals = arg.find('=');
  const std::string flag = arg.substr(0, equals);
  auto setter = Setters().find(flag);
  if (!arg.starts_with("--") || setter == Setters().end()) {
    return ValidationError("unknown option '" + arg + "' (the command goes after '--')");
  }
  if (flag != "--env" && !seen.insert(flag).second) {
    return ValidationError("option " + flag + " given more than once");
  }
  if (equals != std::string::npos) {
    return setter->second(arg.substr(equals + 1), options);
  }
  if (index + 1 >= args.size() || args[index + 1] == "--") {
    return ValidationError("option " + flag + " needs a value");
  }
  return setter->second(args[++index], options);
}

Status CheckRequired(const ShimOptions& options, bool saw_separator) {
  if (options.name.empty()) {
    return ValidationError("missing required option --name");
  }
  if (options.run_dir.empty()) {
    return ValidationError("missing required option --run-dir");
  }
  if (options.log_path.empty()) {
    return ValidationError("missing required option --log");
  }
  if (!saw_separator) {
    return ValidationError("missing '--' before the command to run");
  }
  if (options.command.empty()) {
    return ValidationError("no command after '--'");
  }
  if (options.command.front().empty()) {
    return ValidationError("the command after '--' is an empty word");
  }
  return OkStatus();
}

}  // namespace

std::string ShimUsage() {
  return "usage: rebound shim --name NAME --run-dir DIR --log FILE [--log-max-bytes N]\n"
         "                    [--log-keep K] [--parent-pid PID] [--exit-record durable|atomic]\n"
         "                    [--respawn always|on-failure] [--stop-signal N]\n"
         "                    [--cwd DIR] [--env KEY=VALUE]... -- COMMAND [ARGS...]\n"
         "Internal: started by the rebound daemon to parent one service.\n";
}

Result<ShimOptions> ParseShimArgs(const std::vector<std::string>& args) {
  ShimOptions options;
  std::set<std::string> seen;
  bool saw_separator = false;
  for (size_t index = 0; index < args.size(); ++index) {
    if (args[index] == "--") {
      options.command.assign(args.begin() + static_cast<std::ptrdiff_t>(index) + 1, args.end());
      saw_separator = true;
      break;
    }
    REBOUND_RETURN_IF_ERROR(ParseOption(args, index, options, seen));
  }
  REBOUND_RETURN_IF_ERROR(CheckRequired(options, saw_separator));
  return options;
}

}  // namespace rebound::supervise
