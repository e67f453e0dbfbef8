// ParseConfig on valid files: defaults, [defaults] inheritance, environment overrides, path
// resolution, order and digest. The error messages are in config_errors_test.cc.

#include "engine/config.h"

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "testing/temp_dir.h"

namespace rebound::engine {
namespace {

using namespace std::chrono_literals;
using resilience::BackoffStrategy;
using resilience::Jitter;
using Env = std::map<std::string, std::string>;

constexpr std::string_view kExample = R"([daemon]
data_dir = ".rebound"
listen = "127.0.0.1:7300"
log_level = "info"

[defaults]
restart = "always"
stop_timeout = "10s"

[services.db]
command = ["redis-server", "--port", "6390", "--bind", "127.0.0.1"]
restart = "always"
stop_signal = "SIGTERM"
stop_timeout = "10s"
health = { type = "tcp", address = "127.0.0.1:6390" }

[services.api]
command = ["./api", "--port", "8081"]
cwd = "services/api"
env = { MODEL = "small", PORT = "8081" }
depends_on = { db = "healthy" }
restart = "on-failure"
backoff = { strategy = "exponential", initial = "100ms", factor = 2.0, max = "30s", jitter = "full" }
intensity = { max_restarts = 5, within = "60s" }
cascade = "rest_for_one"
log = { max_bytes = "10MB", keep = 5 }

[services.worker]
command = ["./worker"]
depends_on = { api = "started", db = "started" }
)";

Config Parse(std::string_view text, const Env& env = {}) {
  auto config = ParseConfig(text, "/etc/rebound/rebound.toml", env);
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message());
  return config.ok() ? std::move(*config) : Config{};
}

TEST(ConfigTest, ParsesTheDocumentedExample) {
  const Config config = Parse(kExample);
  EXPECT_EQ(config.path, "/etc/rebound/rebound.toml");
  EXPECT_EQ(config.daemon.data_dir, "/etc/rebound/.rebound");
  EXPECT_EQ(config.daemon.listen_host, "127.0.0.1");
  EXPECT_EQ(config.daemon.listen_port, 7300);
  ASSERT_EQ(config.services.size(), 3u);
  EXPECT_EQ(config.start_order, (std::vector<std::string>{"db", "api", "worker"}));

  const ServiceSpec& api = *config.FindService("api");
  EXPECT_EQ(api.command, (std::vector<std::string>{"./api", "--port", "8081"}));
  EXPECT_EQ(api.cwd, "/etc/rebound/services/api");
  EXPECT_EQ(api.env, (std::map<std::string, std::string>{{"MODEL", "small"}, {"PORT", "8081"}}));
  ASSERT_EQ(api.depends_on.size(), 1u);
  EXPECT_EQ(api.depends_on[0].name, "db");
  EXPECT_EQ(api.depends_on[0].condition, DependencyCondition::kHealthy);
  EXPECT_EQ(api.restart, RestartPolicy::kOnFailure);
  EXPECT_EQ(api.cascade, Cascade::kRestForOne);
  EXPECT_EQ(api.log.max_bytes, 10 * 1024 * 1024);
  EXPECT_EQ(api.line, 17);
  EXPECT_EQ(config.FindService("nope"), nullptr);
}

TEST(ConfigTest, KeepsServicesAndDependenciesInFileOrder) {
  const Config config = Parse(R"([services.zeta]
command = ["z"]
depends_on = { beta = "started", alpha = "healthy" }
[services.beta]
command = ["b"]
[services.alpha]
command = ["a"]
health = { type = "heartbeat" }
)");
  ASSERT_EQ(config.services.size(), 3u);
  EXPECT_EQ(config.services[0].name, "zeta");
  EXPECT_EQ(config.services[1].name, "beta");
  EXPECT_EQ(config.services[2].name, "alpha");
  EXPECT_EQ(config.services[0].depends_on[0].name, "beta");
  EXPECT_EQ(config.services[0].depends_on[1].name, "alpha");
  EXPECT_EQ(config.start_order, (std::vector<std::string>{"beta", "alpha", "zeta"}));
}

TEST(ConfigTest, FillsEveryDefaultWhenOnlyCommandIsGiven) {
  const Config config = Parse("[services.web]\ncommand = [\"./web\"]\n");
  EXPECT_EQ(config.daemon.data_dir, "/etc/rebound/.rebound");
  EXPECT_EQ(config.daemon.listen_host, "127.0.0.1");
  EXPECT_EQ(config.daemon.listen_port, 7300);
  EXPECT_EQ(config.daemon.log_level, "info");
  const ServiceSpec& web = config.services.at(0);
  EXPECT_EQ(web.cwd, "/etc/rebound");
  EXPECT_TRUE(web.env.empty());
  EXPECT_TRUE(web.depends_on.empty());
  EXPECT_EQ(web.restart, RestartPolicy::kAlways);
  EXPECT_EQ(web.backoff.strategy, BackoffStrategy::kExponential);
  EXPECT_EQ(web.backoff.initial, 100ms);
  EXPECT_EQ(web.backoff.factor, 2.0);
  EXPECT_EQ(web.backoff.max, 30s);
  EXPECT_EQ(web.backoff.jitter, Jitter::kFull);
  EXPECT_EQ(web.intensity.max_restarts, 5);
  EXPECT_EQ(web.intensity.within, 60s);
  EXPECT_EQ(web.stop_signal, SIGTERM);
  EXPECT_EQ(web.stop_timeout, 10s);
  EXPECT_EQ(web.cascade, Cascade::kOneForOne);
  EXPECT_EQ(web.log.max_bytes, 10 * 1024 * 1024);
  EXPECT_EQ(web.log.keep, 5);
  EXPECT_EQ(web.line, 1);
}

