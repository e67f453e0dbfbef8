#pragma once

// The daemon's sync endpoints: a module's application side, for the sync service
// (store/sync_service.h), through its [snapshots.modules.NAME] source (read) and restore
// (write) endpoints.
//
//   store::SyncEndpoints endpoints = ApplicationSyncEndpoints(transport, binding);
//   sync.Register("llm", std::move(endpoints));
//
// The application's updated_at is its document's top-level "updated_at" field: a number of
// unix milliseconds, or an RFC 3339 string ("2026-11-26T03:30:00Z", "...+02:00"). Without one
// the application's copy counts as the newest (docs/configuration.md "[sync]"). Stateless.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/error.h"
#include "snapshot/module_endpoint.h"
#include "store/sync_service.h"

namespace rebound::engine {

// nullopt when `document` has no "updated_at"; a validation Error when it cannot be read.
Result<std::optional<int64_t>> ApplicationUpdatedAtMs(const nlohmann::json& document);

// REQUIRES: binding.source and binding.restore are set. The transport must outlive the result.
store::SyncEndpoints ApplicationSyncEndpoints(snapshot::EndpointTransport& transport,
                                              const snapshot::ModuleBinding& binding);

}  // namespace rebound::engine
