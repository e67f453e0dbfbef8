#pragma once

// The [queues.NAME] tables of the config file (durable job queues, docs/jobs.md):
//
//   [queues.mail]
//   concurrency = 2        # jobs of this queue running at once (default 4)
//   rate = "10/s"          # optional: at most this many starts per second, minute or hour
//
// A "default" queue (concurrency 4) exists unless the file configures one. And [jobs]:
//
//   [jobs]
//   retention = "7d"       # ended jobs and their logs are deleted after this; "0" keeps them
//   runner = "shared"      # the default: one long-lived job runner; "per-job": a shim each
//
// Internal to engine/config.cc; errors name the file, line and key, and how to fix it.
// Stateless.

#include <toml++/toml.h>

#include <vector>

#include "base/error.h"
#include "engine/config_reader.h"
#include "jobs/job_queue.h"

namespace rebound::engine {

// Reads the [queues] table `entry` into `queues` (in file order).
Status ReadQueues(const ConfigReader& reader, const ConfigEntry& entry,
                  std::vector<jobs::QueueSpec>& queues);

// Reads the [jobs] table `entry`: retention, and runner ("shared" → runner_shared true,
// "per-job" → false).
Status ReadJobSettings(const ConfigReader& reader, const ConfigEntry& entry, Duration& retention,
                       bool& runner_shared);

// "10/s", "100/m", "3600/h" -> starts per second; nullopt when malformed or not positive.
std::optional<double> ParseRate(std::string_view text);

}  // namespace rebound::engine
