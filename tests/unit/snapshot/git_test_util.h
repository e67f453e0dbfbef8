#pragma once

// Helpers for tests of the snapshot repository: run the git CLI, damage an object file.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace rebound::snapshot {

// `git fsck --strict` on `repo`; true when it passes.
inline bool GitFsckPasses(const std::string& repo) {
  const std::string command = "git -C '" + repo + "' fsck --strict >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

// Flips a byte in the middle of the loose object file of `id`.
inline void FlipByteOfObject(const std::string& repo, const std::string& id) {
  const std::filesystem::path file = repo + "/objects/" + id.substr(0, 2) + "/" + id.substr(2);
  std::filesystem::permissions(file, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  stream.seekg(0, std::ios::end);
  const std::streamoff middle = stream.tellg() / 2;
  stream.seekg(middle);
  char byte = 0;
  stream.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5a);
  stream.seekp(middle);
  stream.write(&byte, 1);
}

}  // namespace rebound::snapshot

namespace rebound::snapshot {

// The standard output of `git -C repo ARGS` (ARGS already shell-quoted where needed).
inline std::string GitOutput(const std::string& repo, const std::string& args) {
  const std::string command = "git -C '" + repo + "' " + args + " 2>/dev/null";
  std::string output;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) {
      output.append(buffer, n);
    }
    ::pclose(pipe);
  }
  return output;
}

// A bare repository made by the git CLI, as an operator would set up a remote.
inline bool GitInitBare(const std::string& path) {
  return std::system(("git init -q --bare '" + path + "'").c_str()) == 0;
}

}  // namespace rebound::snapshot
