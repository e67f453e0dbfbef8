// Every error ParseConfig reports, asserted on the exact message: file, line, key path, what
// is wrong and the fix.

#include <gtest/gtest.h>

#include "engine/config.h"

namespace rebound::engine {
namespace {

using Env = std::map<std::string, std::string>;

// The message of the error `text` must produce; fails the test if it parses.
std::string ErrorOf(std::string_view text, const Env& env = {}) {
  auto config = ParseConfig(text, "rebound.toml", env);
  if (config.ok()) {
    ADD_FAILURE() << "parsed without error:\n" << text;
    return "";
  }
  EXPECT_EQ(config.error().category(), ErrorCategory::kValidation);
  return config.error().message();
}

// A one-service file whose service table holds `body`, starting at line 2.
std::string Api(std::string_view body) { return "[services.api]\n" + std::string(body); }

TEST(ConfigErrorsTest, UnknownEnumValueListsTheChoices) {
  EXPECT_EQ(ErrorOf(Api("command = [\"./api\"]\nrestart = \"sometimes\"\n")),
            "rebound.toml:3: services.api.restart: unknown value \"sometimes\"; expected one of: "
            "always, on-failure, never");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\ncascade = \"all\"\n")),
            "rebound.toml:3: services.api.cascade: unknown value \"all\"; expected one of: "
            "one_for_one, rest_for_one, one_for_all");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nstop_signal = \"SIGSEGV\"\n")),
            "rebound.toml:3: services.api.stop_signal: unknown value \"SIGSEGV\"; expected one "
            "of: SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGKILL");
}

TEST(ConfigErrorsTest, UnknownKeySuggestsTheClosestValidKey) {
  EXPECT_EQ(ErrorOf(Api("comand = [\"./api\"]\n")),
            "rebound.toml:2: services.api: unknown key \"comand\"; did you mean \"command\"?");
  EXPECT_EQ(ErrorOf("[deamon]\n[services.a]\ncommand = [\"a\"]\n"),
            "rebound.toml:1: unknown key \"deamon\"; did you mean \"daemon\"?");
  EXPECT_EQ(ErrorOf("[daemon]\nlisten_addr = \"x\"\n"),
            "rebound.toml:2: daemon: unknown key \"listen_addr\"; valid keys: data_dir, run_dir, "
            "listen, log_level, startup_timeout, dependency_check_interval, memory_floor, "
            "memory_check_interval");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nbackoff = { jiter = \"full\" }\n")),
            "rebound.toml:3: services.api.backoff: unknown key \"jiter\"; did you mean "
            "\"jitter\"?");
  EXPECT_EQ(ErrorOf("[defaults]\ncommand = [\"a\"]\n"),
            "rebound.toml:2: defaults: unknown key \"command\"; valid keys: restart, backoff, "
            "intensity, stop_signal, stop_timeout, cascade, log, recovery, breaker, memory");
}

TEST(ConfigErrorsTest, HealthyDependencyNeedsAHealthCheck) {
  EXPECT_EQ(ErrorOf(R"([services.db]
command = ["db"]
[services.api]
command = ["api"]
depends_on = { db = "healthy" }
)"),
            "rebound.toml:3: services.api.depends_on.db: \"healthy\" needs a health check on db; "
            "add a [services.db.health] table (e.g. type = \"tcp\", address = "
            "\"127.0.0.1:6379\") or use \"started\"");
}

