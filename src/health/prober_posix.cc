#include "health/prober_posix.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <httplib.h>

#include "base/duration.h"

namespace rebound::health {
namespace {

using SteadyClock = std::chrono::steady_clock;

Duration Since(SteadyClock::time_point start) { return SteadyClock::now() - start; }

int RemainingMillis(SteadyClock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// Connects fd to addr before the deadline; an empty string on success, else why not.
std::string ConnectBefore(int fd, const addrinfo& addr, SteadyClock::time_point deadline) {
  if (::connect(fd, addr.ai_addr, addr.ai_addrlen) == 0) {
    return "";
  }
  if (errno != EINPROGRESS) {
    return std::strerror(errno);
  }
  pollfd waiting{.fd = fd, .events = POLLOUT, .revents = 0};
  const int ready = ::poll(&waiting, 1, RemainingMillis(deadline));
  if (ready == 0) {
    return "timed out";
  }
  int error = 0;
  socklen_t length = sizeof(error);
  if (ready < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    return std::strerror(errno);
  }
  return error == 0 ? "" : std::strerror(error);
}

// httplib's error names ("Read", "Connection") in words an operator reads at 3 a.m.
std::string Describe(httplib::Error error, const ProbeSpec& spec) {
  switch (error) {
    case httplib::Error::Connection:
      return "could not connect (refused or unreachable)";
    case httplib::Error::ConnectionTimeout:
      return "could not connect within " + FormatDuration(spec.timeout);
    case httplib::Error::Read:
      return "no complete response within " + FormatDuration(spec.timeout);
    case httplib::Error::Write:
      return "could not send the request";
    default:
      return httplib::to_string(error);
  }
}

std::string HttpFailure(const httplib::Result& response, const ProbeSpec& spec) {
  if (!response) {
    return "GET " + spec.url + ": " + Describe(response.error(), spec);
  }
  if (response->status < spec.status_min || response->status > spec.status_max) {
    return "GET " + spec.url + ": status " + std::to_string(response->status) + ", expected " +
           std::to_string(spec.status_min) + "-" + std::to_string(spec.status_max);
  }
  if (!spec.body_contains.empty() &&
      response->body.find(spec.body_contains) == std::string::npos) {
    return "GET " + spec.url + ": body does not contain \"" + spec.body_contains + "\"";
  }
  return "";
}

}  // namespace

void PoolProber::Run(const ProbeSpec& spec, std::function<void(ProbeResult)> done) {
  pool_.Submit([spec, done = std::move(done)] {
    switch (spec.type) {
      case ProbeType::kTcp:
        done(ProbeTcp(spec));
        return;
      case ProbeType::kHttp:
        done(ProbeHttp(spec));
        return;
      case ProbeType::kExec:
        done(ProbeExec(spec));
        return;
      default:
        done({.ok = false, .reason = "not an active probe type"});
    }
  });
}

ProbeResult ProbeTcp(const ProbeSpec& spec) {
  const auto start = SteadyClock::now();
  const auto deadline = start + spec.timeout;
  const std::string target = spec.host + ":" + std::to_string(spec.port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(spec.port);
  if (int rc = ::getaddrinfo(spec.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return {.ok = false, .latency = Since(start),
            .reason = "connect " + target + ": " + ::gai_strerror(rc)};
  }
  std::string failure = "no address";
  for (addrinfo* addr = found; addr != nullptr && !failure.empty(); addr = addr->ai_next) {
    const int fd = ::socket(addr->ai_family, addr->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                            addr->ai_protocol);
    if (fd < 0) {
      failure = std::strerror(errno);
      continue;
    }
    failure = ConnectBefore(fd, *addr, deadline);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (!failure.empty()) {
    return {.ok = false, .latency = Since(start), .reason = "connect " + target + ": " + failure};
  }
  return {.ok = true, .latency = Since(start)};
}

ProbeResult ProbeHttp(const ProbeSpec& spec) {
  const auto start = SteadyClock::now();
  auto target = ParseHttpUrl(spec.url);
  if (!target.ok()) {
    return {.ok = false, .reason = target.error().message()};
  }
  httplib::Client client(target->host, target->port);
  const auto timeout = std::chrono::duration_cast<std::chrono::microseconds>(spec.timeout);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  client.set_keep_alive(false);
  const httplib::Result response = client.Get(target->path);
  std::string failure = HttpFailure(response, spec);
  if (failure.empty() && Since(start) > spec.timeout) {
    failure = "GET " + spec.url + ": took " + FormatDuration(Since(start)) + ", over the " +
              FormatDuration(spec.timeout) + " timeout";
  }
  return {.ok = failure.empty(), .latency = Since(start), .reason = failure};
}

}  // namespace rebound::health
