#include "cli/status_table.h"

#include <gtest/gtest.h>

namespace rebound::cli {
namespace {

const nlohmann::json kServices = nlohmann::json::parse(R"([
  {"name": "api", "state": "running", "pid": 4242, "restarts": 3, "uptime_seconds": 3725.4,
   "last_exit": {"code": 1, "signal": null, "at_ms": 1}, "required": true, "message": "",
   "health": "healthy", "breaker": "closed"},
  {"name": "database", "state": "backoff", "pid": null, "restarts": 7, "uptime_seconds": 0,
   "last_exit": {"code": null, "signal": 9, "at_ms": 2}, "required": true,
   "message": "restart 3 in 400ms", "health": "unknown", "breaker": "open"}
])");

TEST(FormatServiceTableTest, AlignsColumnsUnderTheHeader) {
  EXPECT_EQ(FormatServiceTable(kServices, /*color=*/false),
            "NAME      STATE    HEALTH   BREAKER  PID   RESTARTS  UPTIME  LAST-EXIT\n"
            "api       running  healthy  closed   4242  3         1h2m5s  code 1\n"
            "database  backoff  unknown  open     -     7         -       signal 9\n");
}

TEST(FormatServiceTableTest, ColoursOnlyTheStateColumnWhenAsked) {
  const std::string table = FormatServiceTable(kServices, /*color=*/true);
  EXPECT_NE(table.find("\033[32mrunning\033[0m  "), std::string::npos);
  EXPECT_NE(table.find("\033[31mbackoff\033[0m  "), std::string::npos);
  EXPECT_EQ(table.find("\033[", 0), table.find("\033[32m"));  // the header is plain
  EXPECT_EQ(FormatServiceTable(kServices, false).find('\033'), std::string::npos);
}

TEST(FormatServiceTableTest, MissingOrOddFieldsShowAsDashes) {
  const nlohmann::json odd =
      nlohmann::json::parse(R"([{"name": "x", "pid": [1], "uptime_seconds": "long"}, 7])");
  EXPECT_EQ(FormatServiceTable(odd, false),
            "NAME  STATE  HEALTH  BREAKER  PID  RESTARTS  UPTIME  LAST-EXIT\n"
            "x     -      -       -        -    -         -       -\n"
            "-     -      -       -        -    -         -       -\n");
  EXPECT_EQ(FormatServiceTable(nlohmann::json(), false),
            "NAME  STATE  HEALTH  BREAKER  PID  RESTARTS  UPTIME  LAST-EXIT\n");
}

TEST(FormatHealthLineTest, NamesUnhealthyRequiredServices) {
  const nlohmann::json health = nlohmann::json::parse(R"({"status": "unhealthy", "components": {
    "api": {"status": "healthy", "state": "running", "required": true, "message": ""},
    "database": {"status": "unhealthy", "state": "backoff", "required": true,
                 "message": "restart 3 in 400ms"},
    "cache": {"status": "unhealthy", "state": "stopped", "required": false, "message": ""},
    "worker": {"status": "unhealthy", "state": "fatal", "required": true, "message": ""},
    "model": {"status": "unhealthy", "state": "running", "required": true, "message": "",
              "probe": "unhealthy", "breaker": "open"}}})");
  EXPECT_EQ(FormatHealthLine(health),
            "unhealthy: database (backoff: restart 3 in 400ms), model (running, probe unhealthy, "
            "breaker open), worker (fatal)");
}

TEST(FormatHealthLineTest, HealthyAndShuttingDown) {
  EXPECT_EQ(FormatHealthLine({{"status", "healthy"}, {"components", nlohmann::json::object()}}),
            "healthy");
  EXPECT_EQ(FormatHealthLine({{"status", "shutting_down"}}), "shutting down");
  EXPECT_EQ(FormatHealthLine(nlohmann::json()), "unhealthy");
}

// The daemon stays healthy without its snapshots (the component is not required), so the
// line about health alone would not show that no snapshot is being taken.
TEST(FormatHealthLineTest, OptionalComponentsThatAreUnavailableGetALineOfTheirOwn) {
  const nlohmann::json health = nlohmann::json::parse(R"({"status": "healthy", "components": {
    "api": {"status": "healthy", "state": "running", "required": true, "message": ""},
    "jobs": {"status": "healthy", "required": false, "message": ""},
    "snapshots": {"status": "unavailable", "required": false,
                  "message": "snapshots are unavailable: opening /d/snapshots: not a repository"}
  }})");
  EXPECT_EQ(FormatHealthLine(health),
            "healthy\nsnapshots are unavailable: opening /d/snapshots: not a repository");
  nlohmann::json unhealthy = health;
  unhealthy["status"] = "unhealthy";
  unhealthy["components"]["api"] = {
      {"status", "unhealthy"}, {"state", "fatal"}, {"required", true}, {"message", ""}};
  unhealthy["components"]["cache"] = {{"status", "unavailable"}, {"required", false}};
  EXPECT_EQ(FormatHealthLine(unhealthy),
            "unhealthy: api (fatal)\ncache unavailable\n"
            "snapshots are unavailable: opening /d/snapshots: not a repository");
}

TEST(FormatHealthLineTest, OpeningOrAvailableSnapshotsAddNothing) {
  for (const char* status : {"opening", "available"}) {
    const nlohmann::json health = {
        {"status", "healthy"},
        {"components",
         {{"snapshots",
           {{"status", status}, {"required", false}, {"message", "opening the repository"}}}}}};
    EXPECT_EQ(FormatHealthLine(health), "healthy") << status;
  }
}

TEST(FormatUptimeTest, WholeSecondsOrDash) {
  EXPECT_EQ(FormatUptime(0), "-");
  EXPECT_EQ(FormatUptime(-3), "-");
  EXPECT_EQ(FormatUptime(0.4), "0s");
  EXPECT_EQ(FormatUptime(59.9), "59s");
  EXPECT_EQ(FormatUptime(90061), "1d1h1m1s");
}

TEST(FormatLastExitTest, SignalCodeOrDash) {
  EXPECT_EQ(FormatLastExit({{"code", 0}, {"signal", nullptr}}), "code 0");
  EXPECT_EQ(FormatLastExit({{"code", nullptr}, {"signal", 15}}), "signal 15");
  EXPECT_EQ(FormatLastExit({{"code", nullptr}, {"signal", nullptr}}), "-");
  EXPECT_EQ(FormatLastExit(nullptr), "-");
}

}  // namespace
}  // namespace rebound::cli
