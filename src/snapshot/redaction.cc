#include "snapshot/redaction.h"

#include <cctype>

namespace rebound::snapshot {

const std::vector<std::string>& DefaultRedactPatterns() {
  static const std::vector<std::string> patterns = {"*key*", "*token*", "*secret*", "*password*"};
  return patterns;
}

bool GlobMatches(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || same(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

int RedactSecrets(nlohmann::json& document, const std::vector<std::string>& patterns) {
  int replaced = 0;
  if (document.is_array()) {
    for (nlohmann::json& item : document) {
      replaced += RedactSecrets(item, patterns);
    }
    return replaced;
  }
  if (!document.is_object()) {
    return 0;
  }
  for (auto& [key, value] : document.items()) {
    bool secret = false;
    for (const std::string& pattern : patterns) {
      secret = secret || GlobMatches(pattern, key);
    }
    if (secret) {
      value = std::string(kRedactedMarker);
      ++replaced;
    } else {
      replaced += RedactSecrets(value, patterns);
    }
  }
  return replaced;
}

nlohmann::json KeepRedactedValues(const nlohmann::json& snapshot, const nlohmann::json& current) {
  if (snapshot.is_string() && snapshot.get<std::string>() == kRedactedMarker &&
      !current.is_null()) {
    return current;
  }
  nlohmann::json merged = snapshot;
  if (snapshot.is_object() && current.is_object()) {
    for (auto& [key, value] : merged.items()) {
      if (current.contains(key)) {
        value = KeepRedactedValues(value, current[key]);
      }
    }
  } else if (snapshot.is_array() && current.is_array()) {
    for (size_t i = 0; i < merged.size() && i < current.size(); ++i) {
      merged[i] = KeepRedactedValues(merged[i], current[i]);
    }
  }
  return merged;
}

bool HasRedactedValues(const nlohmann::json& document) {
  if (document.is_string()) {
    return document.get_ref<const std::string&>() == kRedactedMarker;
  }
  if (document.is_structured()) {
    for (const nlohmann::json& value : document) {
      if (HasRedactedValues(value)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace rebound::snapshot
