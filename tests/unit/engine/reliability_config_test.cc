#include <gtest/gtest.h>

#include "engine/config.h"

namespace rebound::engine {
namespace {

using namespace std::chrono_literals;
using Env = std::map<std::string, std::string>;

Config ParseReliability(std::string_view text, const Env& env = {}) {
  auto config = ParseConfig(text, "/etc/rebound/rebound.toml", env);
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message());
  return config.ok() ? std::move(*config) : Config{};
}

constexpr std::string_view kModelServer = R"([daemon]
startup_timeout = "2m"
dependency_check_interval = "1s"
memory_floor = "256MB"
memory_check_interval = "2s"

[services.model_server]
command = ["./model"]
memory = { max_rss = "512MB", action = "signal", signal = "SIGUSR1" }
breaker = { window = 20, minimum_calls = 4, failure_rate = 0.25, open_duration = "10s" }

[services.model_server.health]
type = "http"
url = "http://127.0.0.1:8081/health"
status = "200-299"
body_contains = "ok"
interval = "1s"
timeout = "500ms"
failure_threshold = 3
success_threshold = 2
start_period = "5s"

[services.model_server.recovery]
actions = ["reset_breaker", "exec", "restart"]
exec = ["./flush-cache", "--all"]
cooldown = "30s"
max_attempts = 5
backoff = 3.0
notify_url = "http://127.0.0.1:9000/alerts"

[services.worker]
command = ["./worker"]
depends_on = { model_server = "healthy", cache = { condition = "started", required = false } }

[services.cache]
command = ["./cache"]
health = { type = "notify", watchdog = "2s" }
)";

TEST(ReliabilityConfigTest, ReadsTheHealthTable) {
  const Config config = ParseReliability(kModelServer);
  const auto& health = *config.FindReliability("model_server")->health;
  EXPECT_EQ(health.type, health::ProbeType::kHttp);
  EXPECT_EQ(health.url, "http://127.0.0.1:8081/health");
  EXPECT_EQ(health.status_min, 200);
  EXPECT_EQ(health.status_max, 299);
  EXPECT_EQ(health.body_contains, "ok");
  EXPECT_EQ(health.interval, 1s);
  EXPECT_EQ(health.timeout, 500ms);
  EXPECT_EQ(health.failure_threshold, 3);
  EXPECT_EQ(health.success_threshold, 2);
  EXPECT_EQ(health.start_period, 5s);
  const auto& cache = *config.FindReliability("cache")->health;
  EXPECT_EQ(cache.type, health::ProbeType::kNotify);
  EXPECT_EQ(cache.watchdog, 2s);
  EXPECT_FALSE(config.FindReliability("worker")->health);
}

TEST(ReliabilityConfigTest, ReadsRecoveryBreakerMemoryAndTheGate) {
  const Config config = ParseReliability(kModelServer);
  const ServiceReliability& model = *config.FindReliability("model_server");
  EXPECT_EQ(model.recovery.actions,
            (std::vector<RecoveryStep>{RecoveryStep::kResetBreaker, RecoveryStep::kExec,
                                       RecoveryStep::kRestart}));
  EXPECT_EQ(model.recovery.exec, (std::vector<std::string>{"./flush-cache", "--all"}));
  EXPECT_EQ(model.recovery.controller.cooldown, 30s);
  EXPECT_EQ(model.recovery.controller.max_attempts, 5);
  EXPECT_DOUBLE_EQ(model.recovery.controller.backoff, 3.0);
  EXPECT_EQ(model.recovery.notify_url, "http://127.0.0.1:9000/alerts");
  EXPECT_EQ(model.breaker.window_size, 20);
  EXPECT_EQ(model.breaker.minimum_calls, 4);
  EXPECT_DOUBLE_EQ(model.breaker.failure_rate_threshold, 0.25);
  EXPECT_EQ(model.breaker.open_duration, 10s);
  EXPECT_EQ(model.memory.max_rss_bytes, 512LL << 20);
  EXPECT_EQ(model.memory.action, health::MemoryAction::kSignal);
  EXPECT_EQ(model.memory.signal, SIGUSR1);
  EXPECT_EQ(config.daemon.startup_timeout, 2min);
  EXPECT_EQ(config.daemon.dependency_check_interval, 1s);
  EXPECT_EQ(config.daemon.memory_floor, 256LL << 20);
  EXPECT_EQ(config.daemon.memory_check_interval, 2s);
  const ServiceSpec& worker = *config.FindService("worker");
  ASSERT_EQ(worker.depends_on.size(), 2u);
  EXPECT_EQ(worker.depends_on[0].condition, DependencyCondition::kHealthy);
  EXPECT_TRUE(worker.depends_on[0].required);
  EXPECT_EQ(worker.depends_on[1].name, "cache");
  EXPECT_FALSE(worker.depends_on[1].required);
}

