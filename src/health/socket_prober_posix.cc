#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/duration.h"
#include "health/socket_prober.h"

namespace rebound::health {
namespace {

constexpr size_t kMaxResponse = 64 * 1024;

// A numeric IPv4 or IPv6 address with the port; false for a host name.
bool NumericAddress(const std::string& host, int port, sockaddr_storage& address,
                    socklen_t& length) {
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof(sockaddr_in);
    return true;
  }
  if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

}  // namespace

struct SocketProber::Probe {
  uint64_t id;
  ProbeSpec spec;
  std::function<void(ProbeResult)> done;
  HttpTarget target;
  MonoTime started;
  int fd = -1;
  bool connected = false;
  std::optional<TimerId> deadline = {};
  std::string response = {};
};

SocketProber::SocketProber(FdWatcher& watcher, Scheduler& scheduler, const Clock& clock,
                           Prober& fallback)
    : watcher_(watcher), scheduler_(scheduler), clock_(clock), fallback_(fallback) {}

SocketProber::~SocketProber() {
  for (auto& [id, probe] : probes_) {
    watcher_.UnwatchFd(probe->fd);
    ::close(probe->fd);
    if (probe->deadline) {
      scheduler_.Cancel(*probe->deadline);
    }
  }
}

SocketProber::Probe* SocketProber::Find(uint64_t id) {
  const auto found = probes_.find(id);
  return found == probes_.end() ? nullptr : found->second.get();
}

void SocketProber::Run(const ProbeSpec& spec, std::function<void(ProbeResult)> done) {
  HttpTarget target{.host = spec.host, .port = spec.port, .path = "/"};
  if (spec.type == ProbeType::kHttp) {
    auto parsed = ParseHttpUrl(spec.url);
    if (!parsed.ok()) {
      done({.ok = false, .reason = parsed.error().message()});
      return;
    }
    target = *parsed;
  }
  sockaddr_storage address{};
  socklen_t length = 0;
  const bool sockets = spec.type == ProbeType::kHttp || spec.type == ProbeType::kTcp;
  if (!sockets || !NumericAddress(target.host, target.port, address, length)) {
    fallback_.Run(spec, std::move(done));  // exec, or a name to resolve: a blocking job
    return;
  }
  auto probe = std::make_unique<Probe>(
      Probe{next_id_++, spec, std::move(done), std::move(target), clock_.MonotonicNow()});
  probe->fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe->fd < 0) {
    probe->done({.ok = false, .reason = std::string("socket: ") + std::strerror(errno)});
    return;
  }
  if (::connect(probe->fd, reinterpret_cast<sockaddr*>(&address), length) != 0 &&
      errno != EINPROGRESS) {
    const std::string why = std::strerror(errno);
    ::close(probe->fd);
    probe->done({.ok = false, .latency = clock_.MonotonicNow() - probe->started,
                 .reason = "connect " + probe->target.host + ":" +
                           std::to_string(probe->target.port) + ": " + why});
    return;
  }
  Start(std::move(probe));
}

void SocketProber::Start(std::unique_ptr<Probe> probe) {
  const uint64_t id = probe->id;
  probe->deadline = scheduler_.ScheduleAt(probe->started + probe->spec.timeout, [this, id] {
    Probe* p = Find(id);
    p->deadline.reset();
    Finish(id, false,
           (p->connected ? "no complete response within " : "could not connect within ") +
               FormatDuration(p->spec.timeout));
  });
  if (Status watched = watcher_.WatchFdWritable(probe->fd, [this, id] { OnWritable(id); });
      !watched.ok()) {
    probes_[id] = std::move(probe);
    Finish(id, false, watched.error().message());
    return;
  }
  probes_[id] = std::move(probe);
}

void SocketProber::OnWritable(uint64_t id) {
  Probe* probe = Find(id);
  if (probe == nullptr || probe->connected) {
    return;
  }
  int error = 0;
  socklen_t size = sizeof(error);
  ::getsockopt(probe->fd, SOL_SOCKET, SO_ERROR, &error, &size);
  if (error != 0) {
    Finish(id, false, std::strerror(error));
    return;
  }
  sockaddr_storage peer{};
  socklen_t peer_size = sizeof(peer);
  if (::getpeername(probe->fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) {
    return;  // a stale readiness event: still connecting
  }
  probe->connected = true;
  if (probe->spec.type == ProbeType::kTcp) {
    Finish(id, true, "");
    return;
  }
  watcher_.UnwatchFd(probe->fd);
  const bool ipv6 = probe->target.host.find(':') != std::string::npos;
  const std::string host = ipv6 ? "[" + probe->target.host + "]" : probe->target.host;
  const std::string request = "GET " + probe->target.path + " HTTP/1.1\r\nHost: " + host +
                              ":" + std::to_string(probe->target.port) +
                              "\r\nUser-Agent: rebound-probe\r\nConnection: close\r\n\r\n";
  // A few hundred bytes into an empty socket buffer: all of it goes at once.
  if (::send(probe->fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    Finish(id, false, "could not send the request");
    return;
  }
  if (Status watched = watcher_.WatchFd(probe->fd, [this, id] { OnReadable(id); });
      !watched.ok()) {
    Finish(id, false, watched.error().message());
  }
}

void SocketProber::OnReadable(uint64_t id) {
  Probe* probe = Find(id);
  if (probe == nullptr) {
    return;
  }
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::recv(probe->fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return;  // more later
      }
      if (!probe->response.empty()) {  // e.g. a reset after the whole answer: judge it
        const std::string failure = JudgeHttpResponse(probe->response, probe->spec);
        Finish(id, failure.empty(), failure);
        return;
      }
      Finish(id, false, std::string("reading the response: ") + std::strerror(errno));
      return;
    }
    probe->response.append(buffer, static_cast<size_t>(n));
    const bool closed = n == 0;
    if (closed || probe->response.size() >= kMaxResponse ||
        HttpResponseComplete(probe->response)) {
      const std::string failure = JudgeHttpResponse(probe->response, probe->spec);
      Finish(id, failure.empty(), failure);
      return;
    }
  }
}

void SocketProber::Finish(uint64_t id, bool ok, const std::string& failure) {
  auto found = probes_.find(id);
  std::unique_ptr<Probe> probe = std::move(found->second);
  probes_.erase(found);
  watcher_.UnwatchFd(probe->fd);
  ::close(probe->fd);
  if (probe->deadline) {
    scheduler_.Cancel(*probe->deadline);
  }
  std::string reason;
  if (!ok) {
    reason = probe->spec.type == ProbeType::kHttp
                 ? "GET " + probe->spec.url + ": " + failure
                 : "connect " + probe->target.host + ":" + std::to_string(probe->target.port) +
                       ": " + failure;
  }
  probe->done({.ok = ok, .latency = clock_.MonotonicNow() - probe->started, .reason = reason});
}

}  // namespace rebound::health
