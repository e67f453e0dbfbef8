// Crash test of the durable store: a helper process is SIGKILLed at random moments while it
// appends events and runs durable operations from four threads, 200 times. After every
// kill the data directory must hold every acknowledged write, no operation may run again
// after its success was recorded, and a final resume must finish every operation.

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "store/store.h"
#include "testing/temp_dir.h"

extern char** environ;

namespace rebound::store {
namespace {

constexpr int kKills = 200;

pid_t Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

struct Acks {
  std::set<int64_t> events;
  std::map<std::string, int> op_generation;  // id -> generation whose run acknowledged it
};

Acks ReadAcks(const std::string& ack_path, const std::string& generations_path) {
  // The ack file has no generation; the test records where each generation's acks begin.
  std::vector<std::pair<std::streamoff, int>> starts;
  {
    std::ifstream in(generations_path);
    std::streamoff offset;
    int generation;
    while (in >> offset >> generation) {
      starts.emplace_back(offset, generation);
    }
  }
  Acks acks;
  std::ifstream in(ack_path);
  std::string kind, value;
  while (true) {
    const std::streamoff at = in.tellg();
    if (!(in >> kind >> value)) {
      break;
    }
    if (kind == "event") {
      acks.events.insert(std::stoll(value));
    } else if (kind == "op") {
      int generation = 0;
      for (const auto& [offset, g] : starts) {
        if (offset <= at) {
          generation = g;
        }
      }
      acks.op_generation.emplace(value, generation);
    }
  }
  return acks;
}

std::streamoff FileSize(const std::string& path) {
  std::ifstream in(path, std::ios::ate | std::ios::binary);
  return in ? static_cast<std::streamoff>(in.tellg()) : 0;
}

void VerifyAcknowledgedWritesSurvived(const std::string& data_dir, const Acks& acks,
                                      const std::string& effects_path) {
  auto database = Database::Open(data_dir);
  ASSERT_TRUE(database.ok()) << database.error().ToString();
  ASSERT_TRUE((*database)->IntegrityCheck().ok());
  auto stored = (*database)->Read([](SqliteConnection& db) -> Result<std::set<int64_t>> {
    auto stmt = db.Prepare("SELECT seq FROM events");
    std::set<int64_t> seqs;
    while (*stmt->Step()) {
      seqs.insert(stmt->ColumnInt(0));
    }
    return seqs;
  });
  for (int64_t seq : acks.events) {
    ASSERT_TRUE(stored->contains(seq)) << "acknowledged event " << seq << " was lost";
  }
  auto states =
      (*database)->Read([](SqliteConnection& db) -> Result<std::map<std::string, std::string>> {
        auto stmt = db.Prepare("SELECT id, state FROM operations");
        std::map<std::string, std::string> out;
        while (*stmt->Step()) {
          out[stmt->ColumnText(0)] = stmt->ColumnText(1);
        }
        return out;
      });
  for (const auto& [id, generation] : acks.op_generation) {
    ASSERT_EQ((*states)[id], "success") << "acknowledged operation " << id;
  }
  // No operation ran in a generation after the one that acknowledged its success.
  std::ifstream effects(effects_path);
  std::string run, id;
  int generation;
  while (effects >> run >> id >> generation) {
    auto acked = acks.op_generation.find(id);
    if (acked != acks.op_generation.end()) {
      ASSERT_LE(generation, acked->second) << id << " ran again after its success was recorded";
    }
  }
}

TEST(StoreCrashTest, KillNineAtRandomLosesNothingAcknowledged) {
  rebound::testing::TempDir dir;
  const std::string helper = STORE_CRASH_HELPER;
  const std::string data = dir.Path("data"), acks = dir.Path("acks"), effects = dir.Path("effects"),
                    generations = dir.Path("generations");
  std::mt19937 random(20261125);
  std::uniform_int_distribution<int> run_ms(2, 60);
  for (int generation = 1; generation <= kKills; ++generation) {
    std::ofstream(generations, std::ios::app) << FileSize(acks) << " " << generation << "\n";
    const auto acked_before = FileSize(acks);
    const pid_t pid = Spawn({helper, data, acks, effects, std::to_string(generation), "work"});
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(random)));
    // On a loaded machine the helper may not have started working yet: give it until its
    // first acknowledgement (at most 2 s) so that every generation makes progress to kill.
    for (int waited = 0; FileSize(acks) == acked_before && waited < 200; ++waited) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    const int status = Wait(pid);
    // Killed, or (rarely) exited with an error that the assertions below explain.
    ASSERT_TRUE(WIFSIGNALED(status))
        << "helper exited with " << WEXITSTATUS(status) << " in generation " << generation;
    if (generation % 20 == 0) {
      VerifyAcknowledgedWritesSurvived(data, ReadAcks(acks, generations), effects);
    }
  }
  const Acks final_acks = ReadAcks(acks, generations);
  // Enough acknowledged work to make the kills mean something (an idle machine acks ~3000
  // events; one busy with compilers a third of that).
  EXPECT_GT(final_acks.events.size(), 300u);
  EXPECT_GT(final_acks.op_generation.size(), 30u);
  // A last run that only resumes: every operation must end in a terminal state.
  std::ofstream(generations, std::ios::app) << FileSize(acks) << " " << kKills + 1 << "\n";
  const int status =
      Wait(Spawn({helper, data, acks, effects, std::to_string(kKills + 1), "resume"}));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  VerifyAcknowledgedWritesSurvived(data, final_acks, effects);
  auto store = *Store::Open(data);
  for (auto state :
       {OperationState::kPending, OperationState::kInProgress, OperationState::kRecovering}) {
    EXPECT_TRUE(store->operations().List(state)->empty()) << OperationStateName(state);
  }
}

}  // namespace
}  // namespace rebound::store
