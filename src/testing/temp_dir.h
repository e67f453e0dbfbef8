#pragma once

// TempDir: a fresh directory under /tmp for one test, removed with everything in it.
//
//   TempDir dir;                       // /tmp/rebound-test-XXXXXX
//   std::string db = dir.Path("rebound.db");

#include <string>

namespace rebound::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace rebound::testing
