#include "api/event_fanout.h"

#include <algorithm>
#include <iterator>

#include "api/sse.h"

namespace rebound::api {
namespace {

bool Matches(const store::EventFilter& filter, const std::string& category, const std::string& kind,
             const std::string& subject) {
  return (!filter.category || *filter.category == category) &&
         (!filter.kind || *filter.kind == kind) && (!filter.subject || *filter.subject == subject);
}

}  // namespace

EventFanout::EventFanout(store::EventJournal& journal, size_t capacity)
    : journal_(journal), capacity_(capacity) {}

Result<std::optional<FanoutBatch>> EventFanout::Read(const store::EventFilter& filter,
                                                     Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  if (!started_) {  // the ring starts with what is committed now: new streams start there
    base_ = end_ = journal_.LastCommittedSeq();
    started_ = true;
  }
  bool looked = false;
  while (true) {
    if (!Covers(filter.after_seq)) {
      return std::optional<FanoutBatch>();
    }
    if (filter.after_seq < end_) {
      return std::optional<FanoutBatch>(Collect(filter));
    }
    const auto now = std::chrono::steady_clock::now();
    // One look even with no time left: what is committed already is not waited for.
    if (!fetching_ && (now < deadline || !looked)) {
      looked = true;
      REBOUND_RETURN_IF_ERROR(Fetch(lock, std::max(Duration(deadline - now), Duration{0})));
      continue;
    }
    if (now >= deadline) {
      return std::optional<FanoutBatch>(FanoutBatch{.last_seq = filter.after_seq});
    }
    const uint64_t generation = generation_;
    published_.wait_until(lock, deadline, [&] { return generation_ != generation; });
  }
}

bool EventFanout::Covers(int64_t after_seq) const { return after_seq >= base_; }

FanoutBatch EventFanout::Collect(const store::EventFilter& filter) const {
  FanoutBatch batch{.last_seq = end_};
  // Entries are in seq order: skip to the first after after_seq (most readers are near the end).
  auto it = ring_.end();
  while (it != ring_.begin() && std::prev(it)->seq > filter.after_seq) {
    --it;
  }
  for (; it != ring_.end(); ++it) {
    if (Matches(filter, it->category, it->kind, it->subject)) {
      batch.frames += it->frame;
    }
  }
  return batch;
}

Status EventFanout::Fetch(std::unique_lock<std::mutex>& lock, Duration timeout) {
  fetching_ = true;
  const int64_t after = end_;
  lock.unlock();
  Result<std::vector<store::Event>> events = journal_.Follow({.after_seq = after}, timeout);
  std::vector<Entry> framed;
  if (events.ok()) {
    framed.reserve(events->size());
    for (const store::Event& event : *events) {  // framed outside the lock
      framed.push_back({event.seq, event.category, event.kind, event.subject,
                        FormatSseEvent(event.seq, event.category + "." + event.kind,
                                       store::EventToJson(event).dump())});
    }
  }
  lock.lock();
  for (Entry& entry : framed) {
    end_ = entry.seq;
    ring_.push_back(std::move(entry));
  }
  while (ring_.size() > capacity_) {
    base_ = ring_.front().seq;
    ring_.pop_front();
  }
  fetching_ = false;
  ++generation_;
  published_.notify_all();
  if (!events.ok()) {
    return events.error();
  }
  return OkStatus();
}

}  // namespace rebound::api
