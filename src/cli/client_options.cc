#include "cli/client_options.h"

#include <charconv>

#include "api/token.h"

namespace rebound::cli {
namespace {

void ResolveToken(const ClientInputs& inputs, FileSystem& fs, ClientOptions& options) {
  if (inputs.token_flag) {
    options.token = *inputs.token_flag;
    options.token_source = "--token";
    return;
  }
  if (inputs.token_env) {
    options.token = *inputs.token_env;
    options.token_source = "REBOUND_TOKEN";
    return;
  }
  const std::string data_dir = inputs.data_dir.empty() ? "." : inputs.data_dir;
  const std::string path = api::TokenPath(data_dir);
  Result<std::string> token = api::ReadToken(fs, data_dir);
  if (token.ok()) {
    options.token = *token;
    options.token_source = path;
  } else if (token.error().category() == ErrorCategory::kNotFound) {
    options.token_source = path + " (not found)";
  } else {
    options.token_source = path + " (unusable: " + token.error().message() + ")";
  }
}

Result<int> ParsePort(std::string_view text, const std::string& url) {
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
    return ValidationError("daemon URL " + url + ": port must be 1..65535");
  }
  return port;
}

}  // namespace

ClientOptions ResolveClientOptions(const ClientInputs& inputs, FileSystem& fs) {
  ClientOptions options;
  if (inputs.url_flag) {
    options.url = *inputs.url_flag;
  } else if (inputs.url_env) {
    options.url = *inputs.url_env;
  } else if (inputs.listen_address) {
    options.url = UrlForListenAddress(*inputs.listen_address);
  }
  options.data_dir = inputs.data_dir;
  options.json = inputs.json;
  options.color = inputs.stdout_is_tty && !inputs.json;
  ResolveToken(inputs, fs, options);
  return options;
}

std::string UrlForListenAddress(const std::string& listen_address) {
  const size_t colon = listen_address.rfind(':');
  std::string host = listen_address.substr(0, colon == std::string::npos ? 0 : colon);
  const std::string port =
      colon == std::string::npos ? listen_address : listen_address.substr(colon + 1);
  if (host.empty() || host == "0.0.0.0" || host == "*") {
    host = "127.0.0.1";
  } else if (host == "[::]" || host == "::") {
    host = "[::1]";
  }
  return "http://" + host + ":" + port;
}

Result<DaemonAddress> ParseDaemonUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return ValidationError("daemon URL " + url + ": must start with http:// (the daemon " +
                           "serves plain HTTP, on loopback by default)");
  }
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  if (rest.ends_with('/')) {
    rest.remove_suffix(1);
  }
  if (rest.find('/') != std::string_view::npos) {
    return ValidationError("daemon URL " + url + ": must not have a path");
  }
  DaemonAddress address;
  std::string_view port_text;
  if (rest.starts_with('[')) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return ValidationError("daemon URL " + url + ": unclosed [ in the host");
    }
    address.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) {
      return ValidationError("daemon URL " + url + ": unexpected text after the host");
    }
    port_text = rest.empty() ? std::string_view() : rest.substr(1);
  } else {
    const size_t colon = rest.find(':');
    address.host = std::string(rest.substr(0, colon));
    port_text = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  if (address.host.empty()) {
    return ValidationError("daemon URL " + url + ": missing host");
  }
  if (!port_text.empty() || rest.ends_with(':')) {
    Result<int> port = ParsePort(port_text, url);
    if (!port.ok()) {
      return port.error();
    }
    address.port = *port;
  }
  return address;
}

}  // namespace rebound::cli
