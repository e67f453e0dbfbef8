#include "supervise/process_info.h"

#include <algorithm>
#include <charconv>

namespace rebound::supervise {
namespace {

// After "pid (comm) " come field 3 (state) onwards; starttime is field 22.
constexpr int kFieldsBeforeStartTime = 22 - 3;

}  // namespace

Result<uint64_t> ParseStartTimeFromStat(std::string_view stat_text) {
  const size_t close = stat_text.rfind(')');
  if (close == std::string_view::npos) {
    return CorruptionError("process stat: no ')' after the command name");
  }
  std::string_view rest = stat_text.substr(close + 1);
  auto next_field = [&rest]() {
    const size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) {
      rest = {};
      return std::string_view();
    }
    rest.remove_prefix(start);
    const size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end);
    return field;
  };
  for (int skipped = 0; skipped < kFieldsBeforeStartTime; ++skipped) {
    next_field();
  }
  const std::string_view field = next_field();
  uint64_t start_time = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), start_time);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size()) {
    return CorruptionError("process stat: field 22 (starttime) is missing or not a number");
  }
  return start_time;
}

std::vector<std::string> ProcessCommandLine(FileSystem& fs, int pid) {
  auto cmdline = fs.ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> args;
  for (size_t start = 0; cmdline.ok() && start < cmdline->size();) {
    const size_t end = cmdline->find('\0', start);
    args.push_back(cmdline->substr(start, end - start));
    start = end == std::string::npos ? cmdline->size() : end + 1;
  }
  return args;
}

}  // namespace rebound::supervise