TEST(ConfigTest, ServicesInheritDefaultsFieldByFieldAndOverrideThem) {
  const Config config = Parse(R"([services.a]
command = ["a"]
backoff = { initial = "1s" }
stop_signal = "int"

[services.b]
command = ["b"]
restart = "never"
log = { keep = 9 }

[defaults]
restart = "on-failure"
backoff = { strategy = "linear", increment = "2s", max = "1m", jitter = "equal", factor = 3 }
intensity = { max_restarts = 3 }
stop_signal = "SIGQUIT"
stop_timeout = "3s"
cascade = "one_for_all"
log = { max_bytes = 2048, keep = 2 }
)");
  const ServiceSpec& a = config.services.at(0);
  EXPECT_EQ(a.restart, RestartPolicy::kOnFailure);
  EXPECT_EQ(a.backoff.strategy, BackoffStrategy::kLinear);
  EXPECT_EQ(a.backoff.initial, 1s);
  EXPECT_EQ(a.backoff.increment, 2s);
  EXPECT_EQ(a.backoff.factor, 3.0);
  EXPECT_EQ(a.backoff.max, 1min);
  EXPECT_EQ(a.backoff.jitter, Jitter::kEqual);
  EXPECT_EQ(a.intensity.max_restarts, 3);
  EXPECT_EQ(a.intensity.within, 60s);
  EXPECT_EQ(a.stop_signal, SIGINT);
  EXPECT_EQ(a.stop_timeout, 3s);
  EXPECT_EQ(a.cascade, Cascade::kOneForAll);
  EXPECT_EQ(a.log.max_bytes, 2048);
  const ServiceSpec& b = config.services.at(1);
  EXPECT_EQ(b.restart, RestartPolicy::kNever);
  EXPECT_EQ(b.backoff.initial, 100ms);
  EXPECT_EQ(b.stop_signal, SIGQUIT);
  EXPECT_EQ(b.log.max_bytes, 2048);
  EXPECT_EQ(b.log.keep, 9);
}