TEST(ConfigErrorsTest, BadProbeSettingsNameTheKeyAndTheFix) {
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nhealth = { type = \"http\", url = "
                        "\"http://:8081/health\" }\n")),
            "rebound.toml:3: services.api.health: url: \"http://:8081/health\" has no valid "
            "host; expected http://HOST:PORT/PATH, e.g. \"http://127.0.0.1:8081/health\"");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nhealth = { type = \"tcp\", address = \"x:1\", "
                        "failure_threshold = -1 }\n")),
            "rebound.toml:3: services.api.health.failure_threshold: must be between 1 and 1000, "
            "got -1");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nhealth = { type = \"grpc\" }\n")),
            "rebound.toml:3: services.api.health.type: unknown probe type \"grpc\"; expected one "
            "of: http, tcp, exec, heartbeat, notify");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nhealth = { interval = \"1s\" }\n")),
            "rebound.toml:3: services.api.health: needs a type: one of http, tcp, exec, "
            "heartbeat, notify; e.g. type = \"http\" with url = "
            "\"http://127.0.0.1:8081/health\"");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nhealth = { type = \"tcp\", adress = \"x:1\" }\n")),
            "rebound.toml:3: services.api.health: unknown key \"adress\"; did you mean "
            "\"address\"?");
}

TEST(ConfigErrorsTest, BadRecoverySettingsNameTheKeyAndTheFix) {
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nrecovery = { actions = [\"reboot\"] }\n")),
            "rebound.toml:3: services.api.recovery.actions: unknown action \"reboot\"; expected "
            "any of: reset_breaker, restart, exec, restore_module");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nrecovery = { actions = [\"restore_module\"] }\n")),
            "rebound.toml:3: services.api.recovery: actions include \"restore_module\" but "
            "restore_modules is not set; add e.g. restore_modules = [\"llm_orchestrator\"]");
  EXPECT_NE(ErrorOf(Api("command = [\"a\"]\nrecovery = { restore_modules = [\"bad name\"] }\n"))
                .find("services.api.recovery.restore_modules"),
            std::string::npos);
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nrecovery = { actions = [\"exec\"] }\n")),
            "rebound.toml:3: services.api.recovery: actions include \"exec\" but no exec "
            "command is set; add e.g. exec = [\"./flush-cache\"]");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nrecovery = { backoff = 0.5 }\n")),
            "rebound.toml:3: services.api.recovery.backoff: must be between 1.0 and 100.0 (a "
            "multiplier), e.g. 2.0");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nbreaker = { failure_rate = 2 }\n")),
            "rebound.toml:3: services.api.breaker.failure_rate: must be a rate in (0, 1], e.g. "
            "0.5 for 50%");
}

TEST(ConfigErrorsTest, BadRecoveryEnvironmentVariableIsNamed) {
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\n"), {{"MAX_RECOVERY_ATTEMPTS", "many"}}),
            "environment variable MAX_RECOVERY_ATTEMPTS: \"many\" is not a whole number from 1 "
            "to 1000");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\n"), {{"RECOVERY_BACKOFF", "nan"}}),
            "environment variable RECOVERY_BACKOFF: \"nan\" is not a multiplier from 1.0 to "
            "100.0, e.g. 2.0");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\n"), {{"RECOVERY_INTERVAL", "-5"}}),
            "environment variable RECOVERY_INTERVAL: \"-5\" is not a number of seconds such as "
            "60 or \"60s\"");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nhealth = { type = \"tcp\", address = \"[::1]\" }\n")),
            "rebound.toml:3: services.api.health.address: invalid address \"[::1]\"; expected "
            "HOST:PORT, e.g. \"127.0.0.1:6379\" or \"[::1]:6379\"");
}

TEST(ConfigErrorsTest, BadDurationReusesParseDurationsMessage) {
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nstop_timeout = \"10 seconds\"\n")),
            "rebound.toml:3: services.api.stop_timeout: invalid duration \"10 seconds\": unknown "
            "unit \" seconds\"; expected a number and a unit (ns, us, ms, s, m, h, d), e.g. "
            "250ms, 1.5s, 1h30m");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nstop_timeout = \"0s\"\n")),
            "rebound.toml:3: services.api.stop_timeout: must be at least 1ms, got \"0s\"");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nintensity = { within = \"0\" }\n")),
            "rebound.toml:3: services.api.intensity.within: must be at least 1ms, got \"0\"");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nstop_timeout = 10\n")),
            "rebound.toml:3: services.api.stop_timeout: expected a string, got an integer");
}

