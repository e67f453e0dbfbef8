#include "health/probe_spec.h"

#include <gtest/gtest.h>

#include "health/memory_watchdog.h"
#include "health/notify_message.h"

namespace rebound::health {
namespace {

TEST(ParseHttpUrlTest, SplitsHostPortAndPath) {
  auto target = ParseHttpUrl("http://127.0.0.1:8081/health?deep=1");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->host, "127.0.0.1");
  EXPECT_EQ(target->port, 8081);
  EXPECT_EQ(target->path, "/health?deep=1");
  auto defaults = ParseHttpUrl("http://localhost");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->port, 80);
  EXPECT_EQ(defaults->path, "/");
  auto v6 = ParseHttpUrl("http://[::1]:9000/x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9000);
}

TEST(ParseHttpUrlTest, RejectsWhatProbesCannotReach) {
  EXPECT_EQ(ParseHttpUrl("https://x/").error().message(),
            "url: \"https://x/\" uses https, which probes do not speak; expected "
            "http://HOST:PORT/PATH, e.g. \"http://127.0.0.1:8081/health\"");
  EXPECT_FALSE(ParseHttpUrl("127.0.0.1:8081/health").ok());
  EXPECT_FALSE(ParseHttpUrl("http://:8081/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://host:0/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://host:99999/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://user@host/").ok());
}

TEST(ValidateProbeSpecTest, NamesTheField) {
  EXPECT_TRUE(ValidateProbeSpec({.type = ProbeType::kHeartbeat}).ok());
  EXPECT_EQ(ValidateProbeSpec({.type = ProbeType::kHeartbeat, .failure_threshold = 0})
                .error()
                .message(),
            "failure_threshold: must be between 1 and 1000, got 0");
  EXPECT_FALSE(ValidateProbeSpec({.type = ProbeType::kTcp}).ok());  // no address
  EXPECT_FALSE(ValidateProbeSpec({.type = ProbeType::kExec}).ok());  // no command
  EXPECT_FALSE(ValidateProbeSpec({.type = ProbeType::kHttp, .url = "http://x/",
                                  .status_min = 500, .status_max = 200})
                   .ok());
  EXPECT_FALSE(ValidateProbeSpec({.type = ProbeType::kNotify, .success_threshold = 2}).ok());
  EXPECT_TRUE(ValidateProbeSpec(
                  {.type = ProbeType::kNotify, .success_threshold = 2, .watchdog = std::chrono::seconds(1)})
                  .ok());
  EXPECT_EQ(ParseProbeType("notify").value(), ProbeType::kNotify);
  EXPECT_FALSE(ParseProbeType("grpc").ok());
}

TEST(NotifyMessageTest, ReadsTheVariablesSystemdServicesSend) {
  NotifyMessage m = ParseNotifyMessage("READY=1\nSTATUS=Loading model 3/7\nMAINPID=42\n");
  EXPECT_TRUE(m.ready);
  EXPECT_FALSE(m.watchdog);
  EXPECT_EQ(m.status, "Loading model 3/7");
  NotifyMessage w = ParseNotifyMessage("WATCHDOG=1");
  EXPECT_TRUE(w.watchdog);
  EXPECT_FALSE(w.ready);
  EXPECT_TRUE(ParseNotifyMessage("WATCHDOG=trigger").watchdog_trigger);
  EXPECT_EQ(ParseNotifyMessage("WATCHDOG_USEC=2000000").watchdog_usec, 2000000);
  EXPECT_FALSE(ParseNotifyMessage("WATCHDOG_USEC=soon").watchdog_usec);
  EXPECT_TRUE(ParseNotifyMessage("STOPPING=1").stopping);
  NotifyMessage junk = ParseNotifyMessage("garbage\n=1\nREADY=0");
  EXPECT_FALSE(junk.ready);
  EXPECT_FALSE(junk.status);
}

TEST(CheckMemoryTest, ActsOnServicesOverTheirLimit) {
  const MemoryLimit limit{.max_rss_bytes = 100 << 20};
  auto verdicts = CheckMemory({{"model", 150 << 20, limit}, {"db", 50 << 20, limit}},
                              std::nullopt, 0);
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_EQ(verdicts[0].service, "model");
  EXPECT_EQ(verdicts[0].action, MemoryAction::kRestart);
  EXPECT_EQ(verdicts[0].measured_bytes, 150 << 20);
  EXPECT_EQ(verdicts[0].reason, "RSS 150MB over its limit of 100MB");
}

TEST(CheckMemoryTest, BelowTheSystemFloorTheLargestServiceIsActedOn) {
  const MemoryLimit signal{.action = MemoryAction::kSignal, .signal = 10};
  auto verdicts =
      CheckMemory({{"small", 10 << 20, {}}, {"big", 900 << 20, signal}}, 64 << 20, 256 << 20);
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_EQ(verdicts[0].service, "big");
  EXPECT_EQ(verdicts[0].action, MemoryAction::kSignal);
  EXPECT_EQ(verdicts[0].signal, 10);
  EXPECT_EQ(verdicts[0].limit_bytes, 256 << 20);
  EXPECT_TRUE(CheckMemory({{"big", 900 << 20, {}}}, 512 << 20, 256 << 20).empty());
  EXPECT_TRUE(CheckMemory({{"big", 900 << 20, {}}}, 64 << 20, 0).empty());  // floor off
}

}  // namespace
}  // namespace rebound::health
