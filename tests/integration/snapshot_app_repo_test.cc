// Snapshots committed into an application's own repository ([snapshots] document_path) with
// the real daemon, the real CLI and the git CLI checking what was written.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "daemon_harness.h"
#include "store/store.h"

namespace rebound::testing {
namespace {

std::string Shell(const std::string& command) {
  std::string output;
  if (FILE* pipe = ::popen((command + " 2>&1").c_str(), "r")) {
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) {
      output.append(buffer, n);
    }
    ::pclose(pipe);
  }
  return output;
}

class AppRepoSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = h_.dir().Path("app");
    Shell("git init -q -b main '" + app_ + "'");
    std::ofstream(app_ + "/README") << "the app\n";
    Shell(Git("add README") + " && " + Git("commit -q -m initial"));
    h_.WriteConfig("[services.api]\ncommand = [\"sleep\", \"1000\"]\n\n[snapshots]\npath = \"" +
                   app_ + "\"\ndocument_path = \"config/recovery.json\"\n");
  }
  std::string Git(const std::string& args) const {
    return "git -c user.name=dev -c user.email=dev@example.com -C '" + app_ + "' " + args;
  }
  void PutState(nlohmann::json document) {
    auto store = store::Store::Open(h_.dir().Path("data"));
    ASSERT_TRUE(store.ok()) << store.error().message();
    ASSERT_TRUE((*store)->states().Put("llm", std::move(document), std::nullopt).get().ok());
  }
  nlohmann::json State() {
    auto store = store::Store::Open(h_.dir().Path("data"));
    return (*store)->states().Get("llm")->document;
  }

  DaemonHarness h_;
  std::string app_;
};

TEST_F(AppRepoSnapshotTest, OfflineCaptureListTagAndRecoverTouchOnlyTheDocument) {
  ASSERT_EQ(Shell("mkdir -p '" + h_.dir().Path("data") + "'"), "");
  PutState({{"model", "gpt-3"}});
  CliResult first = RunCli(h_, "capture -m 'known good'");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::string good = Shell(Git("rev-parse HEAD"));
  std::ofstream(app_ + "/README") << "staged by the user\n";
  Shell(Git("add README"));
  PutState({{"model", "gpt-4"}});
  ASSERT_EQ(RunCli(h_, "capture -m newer").exit_code, 0);

  EXPECT_EQ(Shell(Git("show --name-only --format= HEAD")), "config/recovery.json\n");
  EXPECT_EQ(Shell(Git("status --porcelain")), "M  README\n");
  EXPECT_NE(Shell("cat '" + app_ + "/config/recovery.json'").find("gpt-4"), std::string::npos);
  ASSERT_EQ(RunCli(h_, "snapshots tag " + good.substr(0, 10) + " good").exit_code, 0);
  CliResult recovered = RunCli(h_, "recover --tag good");
  ASSERT_EQ(recovered.exit_code, 0) << recovered.output;
  EXPECT_EQ(State()["model"], "gpt-3");
  auto listed = nlohmann::json::parse(RunCli(h_, "--json snapshots").output);
  EXPECT_EQ(listed["snapshots"].size(), 3u);  // two captures and the one before recovering
  EXPECT_EQ(Shell(Git("log --format=%s")),
            "before recovering to " + good.substr(0, 12) + "\nnewer\nknown good\ninitial\n");
  EXPECT_EQ(Shell(Git("status --porcelain")), "M  README\n");  // still staged, not committed
  EXPECT_EQ(Shell(Git("fsck --strict") + " >/dev/null && echo ok"), "ok\n");
  CliResult verified = RunCli(h_, "verify");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  CliResult pruned = RunCli(h_, "snapshots prune --keep 1");
  EXPECT_NE(pruned.exit_code, 0);
  EXPECT_NE(pruned.output.find("never rewrites"), std::string::npos) << pruned.output;
  EXPECT_EQ(Shell(Git("rev-list --count HEAD")), "4\n");
}

TEST_F(AppRepoSnapshotTest, TheDaemonCommitsIntoTheApplicationsBranch) {
  h_.Start();
  auto [status, taken] = h_.PostJson("/v1/snapshots", R"({"message": "from the daemon"})");
  ASSERT_EQ(status, 201) << taken.dump() << h_.DaemonLog();
  EXPECT_EQ(Shell(Git("rev-parse main")), taken["commit"].get<std::string>() + "\n");
  EXPECT_EQ(Shell(Git("status --porcelain")), "");
  // Edited by hand: a conflict, the edit kept.
  std::ofstream(app_ + "/config/recovery.json", std::ios::app) << " ";
  auto [conflict, changed] = h_.PostJson("/v1/snapshots", R"({"message": "over an edit"})");
  EXPECT_EQ(conflict, 409) << changed.dump();
  EXPECT_EQ(changed["error"]["code"], "conflict");
  EXPECT_NE(changed["error"]["message"].get<std::string>().find("has local changes"),
            std::string::npos)
      << changed.dump();
  EXPECT_EQ(Shell(Git("status --porcelain")), " M config/recovery.json\n");
  Shell(Git("checkout -q -- config/recovery.json"));
  Shell(Git("checkout -q --detach"));
  auto [refused, error] = h_.PostJson("/v1/snapshots", R"({"message": "detached"})");
  EXPECT_EQ(refused, 422);
  EXPECT_EQ(error["error"]["code"], "validation");
  EXPECT_NE(error["error"]["message"].get<std::string>().find("detached"), std::string::npos)
      << error.dump();
}

TEST_F(AppRepoSnapshotTest, RecoverFromDoesNotCloneIntoAMissingApplicationRepository) {
  std::filesystem::remove_all(app_);
  CliResult served = RunCli(h_, "serve --recover-from file://" + h_.dir().Path("nowhere.git"));
  EXPECT_EQ(served.exit_code, 1) << served.output;
  EXPECT_NE(served.output.find("git clone URL " + app_), std::string::npos) << served.output;
  EXPECT_FALSE(std::filesystem::exists(app_));
}

TEST_F(AppRepoSnapshotTest, RecoverFromStartsOnAnApplicationRepositoryWithoutSnapshots) {
  h_.Start("", {"--recover-from", "file://" + h_.dir().Path("nowhere.git")});
  const std::string log = h_.DaemonLog();
  EXPECT_NE(log.find("the snapshots live in the application's repository " + app_), std::string::npos)
      << log;
  EXPECT_EQ(log.find("already holds a snapshot history"), std::string::npos) << log;
  EXPECT_EQ(Shell(Git("rev-list --count HEAD")), "1\n");  // nothing cloned, nothing committed
}

}  // namespace
}  // namespace rebound::testing