TEST(ConfigErrorsTest, CommandMustBeANonEmptyArrayOfStrings) {
  const std::string rule =
      "services.api.command: must be a non-empty array of strings, program first, e.g. command = [\"./api\", "
      "\"--port\", \"8081\"]";
  EXPECT_EQ(ErrorOf(Api("restart = \"never\"\n")), "rebound.toml:1: " + rule);
  EXPECT_EQ(ErrorOf(Api("command = []\n")), "rebound.toml:2: " + rule);
  EXPECT_EQ(ErrorOf(Api("command = \"./api --port 8081\"\n")), "rebound.toml:2: " + rule);
  EXPECT_EQ(ErrorOf(Api("command = [\"./api\", 8081]\n")), "rebound.toml:2: " + rule);
  EXPECT_EQ(ErrorOf(Api("command = [\"\"]\n")), "rebound.toml:2: " + rule);
}

TEST(ConfigErrorsTest, WrongTypesNameExpectedAndActual) {
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nrestart = 5\n")),
            "rebound.toml:3: services.api.restart: expected a string, got an integer");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nbackoff = \"fast\"\n")),
            "rebound.toml:3: services.api.backoff: expected a table, got a string");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nbackoff = { factor = \"2\" }\n")),
            "rebound.toml:3: services.api.backoff.factor: expected a number, got a string");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nintensity = { max_restarts = 2.5 }\n")),
            "rebound.toml:3: services.api.intensity.max_restarts: expected an integer, got a "
            "floating-point number");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nlog = { max_bytes = true }\n")),
            "rebound.toml:3: services.api.log.max_bytes: expected a size such as \"10MB\" or a "
            "number of bytes, got a boolean");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nenv = { PORT = 8081 }\n")),
            "rebound.toml:3: services.api.env.PORT: expected a string, got an integer");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nenv = [\"PORT=1\"]\n")),
            "rebound.toml:3: services.api.env: expected a table, got an array");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\ncwd = 1979-05-27\n")),
            "rebound.toml:3: services.api.cwd: expected a string, got a date");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\ndepends_on = [\"db\"]\n")),
            "rebound.toml:3: services.api.depends_on: expected a table, got an array");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nstop_signal = 15\n")),
            "rebound.toml:3: services.api.stop_signal: expected a string, got an integer");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nbackoff = { jitter = false }\n")),
            "rebound.toml:3: services.api.backoff.jitter: expected a string, got a boolean");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nintensity = \"5 in 60s\"\n")),
            "rebound.toml:3: services.api.intensity: expected a table, got a string");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nlog = 5\n")),
            "rebound.toml:3: services.api.log: expected a table, got an integer");
  EXPECT_EQ(ErrorOf("daemon = 1\n"), "rebound.toml:1: daemon: expected a table, got an integer");
  EXPECT_EQ(ErrorOf("[daemon]\nlisten = 7300\n"),
            "rebound.toml:2: daemon.listen: expected a string, got an integer");
  EXPECT_EQ(ErrorOf("defaults = \"x\"\n"),
            "rebound.toml:1: defaults: expected a table, got a string");
  EXPECT_EQ(ErrorOf("services = [1]\n"),
            "rebound.toml:1: services: expected a table, got an array");
  EXPECT_EQ(ErrorOf("[services]\napi = \"./api\"\n"),
            "rebound.toml:2: services.api: expected a table, got a string");
}

TEST(ConfigErrorsTest, UnknownDependencySuggestsAServiceOrListsThem) {
  const std::string db = "[services.db]\ncommand = [\"db\"]\n";
  EXPECT_EQ(ErrorOf(db + Api("command = [\"a\"]\ndepends_on = { dbb = \"healthy\" }\n")),
            "rebound.toml:5: services.api.depends_on: unknown service \"dbb\"; did you mean "
            "\"db\"?");
  EXPECT_EQ(ErrorOf(db + Api("command = [\"a\"]\ndepends_on = { cache = \"started\" }\n")),
            "rebound.toml:5: services.api.depends_on: unknown service \"cache\"; defined "
            "services: db, api");
  EXPECT_EQ(ErrorOf(db + Api("command = [\"a\"]\ndepends_on = { db = \"ready\" }\n")),
            "rebound.toml:5: services.api.depends_on.db: unknown value \"ready\"; expected one "
            "of: started, healthy");
}

