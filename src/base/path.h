#pragma once

// Lexical path arithmetic (no file system access): what config loading needs to resolve
// "services/api" against the directory of "/etc/rebound/rebound.toml".
//
//   JoinPath("/etc/rebound", "../data/./x")  -> "/etc/data/x"
//   JoinPath("/etc/rebound", "/var/lib/x")   -> "/var/lib/x"
//   DirName("/etc/rebound/rebound.toml")     -> "/etc/rebound"
//
// Paths are POSIX: '/' separates, a leading '/' makes a path absolute. Symlinks are not
// resolved ("a/link/.." becomes "a"), which is what users mean when they write such a path.
// Pure functions; thread-safe.

#include <string>
#include <string_view>

namespace rebound {

bool IsAbsolutePath(std::string_view path);

// Removes "." and empty components and folds "dir/.."; "/.." stays "/"; a relative path keeps
// its leading ".." components; an empty result is ".".
std::string NormalizePath(std::string_view path);

// `path` if it is absolute, else `base` + "/" + `path`; normalized either way.
std::string JoinPath(std::string_view base, std::string_view path);

// Everything before the last '/': "a/b" -> "a", "/a" -> "/", "a" -> ".".
std::string DirName(std::string_view path);

}  // namespace rebound
