#include "cli/check_config.h"

#include <gtest/gtest.h>

#include <sstream>

#include "base/atomic_file.h"
#include "testing/temp_dir.h"

namespace rebound::cli {
namespace {

class CheckConfigTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, std::string_view text) {
    const std::string path = dir_.Path(name);
    EXPECT_TRUE(WriteFileAtomically(DefaultFileSystem(), path, text).ok());
    return path;
  }

  int Run(const std::string& path, const std::map<std::string, std::string>& env = {}) {
    return RunCheckConfig(DefaultFileSystem(), path, env, out_, err_);
  }

  testing::TempDir dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CheckConfigTest, ValidFilePrintsServiceCountAndStartOrder) {
  const std::string path = Write("rebound.toml", R"([services.worker]
command = ["./worker"]
depends_on = { api = "started" }
[services.api]
command = ["./api"]
depends_on = { db = "healthy" }
[services.db]
command = ["db"]
health = { type = "tcp", address = "127.0.0.1:6390" }
)");
  EXPECT_EQ(Run(path), 0);
  EXPECT_EQ(out_.str(), path + ": ok: 3 services, start order: db, api, worker\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CheckConfigTest, OneServiceIsSingular) {
  const std::string path = Write("one.toml", "[services.db]\ncommand = [\"db\"]\n");
  EXPECT_EQ(Run(path), 0);
  EXPECT_EQ(out_.str(), path + ": ok: 1 service, start order: db\n");
}

// Valid, but the default shared job runner cannot be used there: said, as the daemon will.
TEST_F(CheckConfigTest, ADataDirTooLongForTheJobRunnerIsValidWithAWarning) {
  const std::string data_dir = "/srv/" + std::string(100, 'd');
  const std::string path = Write("long.toml", "[daemon]\ndata_dir = \"" + data_dir +
                                                  "\"\n[services.db]\ncommand = [\"db\"]\n");
  EXPECT_EQ(Run(path), 0);
  EXPECT_EQ(out_.str(), path + ": ok: 1 service, start order: db\n");
  EXPECT_NE(err_.str().find(path + ": warning: jobs: the job runner's socket " + data_dir +
                            "/run/job:runner.sock would be 125 bytes"),
            std::string::npos)
      << err_.str();
}

TEST_F(CheckConfigTest, InvalidFilePrintsTheErrorAndReturnsOne) {
  const std::string path = Write("bad.toml", "[services.api]\ncomand = [\"./api\"]\n");
  EXPECT_EQ(Run(path), 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            path + ":2: services.api: unknown key \"comand\"; did you mean \"command\"?\n");
}

TEST_F(CheckConfigTest, BadEnvironmentOverrideIsInvalid) {
  const std::string path = Write("rebound.toml", "[services.db]\ncommand = [\"db\"]\n");
  EXPECT_EQ(Run(path, {{"REBOUND_LOG_LEVEL", "chatty"}}), 1);
  EXPECT_EQ(err_.str(),
            "environment variable REBOUND_LOG_LEVEL (overrides daemon.log_level): unknown value "
            "\"chatty\"; expected one of: trace, debug, info, warn, error\n");
}

TEST_F(CheckConfigTest, MissingFileReturnsTwo) {
  const std::string path = dir_.Path("absent.toml");
  EXPECT_EQ(Run(path), 2);
  EXPECT_EQ(err_.str(), "reading config file: open " + path + ": No such file or directory\n");
}

TEST_F(CheckConfigTest, DirectoryReturnsTwo) {
  EXPECT_EQ(Run(dir_.path()), 2);
  EXPECT_EQ(err_.str(), "reading config file: read " + dir_.path() + ": Is a directory\n");
}

}  // namespace
}  // namespace rebound::cli
