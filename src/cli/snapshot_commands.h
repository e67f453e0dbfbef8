#pragma once

// The snapshot commands of the CLI (issue 7):
//
//   rebound capture -m MSG               (alias capture-state --message MSG)
//   rebound snapshots                    time, commit, size, tags, message; newest first
//   rebound snapshots tag ID NAME
//   rebound snapshots prune [--keep N]   keep the newest N (default [snapshots] keep) + tagged
//   rebound snapshots push               push to [snapshots] remote now
//   rebound snapshots status             how far the remote is behind
//   rebound recover [--commit ID | --tag NAME | --at TIME] [--dry-run]   (alias recover-state)
//   rebound verify                       database, recovery.json and git object checks
//   rebound repair [--from URL]          re-fetch missing/damaged git objects, then verify
//
// capture, snapshots (and its subcommands) and recover go through the daemon's API when a daemon
// holds the data directory's lock, and work directly on the data directory (store and repository
// opened here, the lock held meanwhile) when none does. verify always reads the files itself.
//
//   SnapshotCommandLine line;
//   AddSnapshotCommands(app, line);
//   app.parse(argc, argv);
//   if (auto code = RunSnapshotCommand(line, context, std::cout, std::cerr)) return *code;
//
// Exit codes: 0 success; 1 refused or failed (unknown snapshot, damage found by verify, a
// service that did not start); 2 usage error, unreadable config or daemon unreachable.

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "cli/client_options.h"

namespace rebound::cli {

struct SnapshotCommandLine {
  CLI::App* capture = nullptr;
  CLI::App* list = nullptr;
  CLI::App* tag = nullptr;
  CLI::App* prune = nullptr;
  CLI::App* push = nullptr;
  CLI::App* remote_status = nullptr;
  std::optional<int> keep;
  CLI::App* recover = nullptr;
  CLI::App* verify = nullptr;
  CLI::App* repair = nullptr;
  std::string repair_from;
  std::string message;
  std::string tag_commit;
  std::string tag_name;
  std::optional<std::string> commit;
  std::optional<std::string> tag_selector;
  std::optional<std::string> at;
  bool dry_run = false;
};

struct SnapshotCommandContext {
  std::string config_path;
  // Resolves where the daemon is and its token; called only when the API is used.
  std::function<ClientOptions()> resolve_client;
  bool json = false;
};

void AddSnapshotCommands(CLI::App& app, SnapshotCommandLine& line);

// nullopt when none of the snapshot commands was chosen.
std::optional<int> RunSnapshotCommand(const SnapshotCommandLine& line,
                                      const SnapshotCommandContext& context, std::ostream& out,
                                      std::ostream& err);

}  // namespace rebound::cli
