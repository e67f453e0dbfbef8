#pragma once

// The human form of `rebound status`: a table of services and a line about health (and one
// more for each optional part the daemon runs without, such as unavailable snapshots).
//
//   std::cout << FormatServiceTable(services_json["services"], /*color=*/false);
//   std::cout << FormatHealthLine(health_json) << "\n";
//
//   NAME  STATE    HEALTH     BREAKER  PID   RESTARTS  UPTIME  LAST-EXIT
//   api   running  healthy    closed   4242  3         1h2m5s  code 1
//   db    backoff  unknown    open     -     7         -       signal 9
//
// Input is the API's JSON (docs/api.md); fields that are missing or of the wrong type show
// as "-" rather than failing, so an older or newer daemon still gets a readable table.
// Pure functions.

#include <nlohmann/json.hpp>
#include <string>

namespace rebound::cli {

// `services`: the array from GET /v1/services. Colour (ANSI) marks the STATE column:
// green running, yellow in transition, red exited/fatal/backoff.
std::string FormatServiceTable(const nlohmann::json& services, bool color);

// From GET /health: "healthy", "unhealthy: db (backoff: restart 3 in 400ms)",
// "unhealthy: api (running, probe unhealthy, breaker open)", or "shutting down". Then a line
// for each optional component whose status is "unavailable": its message (for the snapshots,
// "snapshots are unavailable: WHY; ..."), or "NAME unavailable" without one. No final newline.
std::string FormatHealthLine(const nlohmann::json& health);

// "1h2m5s" for 3725.4; "-" for 0 or less (not running).
std::string FormatUptime(double uptime_seconds);

// "code 1", "signal 9" or "-".
std::string FormatLastExit(const nlohmann::json& last_exit);

}  // namespace rebound::cli
