// The victim of store_crash_test: appends journal events and runs durable operations from
// several threads until it is SIGKILLed, recording every acknowledgement in an fsynced file.
//
//   store_crash_helper DATA_DIR ACK_FILE EFFECTS_FILE GENERATION work|resume
//
// ACK_FILE lines:     "event SEQ" once Append's future resolved (the event is durable);
//                     "op ID" once Run returned a record in state success.
// EFFECTS_FILE lines: "run ID GENERATION" each time an operation's function starts.
// At start it resumes unfinished operations, then re-submits operations acknowledged by
// earlier generations (which must not run again). "resume" mode exits after that.

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace {

using namespace rebound;
using nlohmann::json;

class SyncedLog {
 public:
  explicit SyncedLog(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {}
  void Write(const std::string& line) {
    std::lock_guard lock(mutex_);
    const std::string text = line + "\n";
    if (::write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::fdatasync(fd_) != 0) {
      std::perror("ack write");
      std::_Exit(3);
    }
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
  std::mutex mutex_;
};

std::vector<std::string> AckedOperations(const std::string& ack_path) {
  std::vector<std::string> ids;
  std::ifstream in(ack_path);
  std::string kind, id;
  while (in >> kind >> id) {
    if (kind == "op") {
      ids.push_back(id);
    }
  }
  return ids;
}

void Work(store::Store& store, SyncedLog& acks, int generation, int thread) {
  for (int i = 0;; ++i) {
    auto seq = store.journal()
                   .Append({.category = "chaos",
                            .kind = "tick",
                            .subject = "t" + std::to_string(thread),
                            .data = {{"generation", generation}, {"i", i}}})
                   .get();
    if (seq.ok()) {
      acks.Write("event " + std::to_string(*seq));
    }
    if (i % 4 == 0) {
      const std::string id = "g" + std::to_string(generation) + "-t" + std::to_string(thread) +
                             "-i" + std::to_string(i);
      auto record = store.operations().Run("effect", {{"i", i}}, {.id = id});
      if (record.ok() && record->state == store::OperationState::kSuccess) {
        acks.Write("op " + id);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s DATA_DIR ACK_FILE EFFECTS_FILE GENERATION work|resume\n",
                 argv[0]);
    return 2;
  }
  const std::string data_dir = argv[1], ack_path = argv[2], effects_path = argv[3];
  const int generation = std::stoi(argv[4]);
  const bool resume_only = std::string(argv[5]) == "resume";
  SyncedLog acks(ack_path), effects(effects_path);
  if (!acks.ok() || !effects.ok()) {
    std::perror("open logs");
    return 2;
  }
  auto opened = store::Store::Open(data_dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "open store: %s\n", opened.error().ToString().c_str());
    return 1;
  }
  store::Store& store = **opened;
  auto policy = *resilience::RetryPolicy::Create(
      {.max_attempts = 5, .backoff = {.initial = std::chrono::milliseconds(1)}});
  Status registered = store.operations().Register(
      "effect",
      [&](const json& args, const store::OperationContext& ctx) -> Result<json> {
        effects.Write("run " + ctx.id + " " + std::to_string(generation));
        if (ctx.attempt == 1 && args["i"].get<int>() % 3 == 0) {
          return NetworkError("injected first-attempt failure");
        }
        return json{{"done", ctx.id}};
      },
      policy);
  if (!registered.ok()) {
    return 1;
  }
  auto resumed = store.operations().Resume();
  if (!resumed.ok()) {
    std::fprintf(stderr, "resume: %s\n", resumed.error().ToString().c_str());
    return 1;
  }
  // Acknowledged operations submitted again must return their recorded outcome.
  const std::vector<std::string> acked = AckedOperations(ack_path);
  for (size_t i = acked.size() > 5 ? acked.size() - 5 : 0; i < acked.size(); ++i) {
    auto again = store.operations().Run("effect", {{"i", 1}}, {.id = acked[i]});
    if (!again.ok() || again->state != store::OperationState::kSuccess) {
      std::fprintf(stderr, "resubmit of %s did not return success\n", acked[i].c_str());
      return 1;
    }
  }
  if (resume_only) {
    return 0;
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back(Work, std::ref(store), std::ref(acks), generation, t);
  }
  for (auto& thread : threads) {
    thread.join();  // never: the test kills us
  }
  return 0;
}
