#include <unistd.h>

#include <cstdlib>

#include "cli/client_options.h"

namespace rebound::cli {
namespace {

std::optional<std::string> NonEmptyEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

}  // namespace

void ReadProcessEnvironment(ClientInputs& inputs) {
  inputs.url_env = NonEmptyEnv("REBOUND_URL");
  inputs.token_env = NonEmptyEnv("REBOUND_TOKEN");
  inputs.stdout_is_tty = ::isatty(STDOUT_FILENO) == 1;
}

}  // namespace rebound::cli