TEST(ReliabilityConfigTest, DefaultsAreSeed001s) {
  const Config config = ParseReliability("[services.a]\ncommand = [\"a\"]\n");
  const ServiceReliability& a = *config.FindReliability("a");
  EXPECT_EQ(a.recovery.controller.cooldown, 60s);
  EXPECT_EQ(a.recovery.controller.max_attempts, 3);
  EXPECT_DOUBLE_EQ(a.recovery.controller.backoff, 2.0);
  EXPECT_EQ(a.recovery.actions,
            (std::vector<RecoveryStep>{RecoveryStep::kResetBreaker, RecoveryStep::kRestart}));
  EXPECT_TRUE(a.recovery.automatic);
  EXPECT_EQ(config.daemon.startup_timeout, 300s);
  EXPECT_EQ(config.daemon.dependency_check_interval, 5s);
  EXPECT_EQ(a.probe_defaults.interval, 30s);
  EXPECT_EQ(a.probe_defaults.history_size, 100u);
}

TEST(ReliabilityConfigTest, SeedEnvironmentVariablesOverrideDefaultsButNotAServicesOwn) {
  const Env env = {{"RECOVERY_INTERVAL", "10"},           {"MAX_RECOVERY_ATTEMPTS", "7"},
                   {"RECOVERY_BACKOFF", "1.5"},           {"HEALTH_CHECK_INTERVAL", "2.5"},
                   {"HEALTH_HISTORY_SIZE", "50"},         {"STARTUP_TIMEOUT", "60"},
                   {"DEPENDENCY_CHECK_INTERVAL", "500ms"}};
  const Config config = ParseReliability(R"([defaults]
recovery = { cooldown = "5m", max_attempts = 2 }
[services.a]
command = ["a"]
health = { type = "heartbeat" }
[services.b]
command = ["b"]
recovery = { max_attempts = 9 }
health = { type = "heartbeat", interval = "1s" }
)",
                                         env);
  const ServiceReliability& a = *config.FindReliability("a");
  EXPECT_EQ(a.recovery.controller.cooldown, 10s);    // env over [defaults]
  EXPECT_EQ(a.recovery.controller.max_attempts, 7);  // env over [defaults]
  EXPECT_DOUBLE_EQ(a.recovery.controller.backoff, 1.5);
  EXPECT_EQ(a.health->interval, 2500ms);
  EXPECT_EQ(a.health->history_size, 50u);
  const ServiceReliability& b = *config.FindReliability("b");
  EXPECT_EQ(b.recovery.controller.max_attempts, 9);  // the service's own value wins
  EXPECT_EQ(b.health->interval, 1s);
  EXPECT_EQ(config.daemon.startup_timeout, 60s);
  EXPECT_EQ(config.daemon.dependency_check_interval, 500ms);
}

TEST(ReliabilityConfigTest, BadGateVariableIsNamed) {
  auto config = ParseConfig("[services.a]\ncommand = [\"a\"]\n", "rebound.toml",
                            {{"STARTUP_TIMEOUT", "forever"}});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message(),
            "environment variable STARTUP_TIMEOUT: \"forever\" is not a positive number of "
            "seconds such as 300 or \"5m\"");
}

}  // namespace
}  // namespace rebound::engine
