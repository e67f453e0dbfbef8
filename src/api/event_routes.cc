#include "api/event_routes.h"

#include <charconv>
#include <memory>

#include "api/event_fanout.h"
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

// Writes `events` and advances filter.after_seq; false once the client has gone. One write
// (one chunk, one syscall) for the whole batch: with many subscribers at thousands of events
// per second, a write per event cost more than the rest of the delivery.
bool WriteEvents(StreamSink& sink, const std::vector<store::Event>& events,
                 store::EventFilter& filter) {
  if (events.empty()) {
    return true;
  }
  std::string frames;
  for (const store::Event& event : events) {
    frames += FormatSseEvent(event.seq, event.category + "." + event.kind,
                             store::EventToJson(event).dump());
  }
  if (!sink.Write(frames)) {
    return false;
  }
  filter.after_seq = events.back().seq;
  return true;
}

// The next events for this stream: from the shared fanout, or, while the stream is further
// behind than the fanout's ring holds (a resume from long ago), from the journal itself.
// Writes them and advances filter.after_seq; false when the stream must end.
bool Deliver(StreamSink& sink, store::EventJournal& journal, EventFanout& fanout,
             store::EventFilter& filter, const EventStreamOptions& options, bool& idle) {
  Result<std::optional<FanoutBatch>> batch = fanout.Read(filter, options.poll_interval);
  if (batch.ok() && *batch) {
    idle = (*batch)->frames.empty();
    if (!idle && !sink.Write((*batch)->frames)) {
      return false;
    }
    filter.after_seq = (*batch)->last_seq;
    return true;
  }
  if (!batch.ok()) {
    (void)sink.Write(FormatSseEvent(filter.after_seq, "error", batch.error().message()));
    return false;
  }
  Result<std::vector<store::Event>> events = journal.Follow(filter, options.poll_interval);
  if (!events.ok()) {
    (void)sink.Write(FormatSseEvent(filter.after_seq, "error", events.error().message()));
    return false;
  }
  idle = events->empty();
  return WriteEvents(sink, *events, filter);
}

void StreamEvents(StreamSink& sink, store::EventJournal& journal, EventFanout& fanout,
                  store::EventFilter filter, const EventStreamOptions& options) {
  // Sent at once: the client knows the stream is open before the first event, and where it
  // stands (its Last-Event-ID if it reconnects before any event arrives).
  if (!sink.Write(FormatSseComment("rebound events after " + std::to_string(filter.after_seq)) +
                  FormatSseId(filter.after_seq))) {
    return;
  }
  Duration idle_for{0};
  while (sink.IsOpen()) {
    bool idle = false;
    if (!Deliver(sink, journal, fanout, filter, options, idle)) {
      return;
    }
    idle_for = idle ? idle_for + options.poll_interval : Duration{0};
    if (idle_for >= options.heartbeat_interval) {
      idle_for = Duration{0};
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
  auto fanout = std::make_shared<EventFanout>(journal);
  server.Get("/v1/events/stream", [&journal, &clock, options, fanout](const HttpRequest& request) {
    Result<store::EventFilter> filter = StreamFilter(request, journal, clock);
    if (!filter.ok()) {
      return ErrorResponse(filter.error());
    }
    HttpResponse response{.status = 200, .content_type = std::string(kEventStreamType)};
    response.headers.emplace_back("Cache-Control", "no-cache");
    response.stream = [&journal, fanout, filter = *filter, options](StreamSink& sink) {
      StreamEvents(sink, journal, *fanout, filter, options);
    };
    return response;
  });
}

}  // namespace rebound::api