TEST(ConfigErrorsTest, DependencyCycleIsSpelledOutWithTheFix) {
  EXPECT_EQ(ErrorOf(R"([services.db]
command = ["db"]
[services.api]
command = ["api"]
depends_on = { worker = "started", db = "healthy" }
[services.worker]
command = ["worker"]
depends_on = { api = "healthy" }
)"),
            "rebound.toml: dependency cycle: api -> worker -> api; remove one of these "
            "depends_on entries");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\ndepends_on = { api = \"started\" }\n")),
            "rebound.toml: dependency cycle: api -> api; remove one of these depends_on entries");
}

TEST(ConfigErrorsTest, TomlSyntaxErrorsGiveLineAndColumn) {
  EXPECT_EQ(ErrorOf("[services.api]\ncommand = [\"a\"\n"),
            "rebound.toml:2:16: TOML syntax error: Error while parsing array: encountered "
            "end-of-file");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\ncommand = [\"b\"]\n")),
            "rebound.toml:3:11: TOML syntax error: Error while parsing key-value pair: cannot "
            "redefine existing array 'command'");
}

TEST(ConfigErrorsTest, AtLeastOneServiceIsNeeded) {
  const std::string message =
      "rebound.toml: at least one service is needed; add a [services.NAME] table, e.g.\n"
      "  [services.web]\n"
      "  command = [\"./web\", \"--port\", \"8080\"]";
  EXPECT_EQ(ErrorOf(""), message);
  EXPECT_EQ(ErrorOf("[daemon]\nlog_level = \"warn\"\n"), message);
  EXPECT_EQ(ErrorOf("[services]\n"), message);
}

TEST(ConfigErrorsTest, ServiceNamesAreShortAndPlain) {
  const std::string rule = "; use 1 to 64 characters from A-Z a-z 0-9 _ . -";
  EXPECT_EQ(ErrorOf("[services.\"my api\"]\ncommand = [\"a\"]\n"),
            "rebound.toml:1: services: invalid service name \"my api\"" + rule);
  EXPECT_EQ(ErrorOf("[services.\"\"]\ncommand = [\"a\"]\n"),
            "rebound.toml:1: services: invalid service name \"\"" + rule);
  const std::string long_name(65, 'a');
  EXPECT_EQ(ErrorOf("[services." + long_name + "]\ncommand = [\"a\"]\n"),
            "rebound.toml:1: services: invalid service name \"" + long_name + "\"" + rule);
  auto fine = ParseConfig("[services.\"Api.v2-x_1\"]\ncommand = [\"a\"]\n[services." +
                              std::string(64, 'b') + "]\ncommand = [\"b\"]\n",
                          "/r.toml", {});
  EXPECT_TRUE(fine.ok()) << fine.error().message();
}

TEST(ConfigErrorsTest, ListenMustBeHostColonPort) {
  for (const char* bad : {"127.0.0.1", ":7300", "127.0.0.1:0", "127.0.0.1:65536", "::1:7300",
                          "[::1]7300", "[::1]:", "[]:7300", "host:12ab", "host:-1"}) {
    EXPECT_EQ(ErrorOf("[daemon]\nlisten = \"" + std::string(bad) + "\"\n"),
              "rebound.toml:2: daemon.listen: invalid address \"" + std::string(bad) +
                  "\"; expected host:port with a port from 1 to 65535, e.g. \"127.0.0.1:7300\" "
                  "or \"[::1]:7300\"");
  }
}

