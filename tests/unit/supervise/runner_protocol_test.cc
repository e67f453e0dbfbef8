#include "supervise/runner_protocol.h"

#include <gtest/gtest.h>

#include "supervise/job_runner.h"

namespace rebound::supervise {
namespace {

RunnerStart SampleStart() {
  return RunnerStart{.name = "job:7",
                     .command = {"/bin/sh", "-c", "echo 'a\nb'"},
                     .cwd = "/tmp",
                     .env = {{"REBOUND_JOB_ID", "7"}, {"QUOTE", "\"x\""}},
                     .log_path = "/data/logs/job:7.log",
                     .log_max_bytes = 4096,
                     .log_keep = 2};
}

TEST(RunnerProtocolTest, RequestsRoundTripAsSingleLines) {
  for (const RunnerRequest& request :
       {RunnerRequest(SampleStart()), RunnerRequest(RunnerSignal{.name = "job:7", .signal = 15}),
        RunnerRequest(RunnerHello{}), RunnerRequest(RunnerHello{.forget = true}),
        RunnerRequest(RunnerHello{.forget = true, .child_table = true}),
        RunnerRequest(RunnerForget{.name = "job:7"})}) {
    const std::string line = EncodeRequest(request);
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "an embedded newline would split it";
    auto decoded = DecodeRequest(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
    EXPECT_EQ(*decoded, request);
  }
}

TEST(RunnerProtocolTest, EventsRoundTrip) {
  ExitRecord record{.name = "job:7",
                    .shim_pid = 40,
                    .child_pid = 41,
                    .exit_code = 3,
                    .started_ms = 1000,
                    .ended_ms = 2000};
  for (const RunnerEvent& event :
       {RunnerEvent(RunnerStarted{.name = "job:7", .child_pid = 41}),
        RunnerEvent(RunnerExited{record}),
        RunnerEvent(RunnerExited{.record = record, .kept = true}),
        RunnerEvent(RunnerRunning{.jobs = {{"job:1", 10}, {"job:2", 11}}}),
        RunnerEvent(RunnerRunning{}),
        RunnerEvent(RunnerRunning{.jobs = {{"job:3", 12}}, .forget = true}),
        RunnerEvent(RunnerRefused{.name = "job:7", .message = "a job of that name is running"})}) {
    const std::string line = EncodeEvent(event);
    auto decoded = DecodeEvent(std::string_view(line).substr(0, line.size() - 1));
    ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
    EXPECT_EQ(*decoded, event);
  }
}

// `forget` is offered both ways and only used when both sides offer it: a daemon or runner
// from before it sends hello and running without the field, which must read as "no", and
// a field an older peer does not know must not break its decoding of the rest.
TEST(RunnerProtocolTest, ForgetIsAnOptionalFieldOfHelloAndItsAnswer) {
  auto old_hello = DecodeRequest(R"({"op":"hello"})");
  ASSERT_TRUE(old_hello.ok());
  EXPECT_FALSE(std::get<RunnerHello>(*old_hello).forget);
  auto new_hello = DecodeRequest(R"({"op":"hello","forget":true})");
  ASSERT_TRUE(new_hello.ok());
  EXPECT_TRUE(std::get<RunnerHello>(*new_hello).forget);
  EXPECT_EQ(EncodeRequest(RunnerHello{}), "{\"op\":\"hello\"}\n");  // as an old daemon's
  EXPECT_NE(EncodeRequest(RunnerHello{.forget = true}).find(R"("forget":true)"), std::string::npos);

  auto old_answer =
      DecodeEvent(R"({"op":"running","jobs":[{"op":"started","name":"job:1","child_pid":9}]})");
  ASSERT_TRUE(old_answer.ok());
  EXPECT_FALSE(std::get<RunnerRunning>(*old_answer).forget);
  EXPECT_EQ(std::get<RunnerRunning>(*old_answer).jobs.size(), 1u);
  auto new_answer = DecodeEvent(R"({"op":"running","jobs":[],"forget":true})");
  ASSERT_TRUE(new_answer.ok());
  EXPECT_TRUE(std::get<RunnerRunning>(*new_answer).forget);

  auto wrong_type = DecodeRequest(R"({"op":"hello","forget":"yes"})");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().message().find("\"forget\" has the wrong type"), std::string::npos)
      << wrong_type.error().message();
}

// An older runner's `exited` has no "kept": the daemon must then remove the job's files.
TEST(RunnerProtocolTest, KeptIsAnOptionalFieldOfExited) {
  const ExitRecord exit{.name = "job:7", .shim_pid = 40, .exit_code = 0, .ended_ms = 2000};
  const std::string record = exit.ToJson().dump();
  auto old_exit = DecodeEvent(R"({"op":"exited","record":)" + record + "}");
  ASSERT_TRUE(old_exit.ok()) << old_exit.error().ToString();
  EXPECT_FALSE(std::get<RunnerExited>(*old_exit).kept);
  auto kept = DecodeEvent(R"({"op":"exited","kept":true,"record":)" + record + "}");
  ASSERT_TRUE(kept.ok()) << kept.error().ToString();
  EXPECT_TRUE(std::get<RunnerExited>(*kept).kept);
  EXPECT_EQ(EncodeEvent(RunnerExited{exit}).find("kept"), std::string::npos);  // as an old one's
}

// A refusal quotes an excerpt of the bad line; cut mid-character or holding stray bytes, it
// must still encode (the runner would die on an exception) as one line of valid JSON.
TEST(RunnerProtocolTest, RefusalWithInvalidUtf8EncodesWithReplacement) {
  const std::string bad = std::string("not json \xc3") + "\xff tail";
  auto refused = DecodeRequest(bad);
  ASSERT_FALSE(refused.ok());
  const std::string line =
      EncodeEvent(RunnerRefused{.name = "", .message = refused.error().message()});
  ASSERT_EQ(line.back(), '\n');
  auto decoded = DecodeEvent(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  const auto& message = std::get<RunnerRefused>(*decoded).message;
  EXPECT_NE(message.find("\xEF\xBF\xBD"), std::string::npos) << message;  // U+FFFD
  EXPECT_NE(message.find("tail"), std::string::npos) << message;
}

TEST(RunnerProtocolTest, BadRequestsAreValidationErrorsThatSayWhy) {
  const std::pair<std::string, std::string> cases[] = {
      {"not json", "not a JSON object"},
      {"[1]", "not a JSON object"},
      {R"({"name":"x"})", "\"op\""},
      {R"({"op":"launch"})", "unknown op \"launch\""},
      {R"({"op":"start","name":"job:1","log":"/l","log_max_bytes":1,"log_keep":0})",
       "missing \"command\""},
      {R"({"op":"start","name":"job:1","command":[],"log":"/l","log_max_bytes":1,"log_keep":0})",
       "empty command"},
      {R"({"op":"start","name":"../x","command":["a"],"log":"/l","log_max_bytes":1,"log_keep":0})",
       "file name"},
      {R"({"op":"start","name":"job:1","command":"a","log":"/l","log_max_bytes":1,"log_keep":0})",
       "\"command\" has the wrong type"},
      {R"({"op":"signal","name":"job:1","signal":0})", "no such signal 0"},
      {R"({"op":"forget"})", "missing \"name\""},
  };
  for (const auto& [line, why] : cases) {
    auto decoded = DecodeRequest(line);
    ASSERT_FALSE(decoded.ok()) << line;
    EXPECT_EQ(decoded.error().category(), ErrorCategory::kValidation) << line;
    EXPECT_NE(decoded.error().message().find(why), std::string::npos)
        << line << " -> " << decoded.error().message();
  }
}

TEST(RunnerProtocolTest, BadEventsAreErrors) {
  EXPECT_FALSE(DecodeEvent(R"({"op":"exited","record":{"name":"job:1"}})").ok());
  EXPECT_FALSE(DecodeEvent(R"({"op":"running","jobs":{}})").ok());
  EXPECT_FALSE(DecodeEvent(R"({"op":"started","name":"job:1"})").ok());
  EXPECT_FALSE(DecodeEvent(R"({"op":"start"})").ok());
}

TEST(LineBufferTest, SplitsAStreamIntoLinesWhateverTheChunks) {
  LineBuffer buffer;
  buffer.Append("fir");
  EXPECT_EQ(buffer.NextLine(), std::nullopt);
  buffer.Append("st\nsecond\nthi");
  EXPECT_EQ(buffer.NextLine(), "first");
  EXPECT_EQ(buffer.NextLine(), "second");
  EXPECT_EQ(buffer.NextLine(), std::nullopt);
  buffer.Append("rd\n\n");
  EXPECT_EQ(buffer.NextLine(), "third");
  EXPECT_EQ(buffer.NextLine(), "");
  EXPECT_EQ(buffer.NextLine(), std::nullopt);
}

TEST(LineBufferTest, AnUnfinishedLineBeyondTheLimitIsOverlong) {
  LineBuffer buffer;
  buffer.Append(std::string(kMaxRunnerLineBytes, 'x'));
  EXPECT_FALSE(buffer.IsOverlong());
  buffer.Append("x");
  EXPECT_TRUE(buffer.IsOverlong());
  buffer.Append("\n");
  EXPECT_EQ(buffer.NextLine()->size(), kMaxRunnerLineBytes + 1);
  EXPECT_FALSE(buffer.IsOverlong());
}

TEST(JobRunnerArgsTest, ParsesEveryOption) {
  auto options = ParseJobRunnerArgs({"--run-dir", "/data/run", "--socket", "/data/run/r.sock",
                                     "--parent-pid", "42", "--connection-fd", "3"});
  ASSERT_TRUE(options.ok()) << options.error().ToString();
  EXPECT_EQ(*options, (JobRunnerOptions{.run_dir = "/data/run",
                                        .socket_path = "/data/run/r.sock",
                                        .parent_pid = 42,
                                        .connection_fd = 3}));
  EXPECT_EQ(JobRunnerSocketPath("/data/run"), "/data/run/job:runner.sock");
}

TEST(JobRunnerArgsTest, RejectsBadCommandLinesNamingTheOption) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--run-dir", "/r"}, "--socket are required"},
      {{"--run-dir", "/r", "--socket"}, "--socket needs a value"},
      {{"--run-dir", "/r", "--socket", "/s", "--parent-pid", "x"}, "--parent-pid"},
      {{"--run-dir", "/r", "--socket", "/s", "--connection-fd", "1"}, "--connection-fd"},
      {{"--run-dir", "/r", "--socket", "/s", "--verbose", "1"}, "unknown option '--verbose'"},
      {{"--run-dir", "/r", "--socket", "/" + std::string(200, 's')}, "limit of a unix socket"},
  };
  for (const auto& [args, why] : cases) {
    auto options = ParseJobRunnerArgs(args);
    ASSERT_FALSE(options.ok()) << why;
    EXPECT_NE(options.error().message().find(why), std::string::npos) << options.error().message();
  }
}

}  // namespace
}  // namespace rebound::supervise
