#pragma once

// Splicing stored module states into a recovery document without parsing them. Module states
// are stored as nlohmann's compact dump() (store::ModuleStateStore::Put); a 1 MB document costs
// milliseconds to parse into a DOM, redact and pretty-print again, for bytes that almost never
// change on the way. These work on the text instead:
//
//   if (IsSpliceable(text, patterns)) {            // canonical, and no key to redact
//     AppendIndented(text, /*depth=*/2, out);      // the bytes dump(2) would write there
//   }
//
// The indented output is byte for byte what nlohmann's dump(2) writes for the same value at
// that depth (json_splice_test checks it), so a spliced document is the same document.
// Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace rebound::snapshot {

// True when `compact` has no whitespace outside strings (it is a compact dump()) and no object
// key, at any depth, that matches one of the redaction `patterns` (snapshot/redaction.h) or
// holds an escape sequence (matched only after unescaping: left to the parsing path).
// Malformed text is not spliceable either (an unterminated string, unbalanced brackets, or
// anything else that is not JSON, checked by nlohmann::json::accept: no DOM is built), so a
// damaged stored row takes the parsing path, which reports it.
bool IsSpliceable(std::string_view compact, const std::vector<std::string>& patterns);

// Appends `compact` pretty-printed with two-space indentation as the value of a member at
// nesting `depth` (0: the top level). REQUIRES: IsSpliceable(compact, ...).
void AppendIndented(std::string_view compact, int depth, std::string& out);

}  // namespace rebound::snapshot
