#include "jobs/job_request.h"

#include <gtest/gtest.h>

namespace rebound::jobs {
namespace {

using nlohmann::json;

std::string ErrorOf(const json& body) {
  auto spec = ParseJobRequest(body);
  EXPECT_FALSE(spec.ok()) << body.dump();
  if (spec.ok()) {
    return "";
  }
  EXPECT_EQ(spec.error().category(), ErrorCategory::kValidation);
  return spec.error().message();
}

TEST(JobRequestTest, ReadsEveryField) {
  auto spec = ParseJobRequest(json::parse(R"({
    "command": ["prog", "arg"], "queue": "mail", "key": "order-7", "priority": 3,
    "retry": {"strategy": "fixed", "max_attempts": 5, "initial": "2s", "max": "2s",
              "jitter": "none"},
    "timeout": "10m", "stop_timeout": "5s", "idempotent": false, "cwd": "/srv",
    "env": {"A": "1"}})"));
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->command, (std::vector<std::string>{"prog", "arg"}));
  EXPECT_EQ(spec->queue, "mail");
  EXPECT_EQ(spec->key, "order-7");
  EXPECT_EQ(spec->priority, 3);
  EXPECT_EQ(spec->retry.max_attempts, 5);
  EXPECT_EQ(spec->retry.backoff.strategy, resilience::BackoffStrategy::kFixed);
  EXPECT_EQ(spec->retry.backoff.initial, std::chrono::seconds(2));
  EXPECT_EQ(spec->timeout, std::chrono::minutes(10));
  EXPECT_EQ(spec->stop_timeout, std::chrono::seconds(5));
  EXPECT_FALSE(spec->idempotent);
  EXPECT_EQ(spec->cwd, "/srv");
  EXPECT_EQ(spec->env.at("A"), "1");
}

TEST(JobRequestTest, DefaultsAreTheDefaultQueueAndIdempotent) {
  auto spec = ParseJobRequest(json{{"command", {"true"}}});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->queue, "default");
  EXPECT_TRUE(spec->idempotent);
  EXPECT_EQ(spec->retry.max_attempts, 3);
  EXPECT_EQ(spec->timeout, Duration(0));
  EXPECT_FALSE(spec->key);
}

TEST(JobRequestTest, ErrorsNameTheField) {
  EXPECT_NE(ErrorOf(json::object()).find("field \"command\": is required"), std::string::npos);
  EXPECT_NE(ErrorOf(json{{"command", "prog"}}).find("field \"command\""), std::string::npos);
  EXPECT_NE(ErrorOf(json{{"command", json::array()}}).find("non-empty"), std::string::npos);
  EXPECT_NE(ErrorOf(json{{"command", {"p", 1}}}).find("every element"), std::string::npos);
  EXPECT_NE(ErrorOf(json{{"command", {"p"}}, {"timeout", "soon"}}).find("field \"timeout\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(json{{"command", {"p"}}, {"retry", {{"max_attempts", 0}}}})
                .find("field \"retry.max_attempts\": must be an integer from 1"),
            std::string::npos);
  EXPECT_NE(ErrorOf(json{{"command", {"p"}}, {"retry", {{"strategy", "random"}}}})
                .find("field \"retry.strategy\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(json{{"command", {"p"}}, {"cwd", "relative"}}).find("absolute"),
            std::string::npos);
  EXPECT_NE(ErrorOf(json{{"command", {"p"}}, {"key", ""}}).find("field \"key\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(json{{"command", {"p"}}, {"idempotent", "yes"}}).find("true or false"),
            std::string::npos);
}

TEST(JobRequestTest, UnknownFieldsAreErrorsNotSilentDefaults) {
  const std::string message = ErrorOf(json{{"command", {"p"}}, {"timout", "1s"}});
  EXPECT_NE(message.find("field \"timout\": unknown field"), std::string::npos);
  EXPECT_NE(message.find("timeout"), std::string::npos);
  EXPECT_NE(ErrorOf(json{{"command", {"p"}}, {"retry", {{"attempts", 2}}}})
                .find("field \"retry.attempts\""),
            std::string::npos);
}

TEST(JobRequestTest, ExitCodeRulesAreArraysOfExitCodes) {
  auto spec = ParseJobRequest(json::parse(
      R"({"command": ["p"], "retry": {"retry_exit_codes": [3, 4], "fatal_exit_codes": [75]}})"));
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->retry.retry_exit_codes, (std::vector<int>{3, 4}));
  EXPECT_EQ(spec->retry.fatal_exit_codes, std::vector<int>{75});
  EXPECT_NE(ErrorOf(json{{"command", {"p"}}, {"retry", {{"retry_exit_codes", {0}}}}})
                .find("field \"retry.retry_exit_codes\": exit codes are integers from 1 to 255"),
            std::string::npos);
  EXPECT_NE(ErrorOf(json{{"command", {"p"}}, {"retry", {{"fatal_exit_codes", 3}}}})
                .find("must be an array"),
            std::string::npos);
}

TEST(JobRequestTest, BackoffMustBeConsistent) {
  EXPECT_NE(ErrorOf(json{{"command", {"p"}}, {"retry", {{"initial", "5m"}, {"max", "1s"}}}})
                .find("field \"retry\""),
            std::string::npos);
}

TEST(JobRequestTest, NonObjectBodyIsRejected) {
  EXPECT_NE(ErrorOf(json::array()).find("JSON object"), std::string::npos);
}

}  // namespace
}  // namespace rebound::jobs
