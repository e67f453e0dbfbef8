#include "cli/status_table.h"

#include <array>
#include <chrono>
#include <cmath>
#include <vector>

#include "base/duration.h"

namespace rebound::cli {
namespace {

constexpr size_t kColumns = 8;
using Row = std::array<std::string, kColumns>;

// The member `key` of `object`, or null when either is missing.
const nlohmann::json& Member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) {
    return kNull;
  }
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string Text(const nlohmann::json& object, const char* key) {
  const nlohmann::json& value = Member(object, key);
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_number_integer()) {
    return std::to_string(value.get<int64_t>());
  }
  return "-";
}

std::string_view ColorFor(const std::string& state) {
  if (state == "running") {
    return "\033[32m";
  }
  if (state == "starting" || state == "stopping") {
    return "\033[33m";
  }
  if (state == "exited" || state == "fatal" || state == "backoff") {
    return "\033[31m";
  }
  return "";
}

Row RowFor(const nlohmann::json& service) {
  const nlohmann::json& uptime = Member(service, "uptime_seconds");
  return {Text(service, "name"),
          Text(service, "state"),
          Text(service, "health"),
          Text(service, "breaker"),
          Text(service, "pid"),
          Text(service, "restarts"),
          FormatUptime(uptime.is_number() ? uptime.get<double>() : 0),
          FormatLastExit(Member(service, "last_exit"))};
}

void AppendRow(const Row& row, const std::array<size_t, kColumns>& widths, bool color,
               std::string& out) {
  for (size_t column = 0; column < kColumns; ++column) {
    std::string cell = row[column];
    const bool last = column + 1 == kColumns;
    if (!last) {
      cell.append(widths[column] - row[column].size() + 2, ' ');
    }
    std::string_view paint = column == 1 && color ? ColorFor(row[column]) : "";
    if (!paint.empty()) {
      // Padding stays outside the colour so columns line up in any terminal.
      cell = std::string(paint) + row[column] + "\033[0m" + cell.substr(row[column].size());
    }
    out += cell;
  }
  out += '\n';
}

// "healthy", "shutting down", or "unhealthy: " and the required components that are not.
std::string OverallHealth(const nlohmann::json& health) {
  const std::string status = Text(health, "status");
  if (status == "shutting_down") {
    return "shutting down";
  }
  if (status == "healthy") {
    return "healthy";
  }
  std::string line = "unhealthy";
  std::string separator = ": ";
  const nlohmann::json& components = Member(health, "components");
  if (components.is_object()) {
    for (const auto& [name, component] : components.items()) {
      if (Text(component, "status") == "healthy" || Member(component, "required") == false) {
        continue;
      }
      std::string detail = Text(component, "state");
      if (detail == "running") {  // running but unwell: say what the probe and breaker say
        detail += ", probe " + Text(component, "probe") + ", breaker " + Text(component, "breaker");
      }
      const std::string message = Text(component, "message");
      if (message != "-" && !message.empty()) {
        detail += ": " + message;
      }
      line += separator + name + " (" + detail + ")";
      separator = ", ";
    }
  }
  return line;
}

// A line for each optional component the daemon runs without (the snapshots, when their
// repository cannot be opened): the daemon's status stays healthy, so it would go unseen.
std::string UnavailableComponents(const nlohmann::json& health) {
  std::string lines;
  const nlohmann::json& components = Member(health, "components");
  if (!components.is_object()) {
    return lines;
  }
  for (const auto& [name, component] : components.items()) {
    if (Text(component, "status") != "unavailable" || Member(component, "required") != false) {
      continue;
    }
    const std::string message = Text(component, "message");
    // The message says what is unavailable and why ("snapshots are unavailable: ...").
    lines += "\n" + (message != "-" && !message.empty() ? message : name + " unavailable");
  }
  return lines;
}

}  // namespace

std::string FormatServiceTable(const nlohmann::json& services, bool color) {
  std::vector<Row> rows = {
      {"NAME", "STATE", "HEALTH", "BREAKER", "PID", "RESTARTS", "UPTIME", "LAST-EXIT"}};
  if (services.is_array()) {
    for (const nlohmann::json& service : services) {
      rows.push_back(RowFor(service));
    }
  }
  std::array<size_t, kColumns> widths{};
  for (const Row& row : rows) {
    for (size_t column = 0; column < kColumns; ++column) {
      widths[column] = std::max(widths[column], row[column].size());
    }
  }
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    AppendRow(rows[i], widths, color && i > 0, out);
  }
  return out;
}

std::string FormatHealthLine(const nlohmann::json& health) {
  return OverallHealth(health) + UnavailableComponents(health);
}

std::string FormatUptime(double uptime_seconds) {
  if (!(uptime_seconds >= 1)) {
    return uptime_seconds > 0 ? "0s" : "-";
  }
  const auto whole = std::chrono::seconds(static_cast<int64_t>(std::floor(uptime_seconds)));
  return FormatDuration(whole);
}

std::string FormatLastExit(const nlohmann::json& last_exit) {
  if (Member(last_exit, "signal").is_number_integer()) {
    return "signal " + Text(last_exit, "signal");
  }
  if (Member(last_exit, "code").is_number_integer()) {
    return "code " + Text(last_exit, "code");
  }
  return "-";
}

}  // namespace rebound::cli
