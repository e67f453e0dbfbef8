#pragma once

// EventFanout: one reader of the event journal shared by every live event stream. Without it
// each SSE subscriber queried SQLite and serialized every event itself: with 50 subscribers
// at 10k events/s that was 500k queries' rows and JSON dumps per second on 2 cores. Here the
// events are fetched and framed once, into a ring of recent SSE frames, and each stream only
// picks the frames its filter matches.
//
//   EventFanout fanout(journal);
//   std::optional<FanoutBatch> batch = *fanout.Read(filter, 500ms);
//   if (!batch) { ...behind the ring: follow the journal directly until caught up... }
//   else { sink.Write(batch->frames); filter.after_seq = batch->last_seq; }
//
// No thread of its own: a reader that finds nothing new becomes the one that waits on the
// journal (Follow) and publishes what it fetched to the others; the rest wait for it.
// Thread-safe. The journal must outlive this.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/error.h"
#include "store/journal.h"

namespace rebound::api {

struct FanoutBatch {
  std::string frames = {};  // the SSE frames of the matching events, in order ("" if none)
  int64_t last_seq = 0;     // the stream has seen everything up to here: its next after_seq
};

class EventFanout {
 public:
  // Keeps the last `capacity` events framed; a stream further behind reads the journal.
  explicit EventFanout(store::EventJournal& journal, size_t capacity = 20000);

  // The frames of the events after filter.after_seq that match filter's category, kind and
  // subject (its time range and limit are not used), waiting up to `timeout` for the
  // journal to commit any. An empty batch with last_seq == after_seq: nothing new yet.
  // nullopt: after_seq is older than the ring holds. Errors: the journal's.
  Result<std::optional<FanoutBatch>> Read(const store::EventFilter& filter, Duration timeout);

 private:
  struct Entry {
    int64_t seq;
    std::string category;
    std::string kind;
    std::string subject;
    std::string frame;
  };

  // REQUIRES: mutex_ held. Whether the ring answers for `after_seq`, and its answer.
  bool Covers(int64_t after_seq) const;
  FanoutBatch Collect(const store::EventFilter& filter) const;
  // Waits on the journal for events after the ring's end and appends them, as the leader.
  Status Fetch(std::unique_lock<std::mutex>& lock, Duration timeout);

  store::EventJournal& journal_;
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable published_;
  std::deque<Entry> ring_;  // GUARDED_BY(mutex_), as the rest
  bool started_ = false;    // base_ set: the ring covers (base_, end_]
  int64_t base_ = 0;
  int64_t end_ = 0;
  bool fetching_ = false;    // a reader is waiting on the journal for everyone
  uint64_t generation_ = 0;  // bumped by each fetch that ends
};

}  // namespace rebound::api