TEST(ConfigTest, AcceptsEverySignalSpelling) {
  const std::vector<std::pair<std::string, int>> spellings = {
      {"SIGTERM", SIGTERM}, {"term", SIGTERM}, {"SIGINT", SIGINT},   {"Quit", SIGQUIT},
      {"sighup", SIGHUP},   {"USR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"kill", SIGKILL}};
  for (const auto& [spelling, signal] : spellings) {
    const Config config =
        Parse("[services.a]\ncommand = [\"a\"]\nstop_signal = \"" + spelling + "\"\n");
    ASSERT_EQ(config.services.size(), 1u) << spelling;
    EXPECT_EQ(config.services[0].stop_signal, signal) << spelling;
  }
}

TEST(ConfigTest, StopSignalNameSpellsKnownSignals) {
  EXPECT_EQ(StopSignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(StopSignalName(SIGUSR1), "SIGUSR1");
  EXPECT_EQ(StopSignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(StopSignalName(SIGSEGV), "signal " + std::to_string(SIGSEGV));
}

TEST(ConfigTest, AcceptsIpv6AndNamedListenHosts) {
  Config config = Parse("[daemon]\nlisten = \"[::1]:7400\"\n[services.a]\ncommand = [\"a\"]\n");
  EXPECT_EQ(config.daemon.listen_host, "::1");
  EXPECT_EQ(config.daemon.listen_port, 7400);
  config = Parse("[daemon]\nlisten = \"localhost:65535\"\n[services.a]\ncommand = [\"a\"]\n");
  EXPECT_EQ(config.daemon.listen_host, "localhost");
  EXPECT_EQ(config.daemon.listen_port, 65535);
}

TEST(ConfigTest, ResolvesRelativePathsAgainstTheConfigDirectory) {
  const Config config = Parse(R"([daemon]
data_dir = "../var/rebound"
[services.a]
command = ["./a"]
cwd = "apps/./a/"
[services.b]
command = ["b"]
cwd = "/srv/b"
)");
  EXPECT_EQ(config.daemon.data_dir, "/etc/var/rebound");
  EXPECT_EQ(config.services[0].cwd, "/etc/rebound/apps/a");
  EXPECT_EQ(config.services[1].cwd, "/srv/b");
  EXPECT_EQ(config.services[0].command[0], "./a");  // resolved by the launcher, in cwd
}

TEST(ConfigTest, ResolvesRelativeConfigPathAgainstTheCurrentDirectory) {
  auto config = ParseConfig("[services.a]\ncommand = [\"a\"]\n", "conf/rebound.toml", {});
  ASSERT_TRUE(config.ok()) << config.error().message();
  const std::string cwd = *CurrentDirectory();
  EXPECT_EQ(config->path, cwd + "/conf/rebound.toml");
  EXPECT_EQ(config->daemon.data_dir, cwd + "/conf/.rebound");
  EXPECT_EQ(config->services[0].cwd, cwd + "/conf");
}

TEST(ConfigTest, EnvironmentOverridesDaemonSettings) {
  const Env env = {{"REBOUND_DATA_DIR", "/var/lib/rebound"},
                   {"REBOUND_LISTEN", "[::1]:9000"},
                   {"REBOUND_LOG_LEVEL", "debug"},
                   {"UNRELATED", "x"}};
  const Config config = Parse(kExample, env);
  EXPECT_EQ(config.daemon.data_dir, "/var/lib/rebound");
  EXPECT_EQ(config.daemon.listen_host, "::1");
  EXPECT_EQ(config.daemon.listen_port, 9000);
  EXPECT_EQ(config.daemon.log_level, "debug");
}

TEST(ConfigTest, RelativeDataDirOverrideResolvesAgainstTheConfigDirectory) {
  const Config config = Parse(kExample, {{"REBOUND_DATA_DIR", "state"}});
  EXPECT_EQ(config.daemon.data_dir, "/etc/rebound/state");
}

TEST(ConfigTest, ServicesRunDirIsUnderTheDataDirUnlessRunDirIsSet) {
  const Config unset = Parse(kExample);
  EXPECT_EQ(ServicesRunDir(unset.daemon), "/etc/rebound/.rebound/run");
  const Config set =
      Parse("[daemon]\nrun_dir = \"../run/rebound\"\n[services.a]\ncommand = [\"a\"]\n");
  EXPECT_EQ(set.daemon.run_dir, "/etc/run/rebound");  // relative: against the config's directory
  EXPECT_EQ(ServicesRunDir(set.daemon), "/etc/run/rebound");
  const Config overridden = Parse(kExample, {{"REBOUND_RUN_DIR", "/dev/shm/rebound"}});
  EXPECT_EQ(ServicesRunDir(overridden.daemon), "/dev/shm/rebound");
}

TEST(ConfigTest, DigestIsStableAndChangesWithTheFile) {
  const Config first = Parse(kExample);
  const Config same = Parse(kExample);
  const Config changed = Parse(std::string(kExample) + "# a comment\n");
  EXPECT_EQ(first.digest.size(), 16u);
  EXPECT_EQ(first.digest, same.digest);
  EXPECT_NE(first.digest, changed.digest);
}

TEST(ConfigTest, LoadConfigReadsTheFileAndItsDigestFollowsEdits) {
  testing::TempDir dir;
  const std::string path = dir.Path("rebound.toml");
  ASSERT_TRUE(WriteFileAtomically(DefaultFileSystem(), path, kExample).ok());
  auto config = LoadConfig(path, {});
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->path, path);
  EXPECT_EQ(config->daemon.data_dir, dir.Path(".rebound"));
  EXPECT_EQ(config->digest, Parse(kExample).digest);

  ASSERT_TRUE(
      WriteFileAtomically(DefaultFileSystem(), path, "[services.x]\ncommand = [\"x\"]\n").ok());
  auto edited = LoadConfig(path, {});
  ASSERT_TRUE(edited.ok()) << edited.error().message();
  EXPECT_NE(edited->digest, config->digest);
}

TEST(ConfigTest, LoadConfigReportsAMissingFileAsNotFound) {
  testing::TempDir dir;
  auto config = LoadConfig(dir.Path("absent.toml"), {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().category(), ErrorCategory::kNotFound);
  EXPECT_EQ(config.error().message(),
            "reading config file: open " + dir.Path("absent.toml") + ": No such file or directory");
}

TEST(ConfigTest, EnumNamesAreTheConfigSpellings) {
  EXPECT_EQ(RestartPolicyName(RestartPolicy::kAlways), "always");
  EXPECT_EQ(RestartPolicyName(RestartPolicy::kOnFailure), "on-failure");
  EXPECT_EQ(RestartPolicyName(RestartPolicy::kNever), "never");
  EXPECT_EQ(CascadeName(Cascade::kOneForOne), "one_for_one");
  EXPECT_EQ(CascadeName(Cascade::kRestForOne), "rest_for_one");
  EXPECT_EQ(CascadeName(Cascade::kOneForAll), "one_for_all");
  EXPECT_EQ(DependencyConditionName(DependencyCondition::kStarted), "started");
  EXPECT_EQ(DependencyConditionName(DependencyCondition::kHealthy), "healthy");
}

}  // namespace
}  // namespace rebound::engine
