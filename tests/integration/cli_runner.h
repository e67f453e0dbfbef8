#pragma once

// Runs the real `rebound` CLI against a DaemonHarness's configuration, for integration tests
// whose target defines REBOUND_BINARY (the path of the built binary).
//
//   CliResult result = RunCli(harness, "capture -m 'before upgrade'");
//   EXPECT_EQ(result.exit_code, 0) << result.output;

#include <sys/wait.h>

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "daemon_harness.h"

#ifndef REBOUND_BINARY
#error "cli_runner.h needs REBOUND_BINARY, the path of the rebound binary"
#endif

namespace rebound::testing {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `rebound --config <harness config> ARGS`, bounded by 30 s.
inline CliResult RunCli(const DaemonHarness& h, const std::string& args) {
  const std::string command = "timeout 30 " + std::string(REBOUND_BINARY) + " --config '" +
                              h.dir().Path("rebound.toml") + "' " + args + " 2>&1";
  CliResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    result.output.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Starts `rounds` captures one after the other and SIGKILLs each at a random instant within
// its first 40 ms (seeded: the same instants every run), to test that a capture killed at any
// point leaves a whole repository.
inline void KillCapturesMidway(const DaemonHarness& h, int rounds, unsigned seed) {
  std::srand(seed);
  for (int round = 0; round < rounds; ++round) {
    const pid_t pid = SpawnProcess({REBOUND_BINARY, "--config", h.dir().Path("rebound.toml"),
                                    "capture", "-m", "round " + std::to_string(round)},
                                   h.dir().Path("kill.log"));
    std::this_thread::sleep_for(std::chrono::microseconds(std::rand() % 40000));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

}  // namespace rebound::testing
