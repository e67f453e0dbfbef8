#include "health/service_probe.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"
#include "testing/fake_prober.h"
#include "testing/manual_scheduler.h"

namespace rebound::health {
namespace {

using namespace std::chrono_literals;

class ServiceProbeTest : public ::testing::Test {
 protected:
  void Make(ProbeSpec spec) {
    probe_ = std::make_unique<ServiceProbe>(
        spec, prober_, scheduler_, clock_, [this](const HealthChange& change) {
          changes_.push_back(std::string(HealthStatusName(change.to)) + ": " + change.reason);
        });
    probe_->SetResultListener([this](const ProbeResult&) { ++results_; });
  }

  ManualClock clock_;
  testing::ManualScheduler scheduler_{clock_};
  testing::FakeProber prober_;
  std::unique_ptr<ServiceProbe> probe_;
  std::vector<std::string> changes_;
  int results_ = 0;
};

TEST_F(ServiceProbeTest, ActiveProbesRunEveryIntervalOneAtATime) {
  Make({.type = ProbeType::kTcp, .host = "127.0.0.1", .port = 1, .interval = 1s,
        .failure_threshold = 2});
  probe_->OnServiceStarted();
  EXPECT_EQ(prober_.runs(), 0u);  // the first probe comes one interval after the start
  scheduler_.AdvanceBy(1s);
  ASSERT_EQ(prober_.pending(), 1u);
  scheduler_.AdvanceBy(5s);       // a hung probe: no second one while it runs
  EXPECT_EQ(prober_.runs(), 1u);
  prober_.Answer({.ok = true});
  EXPECT_EQ(changes_, (std::vector<std::string>{"healthy: probe succeeded"}));
  scheduler_.AdvanceBy(1s);
  prober_.Answer({.ok = false, .reason = "connection refused"});
  scheduler_.AdvanceBy(1s);
  prober_.Answer({.ok = false, .reason = "connection refused"});
  EXPECT_EQ(changes_.back(), "unhealthy: connection refused");
  EXPECT_EQ(results_, 3);
}

TEST_F(ServiceProbeTest, StoppingDropsTheResultOfAProbeInFlight) {
  Make({.type = ProbeType::kHttp, .url = "http://127.0.0.1:1/", .interval = 1s});
  probe_->OnServiceStarted();
  scheduler_.AdvanceBy(1s);
  probe_->OnServiceStopped();
  prober_.Answer({.ok = true});  // for the process that is gone
  EXPECT_EQ(probe_->status(), HealthStatus::kUnknown);
  EXPECT_EQ(results_, 0);
  scheduler_.AdvanceBy(10s);
  EXPECT_EQ(prober_.runs(), 1u);  // no probing while stopped
}

TEST_F(ServiceProbeTest, HeartbeatMissesCountOncePerInterval) {
  Make({.type = ProbeType::kHeartbeat, .interval = 2s, .failure_threshold = 2});
  probe_->OnServiceStarted();
  probe_->OnHeartbeat();
  EXPECT_EQ(probe_->status(), HealthStatus::kHealthy);
  scheduler_.AdvanceBy(1500ms);
  probe_->OnHeartbeat();  // in time: the deadline moves
  scheduler_.AdvanceBy(1900ms);
  EXPECT_EQ(probe_->status(), HealthStatus::kHealthy);
  scheduler_.AdvanceBy(100ms);  // 2s of silence: one miss
  EXPECT_EQ(probe_->status(), HealthStatus::kHealthy);
  scheduler_.AdvanceBy(2s);  // a second miss: the threshold
  EXPECT_EQ(probe_->status(), HealthStatus::kUnhealthy);
  EXPECT_EQ(changes_.back(), "unhealthy: no heartbeat within 2s");
  probe_->OnHeartbeat();
  EXPECT_EQ(probe_->status(), HealthStatus::kHealthy);
}

TEST_F(ServiceProbeTest, NotifyIsReadyOnReadyAndWatchdogNeedsPings) {
  Make({.type = ProbeType::kNotify, .failure_threshold = 1, .watchdog = 1s});
  probe_->OnServiceStarted();
  probe_->OnNotify({.status = "loading"});
  EXPECT_EQ(probe_->status(), HealthStatus::kStarting);
  EXPECT_EQ(probe_->status_text(), "loading");
  probe_->OnNotify({.ready = true, .status = "serving"});
  EXPECT_EQ(probe_->status(), HealthStatus::kHealthy);
  for (int i = 0; i < 5; ++i) {
    scheduler_.AdvanceBy(900ms);
    probe_->OnNotify({.watchdog = true});
  }
  EXPECT_EQ(probe_->status(), HealthStatus::kHealthy);
  scheduler_.AdvanceBy(1s);  // no WATCHDOG=1 for a whole period
  EXPECT_EQ(probe_->status(), HealthStatus::kUnhealthy);
  EXPECT_EQ(changes_.back(), "unhealthy: no WATCHDOG=1 within 1s");
}

TEST_F(ServiceProbeTest, NotifyWatchdogTriggerAndNewPeriod) {
  Make({.type = ProbeType::kNotify, .failure_threshold = 1, .watchdog = 1s});
  probe_->OnServiceStarted();
  probe_->OnNotify({.ready = true});
  probe_->OnNotify({.watchdog_usec = 5'000'000});  // the service asks for 5s
  scheduler_.AdvanceBy(4s);
  EXPECT_EQ(probe_->status(), HealthStatus::kHealthy);
  probe_->OnNotify({.watchdog_trigger = true});
  EXPECT_EQ(probe_->status(), HealthStatus::kUnhealthy);
  EXPECT_EQ(changes_.back(), "unhealthy: the service sent WATCHDOG=trigger");
}

TEST_F(ServiceProbeTest, NotifyWithASuccessThresholdCountsPingsAfterReady) {
  Make({.type = ProbeType::kNotify, .success_threshold = 3, .watchdog = 1s});
  probe_->OnServiceStarted();
  probe_->OnNotify({.watchdog = true});  // before READY=1: not a success yet
  probe_->OnNotify({.ready = true});
  probe_->OnNotify({.watchdog = true});
  EXPECT_EQ(probe_->status(), HealthStatus::kStarting);
  probe_->OnNotify({.watchdog = true});
  EXPECT_EQ(probe_->status(), HealthStatus::kHealthy);
}

TEST_F(ServiceProbeTest, AnAdoptedNotifyServiceCountsAsReady) {
  Make({.type = ProbeType::kNotify});
  probe_->OnServiceStarted(/*adopted=*/true);
  EXPECT_EQ(probe_->status(), HealthStatus::kHealthy);
}

}  // namespace
}  // namespace rebound::health
