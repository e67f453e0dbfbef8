#include "supervise/exit_record.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "base/atomic_file.h"
#include "testing/fault_file_system.h"
#include "testing/temp_dir.h"

namespace rebound::supervise {
namespace {

ExitRecord CodeRecord() {
  return {.name = "api",
          .shim_pid = 40,
          .child_pid = 41,
          .exit_code = 3,
          .started_ms = 1'767'225'600'000,
          .ended_ms = 1'767'225'605'000};
}

ChildRecord SampleChild() {
  return {.name = "api",
          .shim_pid = 40,
          .child_pid = 41,
          .child_start_time = 18'446'744'073'709'551'000u,
          .started_ms = 1'767'225'600'000};
}

class ExitRecordFileTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  FileSystem& fs_ = DefaultFileSystem();
};

TEST(ExitRecordTest, PathsAreNameWithSuffixInRunDir) {
  EXPECT_EQ(ExitRecordPath("/run/rebound", "api"), "/run/rebound/api.exit");
  EXPECT_EQ(ChildRecordPath("/run/rebound", "api"), "/run/rebound/api.child");
}

TEST(ExitRecordTest, JsonHasTheContractFieldsWithNullForTheUnsetOne) {
  const nlohmann::json json = CodeRecord().ToJson();
  EXPECT_EQ(json["name"], "api");
  EXPECT_EQ(json["shim_pid"], 40);
  EXPECT_EQ(json["child_pid"], 41);
  EXPECT_EQ(json["exit_code"], 3);
  EXPECT_TRUE(json["signal"].is_null());
  EXPECT_EQ(json["core_dumped"], false);
  EXPECT_EQ(json["started_ms"], 1'767'225'600'000);
  EXPECT_EQ(json["ended_ms"], 1'767'225'605'000);
  EXPECT_EQ(json.size(), 8u);
}

TEST(ExitRecordTest, SignalRecordRoundTripsThroughJson) {
  ExitRecord record = CodeRecord();
  record.exit_code.reset();
  record.signal = SIGSEGV;
  record.core_dumped = true;
  auto parsed = ExitRecord::FromJson(record.ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, record);
}

TEST(ExitRecordTest, FromJsonRejectsMissingOrMistypedFieldsAsCorruption) {
  for (const char* key : {"name", "shim_pid", "child_pid", "core_dumped", "started_ms"}) {
    nlohmann::json json = CodeRecord().ToJson();
    json.erase(key);
    auto parsed = ExitRecord::FromJson(json);
    ASSERT_FALSE(parsed.ok()) << key;
    EXPECT_EQ(parsed.error().category(), ErrorCategory::kCorruption);
    EXPECT_NE(parsed.error().message().find(key), std::string::npos);
  }
  nlohmann::json mistyped = CodeRecord().ToJson();
  mistyped["exit_code"] = "3";
  EXPECT_FALSE(ExitRecord::FromJson(mistyped).ok());
  nlohmann::json out_of_range = CodeRecord().ToJson();
  out_of_range["child_pid"] = int64_t{1} << 40;
  EXPECT_FALSE(ExitRecord::FromJson(out_of_range).ok());
  EXPECT_FALSE(ExitRecord::FromJson(nlohmann::json::array()).ok());
}

TEST(ExitRecordTest, FromJsonRequiresExactlyOneOfCodeAndSignal) {
  nlohmann::json neither = CodeRecord().ToJson();
  neither["exit_code"] = nullptr;
  nlohmann::json both = CodeRecord().ToJson();
  both["signal"] = 9;
  for (const nlohmann::json& json : {neither, both}) {
    auto parsed = ExitRecord::FromJson(json);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message().find("exactly one"), std::string::npos);
  }
}

TEST(ExitRecordTest, ChildRecordRoundTripsAFullRangeStartTime) {
  auto parsed = ChildRecord::FromJson(SampleChild().ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, SampleChild());
}

TEST(ExitRecordTest, ChildRecordOfASelfRestartRoundTripsItsGenerationAndPreviousExit) {
  ChildRecord record = SampleChild();
  record.generation = 3;
  record.previous_exit = PreviousExit{
      .child_pid = 41, .signal = 9, .core_dumped = false, .started_ms = 100, .ended_ms = 250};
  const nlohmann::json json = record.ToJson();
  EXPECT_EQ(json["generation"], 3);
  EXPECT_EQ(json["previous_exit"]["signal"], 9);
  EXPECT_TRUE(json["previous_exit"]["exit_code"].is_null());
  auto parsed = ChildRecord::FromJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, record);
  EXPECT_EQ(DescribeExit(*parsed->previous_exit), "killed by signal 9 (SIGKILL)");
}

TEST(ExitRecordTest, AChildRecordFromAnOlderShimReadsAsGenerationZero) {
  nlohmann::json json = SampleChild().ToJson();
  json.erase("generation");
  auto parsed = ChildRecord::FromJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->generation, 0u);
  EXPECT_FALSE(parsed->previous_exit.has_value());
}

TEST(ExitRecordTest, ABadPreviousExitIsCorruption) {
  nlohmann::json json = SampleChild().ToJson();
  json["previous_exit"] = {{"child_pid", 41},      {"exit_code", 1},  {"signal", 9},
                           {"core_dumped", false}, {"started_ms", 1}, {"ended_ms", 2}};
  auto parsed = ChildRecord::FromJson(json);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().category(), ErrorCategory::kCorruption);
  EXPECT_NE(parsed.error().message().find("previous_exit"), std::string::npos)
      << parsed.error().message();
}

