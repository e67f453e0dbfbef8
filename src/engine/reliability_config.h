#pragma once

// The self-healing part of a service's configuration: [services.NAME.health] (a probe),
// .recovery (what to do when it fails), .breaker (its circuit breaker) and .memory (the
// memory watchdog's limit). docs/configuration.md documents every key.
//
//   ServiceReliability defaults = BuiltinReliability();       // then [defaults], then:
//   REBOUND_RETURN_IF_ERROR(ApplyReliabilityEnvironment(env, defaults));  // RECOVERY_INTERVAL
//   REBOUND_RETURN_IF_ERROR(ApplyReliabilityEntry(reader, entry, "services.api.health",
//                                                 reliability));
//
// [defaults] may set recovery, breaker and memory; services inherit them field by field.
// The environment variables of seed 001 (RECOVERY_INTERVAL, MAX_RECOVERY_ATTEMPTS,
// RECOVERY_BACKOFF, HEALTH_CHECK_INTERVAL, HEALTH_HISTORY_SIZE) override the built-in
// defaults and [defaults]; what a service's own table sets wins over them.
// Stateless; thread-safe.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "engine/config_reader.h"
#include "health/memory_watchdog.h"
#include "health/probe_spec.h"
#include "resilience/auto_recovery.h"
#include "resilience/circuit_breaker.h"

namespace rebound::engine {

enum class RecoveryStep { kResetBreaker, kRestart, kExec, kRestoreModule };
// "reset_breaker", "restart", "exec", "restore_module"
std::string_view RecoveryStepName(RecoveryStep step);

struct RecoverySpec {
  bool automatic = true;  // key "auto": false leaves only manual triggers
  std::vector<RecoveryStep> actions = {RecoveryStep::kResetBreaker, RecoveryStep::kRestart};
  resilience::AutoRecoveryConfig controller = {};  // cooldown 60s, 3 attempts, x2 backoff
  std::vector<std::string> exec = {};              // the command of the exec action
  Duration exec_timeout = std::chrono::seconds(30);
  // The modules the restore_module action restores from the newest snapshot, in order.
  std::vector<std::string> restore_modules = {};
  // How long after its actions the service has to be healthy again for the attempt to
  // count as a success; 0: derived from its probe (start period + (threshold + 1) intervals).
  Duration verify_timeout = Duration::zero();
  std::string notify_url = {};  // receives a JSON POST when recovery needs a person
};

struct ServiceReliability {
  std::optional<health::ProbeSpec> health;  // none: running counts as healthy
  // What a [health] table starts from: HEALTH_CHECK_INTERVAL and HEALTH_HISTORY_SIZE apply.
  health::ProbeSpec probe_defaults;
  RecoverySpec recovery;
  resilience::CircuitBreakerConfig breaker;
  health::MemoryLimit memory;
};

// Whether two services' settings watch and recover them the same way (a reload keeps the
// probe, breaker and recovery state of a service whose settings did not change).
bool SameReliability(const ServiceReliability& a, const ServiceReliability& b);

ServiceReliability BuiltinReliability();
// Applies the seed-001 environment variables onto `defaults`; a validation Error names the
// variable and the fix.
Status ApplyReliabilityEnvironment(const std::map<std::string, std::string>& env,
                                   ServiceReliability& defaults);

// The keys of a service table this file reads, and those [defaults] may set.
const std::vector<std::string>& ReliabilityKeys();            // health, recovery, breaker, memory
const std::vector<std::string>& InheritableReliabilityKeys();  // recovery, breaker, memory

// Applies one of ReliabilityKeys() (entry.key) at `path` onto `reliability`.
Status ApplyReliabilityEntry(const ConfigReader& reader, const ConfigEntry& entry,
                             const std::string& path, ServiceReliability& reliability);

}  // namespace rebound::engine
