#include "api/event_routes.h"

#include <charconv>

#include "api/event_query.h"
#include "api/sse.h"

namespace rebound::api {
namespace {

// Last-Event-ID wins over ?after=: it is where a reconnecting client left off.
Result<store::EventFilter> StreamFilter(const HttpRequest& request, store::EventJournal& journal,
                                        const Clock& clock) {
  Result<store::EventFilter> filter = ParseEventQuery(request.query, clock.WallNow());
  if (!filter.ok()) {
    return filter;
  }
  if (auto last_id = request.Header("Last-Event-ID")) {
    int64_t seq = -1;
    auto [end, error] = std::from_chars(last_id->data(), last_id->data() + last_id->size(), seq);
    if (error != std::errc() || end != last_id->data() + last_id->size() || seq < 0) {
      return ValidationError("header Last-Event-ID = \"" + *last_id +
                             "\": expected the sequence number of the last event received");
    }
    filter->after_seq = seq;
  } else if (!request.QueryParam("after")) {
    filter->after_seq = journal.LastCommittedSeq();
  }
  filter->since_ms.reset();
  filter->until_ms.reset();
  return filter;
}

// Writes `events` and advances filter.after_seq; false once the client has gone.
bool WriteEvents(StreamSink& sink, const std::vector<store::Event>& events,
                 store::EventFilter& filter) {
  for (const store::Event& event : events) {
    const std::string name = event.category + "." + event.kind;
    if (!sink.Write(FormatSseEvent(event.seq, name, store::EventToJson(event).dump()))) {
      return false;
    }
    filter.after_seq = event.seq;
  }
  return true;
}

void StreamEvents(StreamSink& sink, store::EventJournal& journal, store::EventFilter filter,
                  const EventStreamOptions& options) {
  // Sent at once: the client knows the stream is open before the first event, and where it
  // stands (its Last-Event-ID if it reconnects before any event arrives).
  if (!sink.Write(FormatSseComment("rebound events after " + std::to_string(filter.after_seq)) +
                  FormatSseId(filter.after_seq))) {
    return;
  }
  Duration idle{0};
  while (sink.IsOpen()) {
    Result<std::vector<store::Event>> events = journal.Follow(filter, options.poll_interval);
    if (!events.ok()) {
      (void)sink.Write(FormatSseEvent(filter.after_seq, "error", events.error().message()));
      return;
    }
    if (!WriteEvents(sink, *events, filter)) {
      return;
    }
    idle = events->empty() ? idle + options.poll_interval : Duration{0};
    if (idle >= options.heartbeat_interval) {
      idle = Duration{0};
      if (!sink.Write(FormatSseComment("keepalive"))) {
        return;
      }
    }
  }
  // The server is stopping: what was committed before (a daemon's last events, its own
  // "stopped") still reaches the client, which then sees the stream end.
  if (Result<std::vector<store::Event>> rest = journal.Query(filter); rest.ok()) {
    (void)WriteEvents(sink, *rest, filter);
  }
}

}  // namespace

void RegisterEventRoutes(HttpServer& server, store::EventJournal& journal, const Clock& clock,
                         EventStreamOptions options) {
  server.Get("/v1/events", [&journal, &clock](const HttpRequest& request) {
    Result<store::EventFilter> filter = ParseEventQuery(request.query, clock.WallNow());
    if (!filter.ok()) {
      return ErrorResponse(filter.error());
    }
    Result<std::vector<store::Event>> events = journal.Query(*filter);
    if (!events.ok()) {
      return ErrorResponse(events.error().WithContext("events query"));
    }
    nlohmann::json list = nlohmann::json::array();
    for (const store::Event& event : *events) {
      list.push_back(store::EventToJson(event));
    }
    return JsonResponse(200,
                        {{"events", std::move(list)}, {"last_seq", journal.LastCommittedSeq()}});
  });
  server.Get("/v1/events/stream", [&journal, &clock, options](const HttpRequest& request) {
    Result<store::EventFilter> filter = StreamFilter(request, journal, clock);
    if (!filter.ok()) {
      return ErrorResponse(filter.error());
    }
    HttpResponse response{.status = 200, .content_type = std::string(kEventStreamType)};
    response.headers.emplace_back("Cache-Control", "no-cache");
    response.stream = [&journal, filter = *filter, options](StreamSink& sink) {
      StreamEvents(sink, journal, filter, options);
    };
    return response;
  });
}

}  // namespace rebound::api
