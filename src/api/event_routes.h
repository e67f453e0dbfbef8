#pragma once

// The event journal over HTTP: a query and a live Server-Sent Events stream.
//
//   RegisterEventRoutes(server, store.journal(), DefaultClock());
//
//   GET /v1/events?category=&kind=&subject=&since=&until=&after=&limit=
//       200 {"events": [EVENT, ...], "last_seq": N}          (query syntax: event_query.h)
//   GET /v1/events/stream?category=&kind=&subject=&after=
//       200 text/event-stream; each event is "id: SEQ / event: CATEGORY.KIND / data: EVENT".
//       Starts after `Last-Event-ID` (a reconnecting client's resume point), else after
//       `after`, else with the next event committed; the first block, "id: N" without
//       data, tells the client where it stands. A comment line every heartbeat_interval
//       keeps idle connections open.
//
// Formats are in docs/api.md. The journal and clock must outlive the server's Stop(); a
// stream ends within poll_interval of the server stopping.

#include <chrono>

#include "api/http_server.h"
#include "base/clock.h"
#include "store/journal.h"

namespace rebound::api {

struct EventStreamOptions {
  Duration poll_interval = std::chrono::milliseconds(500);
  Duration heartbeat_interval = std::chrono::seconds(15);
};

void RegisterEventRoutes(HttpServer& server, store::EventJournal& journal, const Clock& clock,
                         EventStreamOptions options = {});

}  // namespace rebound::api
