#pragma once

// ConnectFailureReason: why a TCP connection to host:port fails, in the words of strerror
// ("connection refused", "no route to host"), for the CLI's "cannot reach the daemon" line.
// httplib only reports that connecting failed; this makes one more attempt to learn why.
//
//   std::string why = ConnectFailureReason("127.0.0.1", 7300, std::chrono::seconds(2));
//
// Thread-safe; stateless.

#include <chrono>
#include <string>

namespace rebound::cli {

// "connection refused", "connection timed out", "cannot resolve host: ...", or
// "connection failed" if the probe itself connects (the daemon came up meanwhile).
std::string ConnectFailureReason(const std::string& host, int port,
                                 std::chrono::milliseconds timeout);

}  // namespace rebound::cli
