#include "snapshot/json_splice.h"

#include <nlohmann/json.hpp>

#include "snapshot/redaction.h"

namespace rebound::snapshot {
namespace {

// The index just past the string starting at `open` (a '"'), or npos when it never ends.
size_t StringEnd(std::string_view text, size_t open) {
  for (size_t i = open + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool KeyNeedsParsing(std::string_view key, const std::vector<std::string>& patterns) {
  if (key.find('\\') != std::string_view::npos) {
    return true;
  }
  for (const std::string& pattern : patterns) {
    if (GlobMatches(pattern, key)) {
      return true;
    }
  }
  return false;
}

void Indent(int level, std::string& out) { out.append(static_cast<size_t>(level) * 2, ' '); }

}  // namespace

bool IsSpliceable(std::string_view compact, const std::vector<std::string>& patterns) {
  std::string containers;  // '{' or '[' per open level
  for (size_t i = 0; i < compact.size();) {
    const char c = compact[i];
    if (IsWhitespace(c)) {
      return false;
    }
    if (c == '"') {
      const size_t end = StringEnd(compact, i);
      if (end == std::string_view::npos) {
        return false;
      }
      const bool is_key = end < compact.size() && compact[end] == ':' && !containers.empty() &&
                          containers.back() == '{';
      if (is_key && KeyNeedsParsing(compact.substr(i + 1, end - i - 2), patterns)) {
        return false;
      }
      i = end;
      continue;
    }
    if (c == '{' || c == '[') {
      containers.push_back(c);
    } else if (c == '}' || c == ']') {
      if (containers.empty() || containers.back() != (c == '}' ? '{' : '[')) {
        return false;
      }
      containers.pop_back();
    }
    ++i;
  }
  // The scan above only balances brackets and strings: a damaged row ("{\"a\":tru}") would be
  // spliced into the document as it is. accept() checks the grammar without building a DOM.
  return containers.empty() && !compact.empty() && nlohmann::json::accept(compact);
}

void AppendIndented(std::string_view compact, int depth, std::string& out) {
  out.reserve(out.size() + compact.size() + compact.size() / 4);
  int level = depth;
  for (size_t i = 0; i < compact.size();) {
    const char c = compact[i];
    if (c == '"') {
      const size_t end = StringEnd(compact, i);
      out.append(compact.substr(i, end - i));
      i = end;
      continue;
    }
    if ((c == '{' || c == '[') && i + 1 < compact.size() &&
        compact[i + 1] == (c == '{' ? '}' : ']')) {
      out.append(compact.substr(i, 2));  // dump(2) writes an empty one as "{}" / "[]"
      i += 2;
      continue;
    }
    if (c == '{' || c == '[') {
      out.push_back(c);
      out.push_back('\n');
      Indent(++level, out);
    } else if (c == '}' || c == ']') {
      out.push_back('\n');
      Indent(--level, out);
      out.push_back(c);
    } else if (c == ',') {
      out.append(",\n");
      Indent(level, out);
    } else if (c == ':') {
      out.append(": ");
    } else {
      out.push_back(c);
    }
    ++i;
  }
}

}  // namespace rebound::snapshot
