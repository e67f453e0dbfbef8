#pragma once

// Config: the daemon's configuration, read from a TOML file (docs/configuration.md), checked
// completely before anything starts.
//
//   auto config = LoadConfig("rebound.toml", ProcessEnvironment());
//   if (!config.ok()) {
//     std::cerr << config.error().message() << "\n";  // rebound.toml:12: services.api...
//     return 1;
//   }
//   for (const std::string& name : config->start_order) Start(*config->FindService(name));
//
// Every error is a validation Error whose message names the file, the line, the key path,
// what is wrong and how to fix it, e.g.
//   rebound.toml:12: services.api.restart: unknown value "sometimes"; expected one of: ...
// Only the first error (in file order) is reported. Relative paths (data_dir, cwd) resolve
// against the directory of the config file; the results hold absolute paths.
//
// Pure values; the functions are thread-safe. ProcessEnvironment() and the resolution of a
// relative config path against the current directory are the only OS calls
// (config_env_posix.cc).

#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/file_system.h"
#include "engine/reliability_config.h"
#include "jobs/job_queue.h"
#include "engine/snapshot_config.h"
#include "engine/sync_config.h"
#include "resilience/backoff.h"
#include "supervise/service_spec.h"

namespace rebound::engine {

// The service types live with the supervisor that runs them; config builds them.
using supervise::Cascade;
using supervise::CascadeName;
using supervise::DependencyCondition;
using supervise::DependencyConditionName;
using supervise::Intensity;
using supervise::LogRotation;
using supervise::RestartPolicy;
using supervise::RestartPolicyName;
using supervise::ServiceSpec;

// "SIGTERM" for SIGTERM, ... for the signals a config may name; "signal N" otherwise.
std::string StopSignalName(int signal);

// Exponential, 100ms doubling up to 30s, full jitter.
resilience::BackoffConfig DefaultServiceBackoff();

struct DaemonSettings {
  std::string data_dir;                   // absolute
  // Where the services' shims keep their child and exit records (docs/shim.md); absolute.
  // "" (unset): DATA_DIR/run. Jobs keep theirs in DATA_DIR/run whatever this says: their
  // exit records must be durable. See ServicesRunDir.
  std::string run_dir;
  std::string listen_host = "127.0.0.1";  // without brackets: "::1"
  int listen_port = 7300;
  std::string log_level = "info";  // trace | debug | info | warn | error
  // The dependency gate (seed 001's STARTUP_TIMEOUT and DEPENDENCY_CHECK_INTERVAL): how long
  // a service waits for its required dependencies, and how often the wait is reported.
  Duration startup_timeout = std::chrono::seconds(300);
  Duration dependency_check_interval = std::chrono::seconds(5);
  // The memory watchdog: act when available memory falls below memory_floor (0: off) or a
  // service exceeds its memory.max_rss; checked every memory_check_interval.
  int64_t memory_floor = 0;
  Duration memory_check_interval = std::chrono::seconds(5);
};

// The services' run directory: [daemon] run_dir, else DATA_DIR/run.
std::string ServicesRunDir(const DaemonSettings& daemon);

struct Config {
  std::string path;  // absolute
  DaemonSettings daemon;
  std::vector<ServiceSpec> services;     // in file order
  std::vector<std::string> start_order;  // dependencies first
  std::map<std::string, ServiceReliability> reliability;  // by service name, one per service
  std::vector<jobs::QueueSpec> queues;   // [queues.NAME], in file order (durable jobs)
  Duration job_retention = std::chrono::hours(24 * 7);  // [jobs] retention; 0: keep forever
  // [jobs] runner: "shared" (one long-lived job runner, the default) or "per-job" (a shim per
  // attempt: one job's failure of its supervisor cannot touch another's; docs/jobs.md).
  bool job_runner_shared = true;
  // Why the default shared runner is not used although runner was not set ("" when it is):
  // its socket's path would not fit a unix socket address. The daemon logs it at start.
  std::string job_runner_fallback;
  SnapshotSettings snapshots;            // [snapshots]
  SyncSettings sync;                     // [sync]
  std::string digest;                    // Xxh3Hex of the file's bytes: detects edits

  // nullptr if there is no such service.
  const ServiceSpec* FindService(std::string_view name) const;
  const ServiceReliability* FindReliability(const std::string& name) const;
};

// Parses and validates `text`. `source_path` is the file name used in messages, exactly as
// given, and locates relative paths. `env` supplies the REBOUND_DATA_DIR, REBOUND_LISTEN and
// REBOUND_LOG_LEVEL overrides of [daemon], STARTUP_TIMEOUT and DEPENDENCY_CHECK_INTERVAL
// (seconds), and the reliability defaults of reliability_config.h.
Result<Config> ParseConfig(std::string_view text, const std::string& source_path,
                           const std::map<std::string, std::string>& env);

// Reads `path` through `fs` and parses it. A file that cannot be read gives the file system's
// Error (not_found, permission, ...) with the path; everything else is a validation Error.
Result<Config> LoadConfig(FileSystem& fs, const std::string& path,
                          const std::map<std::string, std::string>& env);
// The same through DefaultFileSystem().
Result<Config> LoadConfig(const std::string& path, const std::map<std::string, std::string>& env);

// This process's environment variables.
std::map<std::string, std::string> ProcessEnvironment();

// The current working directory, for resolving a relative config path; an Error if it cannot
// be determined (e.g. it was deleted).
Result<std::string> CurrentDirectory();

}  // namespace rebound::engine
