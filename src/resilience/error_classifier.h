#pragma once

// ErrorClassifier: decides whether a failure is worth retrying, and what kind it is.
//
//   ErrorClassifier classifier;                          // the built-in rules
//   classifier.OnExitCode(3, {ErrorCategory::kResource, true});  // user rules win
//   classifier.OnMessage("quota exceeded", {ErrorCategory::kResource, true});
//   Classification c = classifier.ClassifyExit(75);      // EX_TEMPFAIL: resource, retryable
//   bool retry = classifier.Classify(error).retryable;
//
// Foreign failures (process exits, HTTP statuses, exceptions from libraries) are classified
// once, at the adapter, into an Error: see ToError(). User rules are checked in the order
// they were added, before the built-in ones. Built-in rules:
//   categories: network, timeout, resource retryable; the rest not.
//   exit codes: 0 never fails; sysexits 64-78 mapped (75 EX_TEMPFAIL and 69 EX_UNAVAILABLE
//     retryable, 64 EX_USAGE and 78 EX_CONFIG not); other codes unknown, not retryable.
//   signals: SIGKILL (what the OOM killer sends) resource, retryable; others unknown.
//   HTTP: 408 timeout, 425/429 resource, 5xx retryable (504 timeout, 503 resource, others
//     network); other 4xx not (401/403 permission, 404/410 not_found, 409/412 conflict).
//   messages (only for exceptions and errors of unknown category): "timed out", "timeout",
//     "connection refused/reset", "unreachable", "no space", "out of memory", ...
//
// Not thread-safe to configure; const methods may be called from many threads.

#include <exception>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "base/error.h"

namespace rebound::resilience {

struct Classification {
  ErrorCategory category = ErrorCategory::kUnknown;
  bool retryable = false;
  bool operator==(const Classification&) const = default;
};

class ErrorClassifier {
 public:
  ErrorClassifier();

  // User rules. REQUIRES (OnMessage): `pattern` is a valid ECMAScript regex; it is matched
  // case-insensitively anywhere in the message. An invalid one returns a validation Error.
  ErrorClassifier& OnCategory(ErrorCategory category, bool retryable);
  Status OnMessage(const std::string& pattern, Classification classification);
  ErrorClassifier& OnExitCode(int exit_code, Classification classification);
  ErrorClassifier& OnSignal(int signal, Classification classification);
  ErrorClassifier& OnHttpStatus(int status, Classification classification);
  template <typename Exception>
  ErrorClassifier& OnException(Classification classification) {
    exception_rules_.insert(exception_rules_.begin() + user_exception_rules_++,
                            ExceptionRule{[](const std::exception_ptr& error) {
                                            try {
                                              std::rethrow_exception(error);
                                            } catch (const Exception&) {
                                              return true;
                                            } catch (...) {
                                              return false;
                                            }
                                          },
                                          classification});
    return *this;
  }

  Classification Classify(const Error& error) const;
  Classification ClassifyExit(int exit_code) const;
  Classification ClassifySignal(int signal) const;
  Classification ClassifyHttpStatus(int status) const;
  Classification ClassifyException(const std::exception_ptr& error) const;

  // An Error that carries the classification (category, and a retryable hint when it
  // differs from the category's default), with `message`.
  static Error ToError(Classification classification, std::string message);

 private:
  struct CodeRule {
    int code;
    Classification classification;
  };
  struct MessageRule {
    std::regex pattern;
    Classification classification;
  };
  struct ExceptionRule {
    std::function<bool(const std::exception_ptr&)> matches;
    Classification classification;
  };

  const Classification* MatchMessage(const std::string& message) const;
  static const Classification* MatchCode(const std::vector<CodeRule>& rules, int code);

  std::vector<std::pair<ErrorCategory, bool>> category_rules_;
  std::vector<MessageRule> message_rules_;  // user rules first, then built-in
  size_t user_message_rules_ = 0;
  std::vector<CodeRule> exit_rules_;
  std::vector<CodeRule> signal_rules_;
  std::vector<CodeRule> http_rules_;
  std::vector<ExceptionRule> exception_rules_;  // user rules first, then built-in
  size_t user_exception_rules_ = 0;
};

}  // namespace rebound::resilience
