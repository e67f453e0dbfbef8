#include "cli/check_config.h"

#include "engine/config.h"

namespace rebound::cli {
namespace {

constexpr int kValid = 0;
constexpr int kInvalid = 1;
constexpr int kUnreadable = 2;

std::string Join(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) {
    joined += (joined.empty() ? "" : ", ") + name;
  }
  return joined;
}

}  // namespace

int RunCheckConfig(FileSystem& fs, const std::string& path,
                   const std::map<std::string, std::string>& env, std::ostream& out,
                   std::ostream& err) {
  // Read here rather than through LoadConfig so that "cannot read" (2) is told apart from
  // "read and found wanting" (1) by where it failed, not by error category.
  auto text = fs.ReadFile(path);
  if (!text.ok()) {
    err << text.error().WithContext("reading config file").message() << "\n";
    return kUnreadable;
  }
  auto config = engine::ParseConfig(*text, path, env);
  if (!config.ok()) {
    err << config.error().message() << "\n";
    return kInvalid;
  }
  const size_t count = config->services.size();
  out << path << ": ok: " << count << (count == 1 ? " service" : " services")
      << ", start order: " << Join(config->start_order) << "\n";
  if (!config->job_runner_fallback.empty()) {  // valid, but not what the default promises
    err << path << ": warning: jobs: " << config->job_runner_fallback << "\n";
  }
  return kValid;
}

int RunCheckConfig(const std::string& path, std::ostream& out, std::ostream& err) {
  return RunCheckConfig(DefaultFileSystem(), path, engine::ProcessEnvironment(), out, err);
}

}  // namespace rebound::cli
