#pragma once

// The [defaults] and [services.NAME] tables of the config file, read into ServiceSpec.
//
//   ServiceSpec defaults;                                  // built-in defaults
//   REBOUND_RETURN_IF_ERROR(ApplyServiceSettings(reader, *defaults_table, "defaults", defaults));
//   auto api = ReadService(reader, entry, {.defaults = defaults, .service_names = names,
//                                          .base_dir = "/etc/rebound"});
//
// A service starts from `defaults` and overrides only the keys it sets; within backoff,
// intensity and log, each field is inherited on its own. Internal to engine/config.cc.
// Stateless; thread-safe. `reader` and the TOML nodes are borrowed for the call.

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "engine/config.h"
#include "engine/config_reader.h"
#include "engine/reliability_config.h"

namespace rebound::engine {

// The keys [defaults] may set (reliability ones included); a service may set them too.
const std::vector<std::string>& InheritableServiceKeys();

// Applies the keys of `table` (all of which must be inheritable) onto `spec`, then checks the
// result as a whole (e.g. backoff.max >= backoff.initial).
Status ApplyServiceSettings(const ConfigReader& reader, const toml::table& table,
                            std::string_view table_path, ServiceSpec& spec,
                            ServiceReliability& reliability);

struct ServiceContext {
  const ServiceSpec& defaults;                    // what the service inherits
  const ServiceReliability& reliability_defaults;  // and of its health, recovery, breaker
  const std::vector<std::string>& service_names;  // every service, for depends_on
  const std::string& base_dir;                    // relative cwd resolves against this
};

// A signal name such as "SIGTERM" or "term" (the signals a config may name).
Result<int> ParseStopSignal(const ConfigReader& reader, const toml::node& node,
                            std::string_view path);

// The service `entry` of [services] names and holds; its health, recovery, breaker and
// memory settings go to `reliability`.
Result<ServiceSpec> ReadService(const ConfigReader& reader, const ConfigEntry& entry,
                                const ServiceContext& context, ServiceReliability& reliability);

}  // namespace rebound::engine
