#pragma once

// Where the CLI finds the daemon and its token.
//
//   ClientInputs inputs{.url_flag = url_from_argv, .data_dir = "/var/lib/rebound"};
//   ReadProcessEnvironment(inputs);            // REBOUND_URL, REBOUND_TOKEN, isatty(stdout)
//   ClientOptions options = ResolveClientOptions(inputs, DefaultFileSystem());
//   return RunStatus(options, std::cout, std::cerr);
//
// url:   --url, else REBOUND_URL, else the daemon's configured listen address (given by the
//        caller, e.g. "127.0.0.1:7300"), else http://127.0.0.1:7300.
// token: --token, else REBOUND_TOKEN, else DATA_DIR/token. A missing or unreadable token
//        file is not an error here: reads on loopback need no token, and a request that
//        does gets a 401 whose message names where the token was looked for.
//
// Plain values and pure functions, except ReadProcessEnvironment (reads the process).

#include <chrono>
#include <optional>
#include <string>

#include "base/error.h"
#include "base/file_system.h"

namespace rebound::cli {

inline constexpr std::string_view kDefaultDaemonUrl = "http://127.0.0.1:7300";

struct ClientOptions {
  std::string url = std::string(kDefaultDaemonUrl);
  std::string token = {};  // empty: none found
  std::string data_dir = {};
  bool json = false;   // print the daemon's raw JSON instead of a table
  bool color = false;  // ANSI colours; only when stdout is a terminal
  // Where the token came from, for messages: "--token", "REBOUND_TOKEN", "/d/token",
  // "/d/token (not found)".
  std::string token_source = {};
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{10000};
};

struct ClientInputs {
  std::optional<std::string> url_flag = {};
  std::optional<std::string> token_flag = {};
  std::optional<std::string> url_env = {};         // REBOUND_URL
  std::optional<std::string> token_env = {};       // REBOUND_TOKEN
  std::optional<std::string> listen_address = {};  // "host:port" from the daemon's config
  std::string data_dir = {};
  bool json = false;
  bool stdout_is_tty = false;
};

// Fills url_env, token_env (unset when empty) and stdout_is_tty from this process.
void ReadProcessEnvironment(ClientInputs& inputs);

ClientOptions ResolveClientOptions(const ClientInputs& inputs, FileSystem& fs);

// "127.0.0.1:7300" -> "http://127.0.0.1:7300"; a wildcard host ("0.0.0.0", "::", "")
// becomes the loopback address of its family, since a client cannot connect to a wildcard.
std::string UrlForListenAddress(const std::string& listen_address);

struct DaemonAddress {
  std::string host;  // without brackets for IPv6
  int port = 80;
};

// Accepts "http://HOST[:PORT][/]" (HOST may be "[v6]"). Errors (validation): another
// scheme, a path, a bad port.
Result<DaemonAddress> ParseDaemonUrl(const std::string& url);

}  // namespace rebound::cli
