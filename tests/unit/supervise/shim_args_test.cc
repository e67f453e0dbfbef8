#include <gtest/gtest.h>

#include "supervise/shim.h"

namespace rebound::supervise {
namespace {

std::vector<std::string> Required() {
  return {"--name", "api", "--run-dir", "/run/rebound", "--log", "/var/log/api.log"};
}

std::vector<std::string> With(std::vector<std::string> options,
                              std::vector<std::string> command = {"--", "redis-server"}) {
  options.insert(options.end(), command.begin(), command.end());
  return options;
}

// The message of the validation Error that parsing `args` must produce.
std::string ErrorFor(const std::vector<std::string>& args) {
  auto parsed = ParseShimArgs(args);
  if (parsed.ok()) {
    return "<parsed>";
  }
  EXPECT_EQ(parsed.error().category(), ErrorCategory::kValidation);
  return parsed.error().message();
}

TEST(ShimArgsTest, RequiredOptionsAndDefaults) {
  auto parsed = ParseShimArgs(With(Required(), {"--", "sh", "-c", "exit 3"}));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->name, "api");
  EXPECT_EQ(parsed->run_dir, "/run/rebound");
  EXPECT_EQ(parsed->log_path, "/var/log/api.log");
  EXPECT_EQ(parsed->log_max_bytes, 10'485'760u);
  EXPECT_EQ(parsed->log_keep, 5);
  EXPECT_FALSE(parsed->cwd.has_value());
  EXPECT_TRUE(parsed->env.empty());
  EXPECT_EQ(parsed->command, (std::vector<std::string>{"sh", "-c", "exit 3"}));
}

TEST(ShimArgsTest, OptionalOptionsInBothSpellings) {
  std::vector<std::string> args = Required();
  for (const char* extra : {"--log-max-bytes", "1000", "--log-keep=0", "--cwd", "/srv", "--env",
                            "A=1", "--env=B=x=y", "--env", "A=2"}) {
    args.push_back(extra);
  }
  auto parsed = ParseShimArgs(With(args));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->log_max_bytes, 1000u);
  EXPECT_EQ(parsed->log_keep, 0);
  EXPECT_EQ(parsed->cwd, "/srv");
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(parsed->env, (std::vector<Pair>{{"A", "1"}, {"B", "x=y"}, {"A", "2"}}));
}

TEST(ShimArgsTest, EverythingAfterTheSeparatorBelongsToTheCommand) {
  auto parsed = ParseShimArgs(With(Required(), {"--", "prog", "--name", "x", "--", "-v"}));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->command, (std::vector<std::string>{"prog", "--name", "x", "--", "-v"}));
  EXPECT_EQ(parsed->name, "api");
}

TEST(ShimArgsTest, MissingPiecesAreNamed) {
  EXPECT_EQ(ErrorFor({"--", "x"}), "missing required option --name");
  EXPECT_EQ(ErrorFor({"--name", "a", "--log", "l", "--", "x"}),
            "missing required option --run-dir");
  EXPECT_EQ(ErrorFor({"--name", "a", "--run-dir", "d", "--", "x"}),
            "missing required option --log");
  EXPECT_EQ(ErrorFor(Required()), "missing '--' before the command to run");
  EXPECT_EQ(ErrorFor(With(Required(), {"--"})), "no command after '--'");
  EXPECT_EQ(ErrorFor(With(Required(), {"--", ""})), "the command after '--' is an empty word");
  EXPECT_EQ(ErrorFor({"--name"}), "option --name needs a value");
  EXPECT_EQ(ErrorFor({"--name", "--", "x"}), "option --name needs a value");
}

TEST(ShimArgsTest, UnknownRepeatedAndMalformedOptionsAreRejected) {
  EXPECT_EQ(ErrorFor(With({"--verbose"})),
            "unknown option '--verbose' (the command goes after '--')");
  EXPECT_EQ(ErrorFor(With({"redis-server"})),
            "unknown option 'redis-server' (the command goes after '--')");
  EXPECT_EQ(ErrorFor(With({"--name", "a", "--name", "b"})), "option --name given more than once");
  EXPECT_EQ(ErrorFor(With({"--log="})), "option --log needs a non-empty value");
  EXPECT_EQ(ErrorFor(With({"--run-dir", ""})), "option --run-dir needs a non-empty value");
  EXPECT_EQ(ErrorFor(With({"--cwd="})), "option --cwd needs a non-empty value");
  EXPECT_EQ(ErrorFor(With({"--env", "=1"})), "option --env needs KEY=VALUE, got '=1'");
  EXPECT_EQ(ErrorFor(With({"--env", "NOVALUE"})), "option --env needs KEY=VALUE, got 'NOVALUE'");
}

