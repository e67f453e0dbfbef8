#pragma once

// Module state over HTTP: one versioned JSON document per application module, written with
// compare-and-set so that two writers never silently overwrite each other.
//
//   RegisterStateRoutes(server, store.states());
//
//   GET /v1/state                 200 {"modules": [STATE, ...]}
//   GET /v1/state/:module         200 STATE with `ETag: "VERSION"`; 404 if never written
//   PUT /v1/state/:module         body: the document (a JSON object).
//                                 `If-Match: "VERSION"` writes only over that version (409
//                                 conflict otherwise); without If-Match the write is
//                                 unconditional. 200 STATE with the new ETag, once durable.
// STATE = {"module", "document", "version", "updated_at_ms"}. Formats are in docs/api.md.
//
// The store must outlive the server's Stop().

#include <optional>
#include <string>

#include "api/http_server.h"
#include "store/module_state.h"

namespace rebound::api {

void RegisterStateRoutes(HttpServer& server, store::ModuleStateStore& states);

}  // namespace rebound::api
