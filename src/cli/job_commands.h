#pragma once

// `rebound jobs ...`: the durable-job commands of the CLI (docs/jobs.md).
//
//   CLI::App app;
//   JobCommands jobs = AddJobCommands(app);
//   app.parse(argc, argv);
//   if (jobs.Selected()) return RunJobCommand(jobs, client_options, std::cout, std::cerr);
//
//   rebound jobs submit [--queue Q] [--priority N] [--retry STRATEGY] [--max-attempts N]
//                       [--retry-exit-code C]... [--fatal-exit-code C]... [--timeout 10m]
//                       [--key KEY] [--not-idempotent] -- COMMAND ARGS...
//   rebound jobs list [--state S] [--queue Q]
//   rebound jobs show ID | cancel ID | retry ID | logs ID [-f]
//
// Exit codes as for the other commands: 0 done, 1 refused by the daemon, 2 unreachable or
// bad arguments. Failures print one line starting "rebound: ".

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/client_options.h"

namespace rebound::cli {

struct JobCommandFlags {
  std::vector<std::string> command;
  std::optional<std::string> queue;
  std::optional<int> priority;
  std::optional<std::string> retry_strategy;
  std::optional<int> max_attempts;
  std::vector<int> retry_exit_codes;
  std::vector<int> fatal_exit_codes;
  std::optional<std::string> timeout;
  std::optional<std::string> key;
  bool not_idempotent = false;
  std::optional<std::string> state;
  std::string id;
  bool follow = false;
};

struct JobCommands {
  CLI::App* jobs = nullptr;
  CLI::App* submit = nullptr;
  CLI::App* list = nullptr;
  CLI::App* show = nullptr;
  CLI::App* logs = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* retry = nullptr;
  std::shared_ptr<JobCommandFlags> flags = std::make_shared<JobCommandFlags>();

  bool Selected() const { return jobs != nullptr && jobs->parsed(); }
};

JobCommands AddJobCommands(CLI::App& app);

// The POST /v1/jobs body the submit flags describe.
nlohmann::json SubmitBody(const JobCommandFlags& flags);

int RunJobCommand(const JobCommands& commands, const ClientOptions& options, std::ostream& out,
                  std::ostream& err);

}  // namespace rebound::cli