TEST(ShimArgsTest, NameMustBeAPlainFileName) {
  for (const char* name : {"a/b", ".", ".."}) {
    EXPECT_NE(ErrorFor(With({"--name", name})).find("usable as a file name"), std::string::npos)
        << name;
  }
  EXPECT_EQ(ErrorFor(With({"--name="})), "option --name needs a non-empty value");
}

TEST(ShimArgsTest, NumbersMustBeInRange) {
  EXPECT_NE(ErrorFor(With({"--log-max-bytes", "0"})).find("from 1 to"), std::string::npos);
  EXPECT_NE(ErrorFor(With({"--log-max-bytes", "10k"})).find("got '10k'"), std::string::npos);
  EXPECT_NE(ErrorFor(With({"--log-max-bytes", "-5"})).find("got '-5'"), std::string::npos);
  EXPECT_EQ(ErrorFor(With({"--log-keep", "1001"})),
            "option --log-keep needs an integer from 0 to 1000, got '1001'");
  EXPECT_NE(ErrorFor(With({"--log-keep", ""})).find("got ''"), std::string::npos);
}

TEST(ShimArgsTest, ParentPidIsOptionalAndMustBeAPositivePid) {
  EXPECT_FALSE(ParseShimArgs(With(Required()))->parent_pid.has_value());
  std::vector<std::string> args = Required();
  args.insert(args.end(), {"--parent-pid", "4242"});
  auto parsed = ParseShimArgs(With(args));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->parent_pid, 4242);
  EXPECT_NE(ErrorFor(With({"--parent-pid", "0"})).find("option --parent-pid needs an integer"),
            std::string::npos);
  EXPECT_NE(ErrorFor(With({"--parent-pid", "me"})).find("got 'me'"), std::string::npos);
}

// Services' shims write NAME.exit without fsync (the daemon journals the exit); jobs' shims
// and any shim not told otherwise write it durably.
TEST(ShimArgsTest, ExitRecordIsDurableUnlessAtomicIsAskedFor) {
  EXPECT_EQ(ParseShimArgs(With(Required()))->exit_record, FileDurability::kDurable);
  for (const auto& [value, durability] :
       {std::pair{"atomic", FileDurability::kAtomicOnly}, {"durable", FileDurability::kDurable}}) {
    std::vector<std::string> args = Required();
    args.insert(args.end(), {"--exit-record", value});
    auto parsed = ParseShimArgs(With(args));
    ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
    EXPECT_EQ(parsed->exit_record, durability) << value;
  }
  EXPECT_EQ(ErrorFor(With({"--exit-record", "fast"})),
            "option --exit-record needs 'durable' or 'atomic', got 'fast'");
  EXPECT_EQ(ErrorFor(With({"--exit-record=atomic", "--exit-record=durable"})),
            "option --exit-record given more than once");
}

TEST(ShimArgsTest, RespawnTakesThePolicyAndTheStopSignal) {
  auto plain = ParseShimArgs(With(Required()));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->respawn, ShimRespawn::kNever);
  EXPECT_FALSE(plain->stop_signal.has_value());
  for (const auto& [value, respawn] :
       {std::pair{"always", ShimRespawn::kAlways}, {"on-failure", ShimRespawn::kOnFailure}}) {
    std::vector<std::string> args = Required();
    args.insert(args.end(), {"--respawn", value, "--stop-signal", "2"});
    auto parsed = ParseShimArgs(With(args));
    ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
    EXPECT_EQ(parsed->respawn, respawn) << value;
    EXPECT_EQ(parsed->stop_signal, 2);
  }
  EXPECT_EQ(ErrorFor(With({"--respawn", "never"})),
            "option --respawn needs 'always' or 'on-failure', got 'never'");
  EXPECT_NE(ErrorFor(With({"--stop-signal", "0"})).find("option --stop-signal needs an integer"),
            std::string::npos);
}

TEST(ShimArgsTest, UsageListsEveryOption) {
  const std::string usage = ShimUsage();
  for (const char* option :
       {"--name", "--run-dir", "--log ", "--log-max-bytes", "--log-keep", "--parent-pid",
        "--exit-record", "--respawn", "--stop-signal", "--cwd", "--env", "-- COMMAND"}) {
    EXPECT_NE(usage.find(option), std::string::npos) << option;
  }
}

}  // namespace
}  // namespace rebound::supervise
