// The OS side of config loading: the process environment and the current directory.

#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "engine/config.h"

extern char** environ;

namespace rebound::engine {

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const size_t equals = text.find('=');
    if (equals != std::string::npos) {
      env.emplace(text.substr(0, equals), text.substr(equals + 1));
    }
  }
  return env;
}

Result<std::string> CurrentDirectory() {
  std::vector<char> buffer(256);
  while (::getcwd(buffer.data(), buffer.size()) == nullptr) {
    if (errno != ERANGE) {
      return ErrnoError(errno, "getcwd");
    }
    buffer.resize(buffer.size() * 2);
  }
  return std::string(buffer.data());
}

}  // namespace rebound::engine
