#include "snapshot/integrity_report.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/manual_clock.h"
#include "git_test_util.h"
#include "snapshot/snapshotter.h"
#include "store/store.h"
#include "testing/temp_dir.h"

namespace rebound::snapshot {
namespace {

class IntegrityReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::Store::Open(dir_.path(), clock_));
    git_ = std::move(*GitStore::Open(dir_.Path("snapshots")));
    Snapshotter snapshots(*git_, store_->states(), DefaultFileSystem(), clock_,
                          {.document_path = dir_.Path("recovery.json")});
    ASSERT_TRUE(store_->states().Put("m", {{"a", 1}}, std::nullopt).get().ok());
    commit_ = snapshots.Capture({}, "offline", "one")->commit;
  }
  IntegrityReport Verify() {
    auto git = GitStore::Open(dir_.Path("snapshots"));  // a fresh handle: no cached objects
    return VerifyIntegrity({.database = &store_->database(),
                            .fs = &DefaultFileSystem(),
                            .document_path = dir_.Path("recovery.json"),
                            .git = git->get()});
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<GitStore> git_;
  std::string commit_;
};

TEST_F(IntegrityReportTest, AnIntactDataDirectoryPasses) {
  const IntegrityReport report = Verify();
  EXPECT_TRUE(report.ok()) << FormatIntegrityReport(report);
  ASSERT_EQ(report.checks.size(), 3u);
  EXPECT_EQ(report.checks[2].detail, "ok, 3 objects");
  EXPECT_NE(FormatIntegrityReport(report).find("all checks passed"), std::string::npos);
}

TEST_F(IntegrityReportTest, AFlippedByteInTheDocumentIsDetected) {
  {
    std::fstream file(dir_.Path("recovery.json"), std::ios::in | std::ios::out);
    file.seekp(60);
    file.put('#');
  }
  const IntegrityReport report = Verify();
  EXPECT_FALSE(report.ok());
  EXPECT_FALSE(report.checks[1].ok);
  EXPECT_TRUE(report.checks[0].ok);
  EXPECT_NE(FormatIntegrityReport(report).find("DAMAGED  recovery_document"), std::string::npos);
}

TEST_F(IntegrityReportTest, AFlippedByteInAGitObjectIsDetected) {
  git_.reset();
  FlipByteOfObject(dir_.Path("snapshots"), commit_);
  const IntegrityReport report = Verify();
  EXPECT_FALSE(report.ok());
  EXPECT_FALSE(report.checks[2].ok);
  EXPECT_NE(report.checks[2].detail.find(commit_), std::string::npos) << report.checks[2].detail;
  EXPECT_FALSE(IntegrityReportToJson(report)["ok"].get<bool>());
}

TEST_F(IntegrityReportTest, MissingPartsPassAsAbsent) {
  const IntegrityReport report = VerifyIntegrity({.database = &store_->database(),
                                                  .fs = &DefaultFileSystem(),
                                                  .document_path = dir_.Path("none.json"),
                                                  .git = nullptr});
  EXPECT_TRUE(report.ok());
  EXPECT_NE(report.checks[1].detail.find("absent"), std::string::npos);
}

}  // namespace
}  // namespace rebound::snapshot
