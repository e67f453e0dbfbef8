#include "supervise/child_table.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise/process_info.h"
#include "testing/temp_dir.h"

namespace rebound::supervise {
namespace {

ChildRecord Record(const std::string& name, int child_pid, uint64_t start_time,
                   int64_t started_ms = 1000, int runner_pid = ::getpid()) {
  return {.name = name,
          .shim_pid = runner_pid,
          .child_pid = child_pid,
          .child_start_time = start_time,
          .started_ms = started_ms};
}

// A record naming this test process itself: alive for as long as the test runs.
ChildRecord LiveRecord(const std::string& name, int runner_pid) {
  return Record(name, ::getpid(), ProcessStartTime(::getpid()).value(), 1000, runner_pid);
}

std::string Slot(const ChildRecord& record) { return EncodeChildSlot(record).value(); }

class ChildTableTest : public ::testing::Test {
 protected:
  std::string Bytes() { return fs_.ReadFile(path_).value_or(""); }
  void Write(const std::string& bytes) {
    ASSERT_TRUE(WriteFileAtomically(fs_, path_, bytes, 0644, FileDurability::kAtomicOnly).ok());
  }

  testing::TempDir dir_;
  FileSystem& fs_ = DefaultFileSystem();
  std::string path_ = ChildTablePath(dir_.path());
};

TEST(ChildTableSlotTest, RecordsRoundTripSlotBySlotSkippingFreeOnes) {
  const ChildRecord a = Record("job:1", 41, 7);
  const ChildRecord b = Record("job:22", 42, 8);
  const std::string bytes = Slot(a) + std::string(kChildTableSlotBytes, '\0') + Slot(b);
  EXPECT_EQ(Slot(a).size(), kChildTableSlotBytes);
  EXPECT_EQ(ParseChildTable(bytes), (std::vector<ChildRecord>{a, b}));
  EXPECT_EQ(ChildTablePath("/run/rebound"), "/run/rebound/job:runner.children");
}

TEST(ChildTableSlotTest, ARecordLongerThanASlotIsNotEncoded) {
  EXPECT_FALSE(EncodeChildSlot(Record(std::string(kChildTableSlotBytes, 'x'), 41, 7)));
}

// A slot read while it is written (or cut by a crash) fails its checksum: skipped, the others
// still read.
TEST(ChildTableSlotTest, ATornSlotIsSkipped) {
  std::string torn = Slot(Record("job:1", 41, 7));
  torn[torn.find("41")] = '9';
  const ChildRecord whole = Record("job:2", 42, 8);
  EXPECT_EQ(ParseChildTable(torn + Slot(whole)), std::vector<ChildRecord>{whole});
  EXPECT_TRUE(ParseChildTable(std::string(10, 'x')).empty());
}

TEST_F(ChildTableTest, PutWritesInPlaceAndClearFreesTheSlotForTheNext) {
  auto table = ChildTable::Open(path_);
  ASSERT_TRUE(table.ok()) << table.error().ToString();
  const ChildRecord a = Record("job:1", 41, 7);
  const ChildRecord b = Record("job:2", 42, 8);
  EXPECT_EQ(table->Put(a).value(), std::optional<size_t>(0));
  EXPECT_EQ(table->Put(b).value(), std::optional<size_t>(1));
  EXPECT_EQ(ParseChildTable(Bytes()), (std::vector<ChildRecord>{a, b}));
  table->Clear(0);
  EXPECT_EQ(Bytes().substr(0, kChildTableSlotBytes), std::string(kChildTableSlotBytes, '\0'));
  EXPECT_EQ(ParseChildTable(Bytes()), std::vector<ChildRecord>{b});
  const ChildRecord c = Record("job:3", 43, 9);
  EXPECT_EQ(table->Put(c).value(), std::optional<size_t>(0));
  EXPECT_EQ(Bytes().size(), 2 * kChildTableSlotBytes) << "the file grows only when all are taken";
  EXPECT_EQ(table->Put(Record(std::string(300, 'x'), 44, 1)).value(), std::nullopt);
}

// A runner that died left its jobs' records: one names a live process (an orphan no daemon has
// judged yet) and must stay; one names a process that is gone and its slot is reused.
TEST_F(ChildTableTest, OpenKeepsALiveOrphansSlotAndReusesADeadOnes) {
  const ChildRecord orphan = LiveRecord("job:1", /*runner_pid=*/1);
  const ChildRecord dead = Record("job:2", ::getpid(), /*start_time=*/1, 1000, 1);
  Write(Slot(orphan) + Slot(dead));
  auto table = ChildTable::Open(path_);
  ASSERT_TRUE(table.ok()) << table.error().ToString();
  const ChildRecord fresh = Record("job:3", 43, 9);
  EXPECT_EQ(table->Put(fresh).value(), std::optional<size_t>(1));
  EXPECT_EQ(ParseChildTable(Bytes()), (std::vector<ChildRecord>{orphan, fresh}));
}

// With every slot taken, an orphan that has ended since the table was opened gives its slot
// back instead of the file growing.
TEST_F(ChildTableTest, AnOrphanThatEndedLaterGivesItsSlotBack) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  Write(Slot(Record("job:1", child, ProcessStartTime(child).value(), 1000, /*runner_pid=*/1)));
  auto table = ChildTable::Open(path_);
  ASSERT_TRUE(table.ok()) << table.error().ToString();
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(table->Put(Record("job:2", 42, 8)).value(), std::optional<size_t>(0));
  EXPECT_EQ(Bytes().size(), kChildTableSlotBytes);
}

// A held orphan's slot of the name being started again is freed: the daemon judged that job.
TEST_F(ChildTableTest, StartingANameAgainFreesItsHeldOrphanSlot) {
  Write(Slot(LiveRecord("job:1", /*runner_pid=*/1)));
  auto table = ChildTable::Open(path_);
  ASSERT_TRUE(table.ok()) << table.error().ToString();
  const ChildRecord again = Record("job:1", 43, 9);
  EXPECT_EQ(table->Put(again).value(), std::optional<size_t>(0));
  EXPECT_EQ(ParseChildTable(Bytes()), std::vector<ChildRecord>{again});
}

TEST_F(ChildTableTest, FindLooksInTheTableThenInTheJobsOwnFile) {
  Write(Slot(Record("job:1", 41, 7, 1000)) + Slot(Record("job:1", 51, 7, 2000)));
  ASSERT_TRUE(WriteChildRecord(fs_, ChildRecordPath(dir_.path(), "job:2"), Record("job:2", 42, 8))
                  .ok());
  EXPECT_EQ(FindChildRecord(fs_, dir_.path(), "job:1").value().child_pid, 51) << "the latest";
  EXPECT_EQ(FindChildRecords(fs_, dir_.path(), "job:1").size(), 2u) << "every one, to kill";
  EXPECT_EQ(ParseChildTable(Bytes(), "job:2"), std::vector<ChildRecord>{});
  EXPECT_EQ(FindChildRecord(fs_, dir_.path(), "job:2").value().child_pid, 42);
  EXPECT_EQ(FindChildRecord(fs_, dir_.path(), "job:3").error().category(), ErrorCategory::kNotFound);
}

}  // namespace
}  // namespace rebound::supervise