TEST(ExitRecordTest, ChildRecordRejectsANegativeStartTime) {
  nlohmann::json json = SampleChild().ToJson();
  json["child_start_time"] = -1;
  auto parsed = ChildRecord::FromJson(json);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().category(), ErrorCategory::kCorruption);
}

TEST(ExitRecordTest, DescribesCodesSignalsAndCoreDumps) {
  EXPECT_EQ(DescribeExit(CodeRecord()), "exited with code 3");
  ExitRecord killed = CodeRecord();
  killed.exit_code.reset();
  killed.signal = SIGKILL;
  EXPECT_EQ(DescribeExit(killed), "killed by signal 9 (SIGKILL)");
  killed.signal = SIGSEGV;
  killed.core_dumped = true;
  EXPECT_EQ(DescribeExit(killed), "killed by signal 11 (SIGSEGV), core dumped");
  EXPECT_EQ(SignalName(200), "signal 200");
}

TEST_F(ExitRecordFileTest, WrittenRecordsReadBack) {
  const std::string exit_path = ExitRecordPath(dir_.path(), "api");
  const std::string child_path = ChildRecordPath(dir_.path(), "api");
  ASSERT_TRUE(WriteExitRecord(fs_, exit_path, CodeRecord()).ok());
  ASSERT_TRUE(WriteChildRecord(fs_, child_path, SampleChild()).ok());
  EXPECT_EQ(*ReadExitRecord(fs_, exit_path), CodeRecord());
  EXPECT_EQ(*ReadChildRecord(fs_, child_path), SampleChild());
}

TEST_F(ExitRecordFileTest, AbsentRecordsAreNotFound) {
  auto exit_record = ReadExitRecord(fs_, ExitRecordPath(dir_.path(), "api"));
  auto child_record = ReadChildRecord(fs_, ChildRecordPath(dir_.path(), "api"));
  ASSERT_FALSE(exit_record.ok());
  ASSERT_FALSE(child_record.ok());
  EXPECT_EQ(exit_record.error().category(), ErrorCategory::kNotFound);
  EXPECT_EQ(child_record.error().category(), ErrorCategory::kNotFound);
}

TEST_F(ExitRecordFileTest, DamagedBytesAreCorruption) {
  const std::string path = ExitRecordPath(dir_.path(), "api");
  ASSERT_TRUE(WriteExitRecord(fs_, path, CodeRecord()).ok());
  std::string bytes = *fs_.ReadFile(path);
  bytes[bytes.size() - 5] ^= 0x20;
  ASSERT_TRUE(WriteFileAtomically(fs_, path, bytes).ok());
  auto read = ReadExitRecord(fs_, path);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().category(), ErrorCategory::kCorruption);
}

TEST_F(ExitRecordFileTest, ValidChecksumOverBadJsonIsCorruption) {
  const std::string exit_path = ExitRecordPath(dir_.path(), "api");
  const std::string child_path = ChildRecordPath(dir_.path(), "api");
  ASSERT_TRUE(WriteChecksummedFile(fs_, exit_path, "{not json").ok());
  ASSERT_TRUE(WriteChecksummedFile(fs_, child_path, R"({"name": "api"})").ok());
  auto exit_record = ReadExitRecord(fs_, exit_path);
  auto child_record = ReadChildRecord(fs_, child_path);
  ASSERT_FALSE(exit_record.ok());
  ASSERT_FALSE(child_record.ok());
  EXPECT_EQ(exit_record.error().category(), ErrorCategory::kCorruption);
  EXPECT_EQ(child_record.error().category(), ErrorCategory::kCorruption);
  EXPECT_NE(child_record.error().message().find(child_path), std::string::npos);
}

TEST_F(ExitRecordFileTest, FailedSyncReportsTheErrorAndLeavesNoRecord) {
  testing::FaultFileSystem faulty(fs_);
  faulty.set_fail_sync(true);
  const std::string path = ExitRecordPath(dir_.path(), "api");
  EXPECT_FALSE(WriteExitRecord(faulty, path, CodeRecord()).ok());
  EXPECT_FALSE(fs_.Exists(path));
}

// The child record names a live process, which a power loss ends too: it is replaced
// atomically but never fsynced (two fsyncs fewer per start), so sync errors cannot reach it.
TEST_F(ExitRecordFileTest, ChildRecordIsWrittenAtomicallyWithoutAnySync) {
  testing::FaultFileSystem faulty(fs_);
  faulty.set_fail_sync(true);
  const std::string path = ChildRecordPath(dir_.path(), "api");
  ASSERT_TRUE(WriteChildRecord(faulty, path, SampleChild()).ok());
  EXPECT_EQ(faulty.sync_calls(), 0);
  EXPECT_EQ(*ReadChildRecord(fs_, path), SampleChild());
}

// A service's exit record (`--exit-record atomic`): replaced atomically, never fsynced, so a
// failing fsync cannot reach it; a job's (the default) still fails when the fsync fails.
TEST_F(ExitRecordFileTest, AtomicOnlyExitRecordIsWrittenWithoutAnySync) {
  testing::FaultFileSystem faulty(fs_);
  faulty.set_fail_sync(true);
  const std::string path = ExitRecordPath(dir_.path(), "api");
  ASSERT_TRUE(WriteExitRecord(faulty, path, CodeRecord(), FileDurability::kAtomicOnly).ok());
  EXPECT_EQ(faulty.sync_calls(), 0);
  EXPECT_EQ(*ReadExitRecord(fs_, path), CodeRecord());
  EXPECT_FALSE(WriteExitRecord(faulty, path, CodeRecord()).ok());
  EXPECT_GT(faulty.sync_calls(), 0);
}

}  // namespace
}  // namespace rebound::supervise
