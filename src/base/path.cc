#include "base/path.h"

#include <vector>

namespace rebound {

bool IsAbsolutePath(std::string_view path) { return path.starts_with('/'); }

std::string NormalizePath(std::string_view path) {
  const bool absolute = IsAbsolutePath(path);
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty() || part == ".") {
      continue;
    }
    if (part != "..") {
      parts.push_back(part);
    } else if (!parts.empty() && parts.back() != "..") {
      parts.pop_back();
    } else if (!absolute) {
      parts.push_back(part);  // "../x" cannot be folded without knowing the base.
    }
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += '/';
    }
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

std::string JoinPath(std::string_view base, std::string_view path) {
  if (IsAbsolutePath(path)) {
    return NormalizePath(path);
  }
  return NormalizePath(std::string(base) + "/" + std::string(path));
}

std::string DirName(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    return ".";
  }
  if (slash == 0) {
    return "/";
  }
  return std::string(path.substr(0, slash));
}

}  // namespace rebound
