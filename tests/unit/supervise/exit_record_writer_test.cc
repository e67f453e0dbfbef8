#include "supervise/exit_record_writer.h"

#include <gtest/gtest.h>
#include <poll.h>

#include "base/file_system.h"
#include "testing/temp_dir.h"

namespace rebound::supervise {
namespace {

ExitRecord Record(const std::string& name, int code) {
  return ExitRecord{.name = name,
                    .shim_pid = 40,
                    .child_pid = 41,
                    .exit_code = code,
                    .started_ms = 1000,
                    .ended_ms = 2000};
}

TEST(ExitRecordWriterTest, WritesEachRecordThenReportsItAndSignalsItsFd) {
  rebound::testing::TempDir dir;
  ExitRecordWriter writer(dir.path());
  ASSERT_GE(writer.ready_fd(), 0);
  for (int i = 0; i < 20; ++i) {
    writer.Submit(Record("job:" + std::to_string(i), i));
  }
  writer.WaitUntilIdle();
  pollfd ready{writer.ready_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&ready, 1, 0), 1) << "the loop is woken once records are on disk";
  std::vector<ExitRecord> written = writer.TakeWritten();
  ASSERT_EQ(written.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    auto read = ReadExitRecord(DefaultFileSystem(), ExitRecordPath(dir.path(), written[i].name));
    ASSERT_TRUE(read.ok()) << read.error().ToString();
    EXPECT_EQ(*read, written[i]);
  }
  EXPECT_TRUE(writer.TakeWritten().empty());
  EXPECT_EQ(::poll(&ready, 1, 0), 0) << "nothing more to take";
  auto files = DefaultFileSystem().ListDir(dir.path());
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 20u) << "no temp file is left behind";
}

TEST(ExitRecordWriterTest, ARecordThatCannotBeWrittenIsStillReported) {
  rebound::testing::TempDir dir;
  ExitRecordWriter writer(dir.Path("missing"));  // no such directory
  writer.Submit(Record("job:1", 0));
  writer.WaitUntilIdle();
  EXPECT_EQ(writer.TakeWritten().size(), 1u);
  EXPECT_FALSE(DefaultFileSystem().Exists(ExitRecordPath(dir.Path("missing"), "job:1")));
}

TEST(ExitRecordWriterTest, DestructionWritesWhatIsQueued) {
  rebound::testing::TempDir dir;
  {
    ExitRecordWriter writer(dir.path());
    writer.Submit(Record("job:9", 3));
  }
  auto read = ReadExitRecord(DefaultFileSystem(), ExitRecordPath(dir.path(), "job:9"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->exit_code, 3);
}

}  // namespace
}  // namespace rebound::supervise
