#include "engine/sync_endpoints.h"

#include <cctype>
#include <string>

#include "snapshot/timestamp.h"

namespace rebound::engine {
namespace {

// "+HH:MM" / "-HH:MM" at the end of an RFC 3339 time: its offset from UTC in ms.
std::optional<int64_t> TrailingUtcOffsetMs(const std::string& text) {
  if (text.size() < 6) {
    return std::nullopt;
  }
  const std::string tail = text.substr(text.size() - 6);
  if ((tail[0] != '+' && tail[0] != '-') || tail[3] != ':' || !std::isdigit(tail[1]) ||
      !std::isdigit(tail[2]) || !std::isdigit(tail[4]) || !std::isdigit(tail[5])) {
    return std::nullopt;
  }
  const int64_t minutes = std::stoi(tail.substr(1, 2)) * 60 + std::stoi(tail.substr(4, 2));
  return (tail[0] == '+' ? 1 : -1) * minutes * 60000;
}

Result<int64_t> ParseRfc3339Millis(const std::string& text) {
  const std::optional<int64_t> offset_ms = TrailingUtcOffsetMs(text);
  const std::string utc = offset_ms ? text.substr(0, text.size() - 6) : text;
  Result<int64_t> parsed = snapshot::ParseTimestampMillis(utc);
  if (!parsed.ok()) {
    return ValidationError("updated_at \"" + text +
                           "\" is neither RFC 3339 (\"2026-11-26T03:30:00Z\") nor unix ms");
  }
  return *parsed - offset_ms.value_or(0);
}

}  // namespace

Result<std::optional<int64_t>> ApplicationUpdatedAtMs(const nlohmann::json& document) {
  if (!document.is_object() || !document.contains("updated_at")) {
    return std::optional<int64_t>();
  }
  const nlohmann::json& value = document["updated_at"];
  if (value.is_number_integer() || value.is_number_unsigned()) {
    return std::optional<int64_t>(value.get<int64_t>());
  }
  if (value.is_string()) {
    Result<int64_t> parsed = ParseRfc3339Millis(value.get<std::string>());
    if (!parsed.ok()) {
      return parsed.error();
    }
    return std::optional<int64_t>(*parsed);
  }
  return ValidationError("updated_at must be unix ms or an RFC 3339 string, got a " +
                         std::string(value.type_name()));
}

store::SyncEndpoints ApplicationSyncEndpoints(snapshot::EndpointTransport& transport,
                                              const snapshot::ModuleBinding& binding) {
  const snapshot::ModuleEndpoint source = *binding.source;
  const snapshot::ModuleEndpoint restore = *binding.restore;
  return {.read = [&transport, source]() -> Result<store::MemoryDocument> {
            Result<nlohmann::json> document = snapshot::PullModuleState(transport, source);
            if (!document.ok()) {
              return document.error();
            }
            Result<std::optional<int64_t>> updated_at = ApplicationUpdatedAtMs(*document);
            if (!updated_at.ok()) {
              return updated_at.error().WithContext(snapshot::DescribeEndpoint(source));
            }
            return store::MemoryDocument{std::move(*document), *updated_at};
          },
          .write = [&transport, restore](const nlohmann::json& document) -> Status {
            Status written = transport.Write(restore, document.dump());
            if (!written.ok()) {
              return written.error().WithContext(snapshot::DescribeEndpoint(restore));
            }
            return OkStatus();
          }};
}

}  // namespace rebound::engine
