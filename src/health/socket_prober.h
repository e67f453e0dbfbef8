#pragma once

// SocketProber: tcp and http probes of numeric addresses as non-blocking sockets on the
// caller's event loop: no thread, no hop between threads, so a probe costs two or three
// wake-ups of the loop (timer, connected, answered) and nothing while it waits. Everything
// else (exec, host names that need a resolver) goes to the `fallback` Prober.
//
//   SocketProber prober(reactor, reactor, clock, pool_prober);
//   prober.Run(spec, [](ProbeResult r) { ... });   // `done` runs on the loop thread
//
// http speaks HTTP/1.1 with "Connection: close": it reads until the server closes, or until
// the headers and Content-Length bytes have come, at most 64 KiB; the status must be in the
// spec's range and the body must contain body_contains. A probe that has not finished by its
// timeout is cut off and fails. Not thread-safe: the loop thread only. The watcher,
// scheduler, clock and fallback must outlive it; the destructor abandons probes in flight.

#include <map>
#include <memory>

#include "base/clock.h"
#include "base/fd_watcher.h"
#include "base/scheduler.h"
#include "health/prober.h"

namespace rebound::health {

class SocketProber final : public Prober {
 public:
  SocketProber(FdWatcher& watcher, Scheduler& scheduler, const Clock& clock, Prober& fallback);
  ~SocketProber() override;

  void Run(const ProbeSpec& spec, std::function<void(ProbeResult)> done) override;
  size_t in_flight() const { return probes_.size(); }

 private:
  struct Probe;

  void Start(std::unique_ptr<Probe> probe);
  void OnWritable(uint64_t id);
  void OnReadable(uint64_t id);
  void Finish(uint64_t id, bool ok, const std::string& failure);
  Probe* Find(uint64_t id);

  FdWatcher& watcher_;
  Scheduler& scheduler_;
  const Clock& clock_;
  Prober& fallback_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Probe>> probes_;
};

// The verdict on a complete or partial HTTP response: "" if it passes, else why not.
// `complete`: the server closed the connection or sent everything it announced.
std::string JudgeHttpResponse(const std::string& response, const ProbeSpec& spec);
// True once `response` holds the headers and as many body bytes as Content-Length says.
bool HttpResponseComplete(const std::string& response);

}  // namespace rebound::health