TEST(ConfigErrorsTest, DaemonLogLevelAndDataDirAreChecked) {
  EXPECT_EQ(ErrorOf("[daemon]\nlog_level = \"loud\"\n"),
            "rebound.toml:2: daemon.log_level: unknown value \"loud\"; expected one of: trace, "
            "debug, info, warn, error");
  EXPECT_EQ(ErrorOf("[daemon]\ndata_dir = \"\"\n"),
            "rebound.toml:2: daemon.data_dir: must not be empty; e.g. data_dir = \".rebound\"");
}

TEST(ConfigErrorsTest, DaemonRunDirMustBeANonEmptyString) {
  EXPECT_EQ(ErrorOf("[daemon]\nrun_dir = \"\"\n"),
            "rebound.toml:2: daemon.run_dir: must not be empty; leave run_dir out to keep the "
            "services' records in DATA_DIR/run, or name a directory on a tmpfs, e.g. run_dir = "
            "\"/run/rebound\"");
  const std::string wrong_type = ErrorOf("[daemon]\nrun_dir = 5\n");
  EXPECT_TRUE(wrong_type.starts_with("rebound.toml:2: daemon.run_dir: ")) << wrong_type;
  EXPECT_NE(wrong_type.find("string"), std::string::npos) << wrong_type;
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\n"), {{"REBOUND_RUN_DIR", ""}}),
            "environment variable REBOUND_RUN_DIR (overrides daemon.run_dir): must not be empty; "
            "leave run_dir out to keep the services' records in DATA_DIR/run, or name a "
            "directory on a tmpfs, e.g. run_dir = \"/run/rebound\"");
}

TEST(ConfigErrorsTest, EnvironmentOverridesAreValidatedAndNameTheVariable) {
  const std::string file = Api("command = [\"a\"]\n");
  EXPECT_EQ(ErrorOf(file, {{"REBOUND_LISTEN", "nope"}}),
            "environment variable REBOUND_LISTEN (overrides daemon.listen): invalid address "
            "\"nope\"; expected host:port with a port from 1 to 65535, e.g. \"127.0.0.1:7300\" "
            "or \"[::1]:7300\"");
  EXPECT_EQ(ErrorOf(file, {{"REBOUND_LOG_LEVEL", "INFO"}}),
            "environment variable REBOUND_LOG_LEVEL (overrides daemon.log_level): unknown value "
            "\"INFO\"; expected one of: trace, debug, info, warn, error");
  EXPECT_EQ(ErrorOf(file, {{"REBOUND_DATA_DIR", ""}}),
            "environment variable REBOUND_DATA_DIR (overrides daemon.data_dir): must not be "
            "empty; e.g. data_dir = \".rebound\"");
}

TEST(ConfigErrorsTest, BackoffErrorsNameTheFieldAndTheRule) {
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nbackoff = { strategy = \"random\" }\n")),
            "rebound.toml:3: services.api.backoff.strategy: unknown backoff strategy "
            "\"random\"; expected one of: fixed, linear, exponential, custom");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nbackoff = { strategy = \"custom\" }\n")),
            "rebound.toml:3: services.api.backoff.strategy: backoff strategy \"custom\" takes a "
            "function; it can only be set from C++, not by name");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nbackoff = { jitter = \"half\" }\n")),
            "rebound.toml:3: services.api.backoff.jitter: unknown jitter \"half\"; expected one "
            "of: none, full, equal, decorrelated");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nbackoff = { initial = \"1m\" }\n")),
            "rebound.toml:3: services.api: backoff.max must be at least backoff.initial (1m), "
            "got 30s");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nbackoff = { factor = 0.5 }\n")),
            "rebound.toml:3: services.api: backoff.factor must be a finite number >= 1.0 (got "
            "0.500000)");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nbackoff = { max = \"-1s\" }\n")),
            "rebound.toml:3: services.api.backoff.max: invalid duration \"-1s\": negative "
            "durations are not allowed; expected a number and a unit (ns, us, ms, s, m, h, d), "
            "e.g. 250ms, 1.5s, 1h30m");
}

