// Embedding rebound: a flaky "download" wrapped in a durable operation that survives kill -9.
//
//   build/examples/embed/download_demo /tmp/demo-data          # starts three downloads
//   kill -9 <pid>   (while it runs)
//   build/examples/embed/download_demo /tmp/demo-data          # resumes, skips finished ones
//
// Each download writes its file chunk by chunk (slowly, so there is time to kill it) and
// fails with a network error on its first attempt one time in two, which the retry policy
// absorbs. The operation id is the file name, so a file already downloaded is never fetched
// again: Run returns the recorded outcome.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "base/clock.h"
#include "resilience/retry_policy.h"
#include "store/store.h"

namespace {

using namespace rebound;
using nlohmann::json;
using namespace std::chrono_literals;

Result<json> Download(const std::string& downloads_dir, const json& args,
                      const store::OperationContext& ctx) {
  const std::string name = args.at("file").get<std::string>();
  std::printf("  downloading %s (attempt %d)\n", name.c_str(), ctx.attempt);
  std::fflush(stdout);
  const std::string partial = downloads_dir + "/" + name + ".part";
  std::ofstream out(partial, std::ios::trunc);
  for (int chunk = 0; chunk < 5; ++chunk) {
    std::this_thread::sleep_for(100ms);
    if (ctx.attempt == 1 && chunk == 2 && std::hash<std::string>{}(name) % 2 == 0) {
      return NetworkError("connection reset while fetching " + name);
    }
    out << "chunk " << chunk << " of " << name << "\n";
  }
  out.close();
  std::filesystem::rename(partial, downloads_dir + "/" + name);
  return json{{"path", downloads_dir + "/" + name}, {"bytes", 5 * 20}};
}

void Print(const store::OperationRecord& record) {
  std::printf("%-12s %-10s attempts=%d%s%s\n", record.id.c_str(),
              std::string(store::OperationStateName(record.state)).c_str(), record.attempt,
              record.error ? "  last error: " : "", record.error ? record.error->c_str() : "");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
    return 2;
  }
  const std::string data_dir = argv[1];
  const std::string downloads = data_dir + "/downloads";
  std::filesystem::create_directories(downloads);
  auto opened = store::Store::Open(data_dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "rebound store: %s\n", opened.error().ToString().c_str());
    return 1;
  }
  store::Store& store = **opened;
  auto policy = *resilience::RetryPolicy::Create(
      {.max_attempts = 4, .backoff = {.initial = 200ms, .factor = 2.0, .max = 2s}});
  Status registered = store.operations().Register(
      "download",
      [&](const json& args, const store::OperationContext& ctx) {
        return Download(downloads, args, ctx);
      },
      policy);
  if (!registered.ok()) {
    return 1;
  }
  std::printf("resuming interrupted downloads...\n");
  auto resumed = store.operations().Resume();
  if (!resumed.ok()) {
    std::fprintf(stderr, "resume: %s\n", resumed.error().ToString().c_str());
    return 1;
  }
  for (const auto& record : *resumed) {
    Print(record);
  }
  std::printf("downloading...\n");
  for (const char* file : {"model-1.bin", "model-2.bin", "model-3.bin"}) {
    auto record = store.operations().Run("download", {{"file", file}}, {.id = file});
    if (!record.ok()) {
      std::fprintf(stderr, "%s: %s\n", file, record.error().ToString().c_str());
      return 1;
    }
    Print(*record);
  }
  return 0;
}
