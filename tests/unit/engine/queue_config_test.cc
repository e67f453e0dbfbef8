// [queues.NAME]: durable job queues in the config file.

#include "engine/queue_config.h"

#include <gtest/gtest.h>

#include "engine/config.h"

namespace rebound::engine {
namespace {

constexpr std::string_view kQueueService = "[services.api]\ncommand = [\"./api\"]\n";

Result<Config> ParseQueues(std::string_view queues) {
  return ParseConfig(std::string(kQueueService) + std::string(queues), "rebound.toml", {});
}

std::string QueueErrorOf(std::string_view queues) {
  auto config = ParseQueues(queues);
  if (config.ok()) {
    ADD_FAILURE() << "parsed without error:\n" << queues;
    return "";
  }
  EXPECT_EQ(config.error().category(), ErrorCategory::kValidation);
  return config.error().message();
}

TEST(QueueConfigTest, ReadsQueuesInFileOrder) {
  auto config = ParseQueues("[queues.mail]\nconcurrency = 2\nrate = \"10/s\"\n[queues.batch]\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  ASSERT_EQ(config->queues.size(), 2u);
  EXPECT_EQ(config->queues[0].name, "mail");
  EXPECT_EQ(config->queues[0].concurrency, 2);
  EXPECT_DOUBLE_EQ(config->queues[0].rate_per_second, 10);
  EXPECT_EQ(config->queues[1].name, "batch");
  EXPECT_EQ(config->queues[1].concurrency, 4);
  EXPECT_EQ(config->queues[1].rate_per_second, 0);
}

TEST(QueueConfigTest, NoQueuesTableMeansOnlyTheBuiltInDefault) {
  auto config = ParseQueues("");
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->queues.empty());
}

TEST(QueueConfigTest, ErrorsNameFileLineKeyAndFix) {
  EXPECT_EQ(QueueErrorOf("[queues.mail]\nconcurrency = 0\n"),
            "rebound.toml:4: queues.mail.concurrency: must be between 1 and 10000, got 0");
  EXPECT_EQ(QueueErrorOf("[queues.mail]\nrate = \"fast\"\n"),
            "rebound.toml:4: queues.mail.rate: invalid rate \"fast\"; expected COUNT/UNIT with a "
            "positive count and a unit of s, m or h, e.g. rate = \"10/s\"");
  EXPECT_NE(QueueErrorOf("[queues.mail]\nconcurency = 2\n").find("did you mean \"concurrency\""),
            std::string::npos);
  EXPECT_NE(QueueErrorOf("[queues.\"bad name\"]\n").find("invalid queue name"), std::string::npos);
}

TEST(QueueConfigTest, JobRetentionDefaultsToAWeekAndZeroKeepsForever) {
  EXPECT_EQ(ParseQueues("")->job_retention, std::chrono::hours(24 * 7));
  EXPECT_EQ(ParseQueues("[jobs]\nretention = \"36h\"\n")->job_retention, std::chrono::hours(36));
  EXPECT_EQ(ParseQueues("[jobs]\nretention = \"0\"\n")->job_retention, Duration(0));
  EXPECT_NE(QueueErrorOf("[jobs]\nretention = \"soon\"\n").find("rebound.toml:4: jobs.retention"),
            std::string::npos);
  EXPECT_NE(QueueErrorOf("[jobs]\nretension = \"1d\"\n").find("did you mean \"retention\""),
            std::string::npos);
}

TEST(QueueConfigTest, JobRunnerIsSharedByDefaultOrPerJob) {
  EXPECT_TRUE(ParseQueues("")->job_runner_shared);  // one runner unless per-job is asked for
  EXPECT_TRUE(ParseQueues("[jobs]\nretention = \"1d\"\n")->job_runner_shared);
  EXPECT_TRUE(ParseQueues("[jobs]\nrunner = \"shared\"\n")->job_runner_shared);
  EXPECT_FALSE(ParseQueues("[jobs]\nrunner = \"per-job\"\n")->job_runner_shared);
  const std::string error = QueueErrorOf("[jobs]\nrunner = \"pooled\"\n");
  EXPECT_NE(error.find("rebound.toml:4: jobs.runner"), std::string::npos) << error;
  EXPECT_NE(error.find("shared"), std::string::npos) << error;
  EXPECT_NE(error.find("per-job"), std::string::npos) << error;
}

// DATA_DIR/run/job:runner.sock must fit a unix socket address (107 bytes), or no job could start.
TEST(QueueConfigTest, ARunnerSocketTooLongFallsBackToShimsByDefaultAndIsAnErrorWhenAskedFor) {
  const std::string long_dir = "/srv/" + std::string(90, 'd');
  const std::string daemon = "[daemon]\ndata_dir = \"" + long_dir + "\"\n";
  auto fallback = ParseQueues(daemon);
  ASSERT_TRUE(fallback.ok()) << fallback.error().message();
  EXPECT_FALSE(fallback->job_runner_shared);
  const std::string socket = long_dir + "/run/job:runner.sock";
  EXPECT_NE(fallback->job_runner_fallback.find(socket + " would be 115 bytes"), std::string::npos)
      << fallback->job_runner_fallback;
  EXPECT_NE(fallback->job_runner_fallback.find("runner = \"per-job\""), std::string::npos);
  const std::string error = QueueErrorOf(daemon + "[jobs]\nrunner = \"shared\"\n");
  EXPECT_NE(error.find("rebound.toml:6: jobs.runner: the job runner's socket"), std::string::npos)
      << error;
  EXPECT_NE(error.find("use a shorter [daemon] data_dir, or runner = \"per-job\""),
            std::string::npos)
      << error;
  auto per_job = ParseQueues(daemon + "[jobs]\nrunner = \"per-job\"\n");
  ASSERT_TRUE(per_job.ok()) << per_job.error().message();
  EXPECT_TRUE(per_job->job_runner_fallback.empty());  // asked for: nothing to warn of
  auto fits = ParseQueues("[daemon]\ndata_dir = \"/srv/" + std::string(82, 'd') + "\"\n");
  ASSERT_TRUE(fits.ok());
  EXPECT_TRUE(fits->job_runner_shared);  // 5 + 82 + 20 = 107 bytes: just fits
  EXPECT_TRUE(fits->job_runner_fallback.empty());
}

TEST(QueueConfigTest, RatesPerSecondMinuteHour) {
  EXPECT_DOUBLE_EQ(*ParseRate("10/s"), 10);
  EXPECT_DOUBLE_EQ(*ParseRate("120/m"), 2);
  EXPECT_DOUBLE_EQ(*ParseRate("1.5/h"), 1.5 / 3600);
  EXPECT_FALSE(ParseRate("0/s"));
  EXPECT_FALSE(ParseRate("10/d"));
  EXPECT_FALSE(ParseRate("10"));
}

}  // namespace
}  // namespace rebound::engine