TEST(ConfigErrorsTest, DefaultsAreCheckedOnTheirOwnLine) {
  EXPECT_EQ(ErrorOf("[defaults]\nrestart = \"sometimes\"\n" + Api("command = [\"a\"]\n")),
            "rebound.toml:2: defaults.restart: unknown value \"sometimes\"; expected one of: "
            "always, on-failure, never");
  EXPECT_EQ(ErrorOf("[defaults]\nstop_signal = \"x\"\nbackoff = { max = \"10ms\" }\n" +
                    Api("command = [\"a\"]\n")),
            "rebound.toml:2: defaults.stop_signal: unknown value \"x\"; expected one of: "
            "SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGKILL");
  EXPECT_EQ(ErrorOf("[defaults]\nbackoff = { max = \"10ms\" }\n" + Api("command = [\"a\"]\n")),
            "rebound.toml:2: defaults: backoff.max must be at least backoff.initial (100ms), got "
            "10ms");
}

TEST(ConfigErrorsTest, ReportsTheFirstErrorInFileOrder) {
  // The service (lines 1-3) comes before [defaults] (line 4): its error wins.
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nrestart = \"x\"\n[defaults]\nrestart = \"y\"\n")),
            "rebound.toml:3: services.api.restart: unknown value \"x\"; expected one of: always, "
            "on-failure, never");
  // A broken [defaults] after valid services is still reported, at its own line.
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\n[defaults]\nrestart = \"y\"\n")),
            "rebound.toml:4: defaults.restart: unknown value \"y\"; expected one of: always, "
            "on-failure, never");
  // Within a table, keys are checked in file order, not in toml++'s sorted order.
  EXPECT_EQ(ErrorOf(Api("restart = \"x\"\nbackoff = 1\n")),
            "rebound.toml:2: services.api.restart: unknown value \"x\"; expected one of: always, "
            "on-failure, never");
  EXPECT_EQ(ErrorOf(Api("zzz = 1\nrestart = \"x\"\n")),
            "rebound.toml:2: services.api: unknown key \"zzz\"; valid keys: command, cwd, env, "
            "depends_on, health, restart, backoff, intensity, stop_signal, stop_timeout, cascade, "
            "log, recovery, breaker, memory");
}

TEST(ConfigErrorsTest, IntegerAndSizeLimits) {
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nintensity = { max_restarts = 0 }\n")),
            "rebound.toml:3: services.api.intensity.max_restarts: must be between 1 and 10000, "
            "got 0");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nlog = { keep = -1 }\n")),
            "rebound.toml:3: services.api.log.keep: must be between 0 and 1000, got -1");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nlog = { max_bytes = 0 }\n")),
            "rebound.toml:3: services.api.log.max_bytes: must be at least 1 byte, got 0");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nlog = { max_bytes = \"10XB\" }\n")),
            "rebound.toml:3: services.api.log.max_bytes: invalid byte size \"10XB\": unknown "
            "unit \"XB\"; expected a number and an optional unit (B, KB, MB, GB, KiB, MiB, GiB), "
            "e.g. 512, 10MB, 1.5GiB");
}

TEST(ConfigErrorsTest, EnvNamesAndCwdAreChecked) {
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nenv = { \"A=B\" = \"x\" }\n")),
            "rebound.toml:3: services.api.env: invalid variable name \"A=B\"; it must be "
            "non-empty and must not contain '='");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\nenv = { \"\" = \"x\" }\n")),
            "rebound.toml:3: services.api.env: invalid variable name \"\"; it must be non-empty "
            "and must not contain '='");
  EXPECT_EQ(ErrorOf(Api("command = [\"a\"]\ncwd = \"\"\n")),
            "rebound.toml:3: services.api.cwd: must not be empty; leave it out to run in the "
            "config file's directory");
}

}  // namespace
}  // namespace rebound::engine
