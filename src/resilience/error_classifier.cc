#include "resilience/error_classifier.h"

#include <csignal>
#include <new>
#include <stdexcept>
#include <system_error>

namespace rebound::resilience {
namespace {

using C = ErrorCategory;

constexpr Classification Retryable(C category) { return {category, true}; }
constexpr Classification Permanent(C category) { return {category, false}; }

struct BuiltInMessage {
  const char* pattern;
  Classification classification;
};

const BuiltInMessage kBuiltInMessages[] = {
    {"timed? ?out|deadline exceeded", Retryable(C::kTimeout)},
    {"connection (refused|reset|aborted|closed)|unreachable|broken pipe|name resolution|"
     "temporary failure in name|network",
     Retryable(C::kNetwork)},
    {"no space|disk full|out of memory|cannot allocate|too many open files|resource "
     "temporarily unavailable|quota",
     Retryable(C::kResource)},
    {"permission denied|unauthori[sz]ed|forbidden|access denied", Permanent(C::kPermission)},
    {"not found|no such file", Permanent(C::kNotFound)},
    {"invalid|malformed|parse error|schema", Permanent(C::kValidation)},
};

// sysexits.h, 64..78.
Classification SysexitClassification(int code) {
  switch (code) {
    case 64:  // EX_USAGE
    case 65:  // EX_DATAERR
    case 78:  // EX_CONFIG
      return Permanent(C::kValidation);
    case 66:  // EX_NOINPUT
    case 67:  // EX_NOUSER
    case 72:  // EX_OSFILE
      return Permanent(C::kNotFound);
    case 68:  // EX_NOHOST
    case 76:  // EX_PROTOCOL
      return Retryable(C::kNetwork);
    case 69:  // EX_UNAVAILABLE
    case 71:  // EX_OSERR
    case 74:  // EX_IOERR
    case 75:  // EX_TEMPFAIL
      return Retryable(C::kResource);
    case 73:  // EX_CANTCREAT
    case 77:  // EX_NOPERM
      return Permanent(C::kPermission);
    default:  // 70 EX_SOFTWARE
      return Permanent(C::kUnknown);
  }
}

Classification HttpClassification(int status) {
  if (status == 408) return Retryable(C::kTimeout);
  if (status == 425 || status == 429) return Retryable(C::kResource);
  if (status == 504) return Retryable(C::kTimeout);
  if (status == 503) return Retryable(C::kResource);
  if (status >= 500 && status <= 599) return Retryable(C::kNetwork);
  if (status == 401 || status == 403) return Permanent(C::kPermission);
  if (status == 404 || status == 410) return Permanent(C::kNotFound);
  if (status == 409 || status == 412) return Permanent(C::kConflict);
  if (status >= 400 && status <= 499) return Permanent(C::kValidation);
  return Permanent(C::kUnknown);
}

}  // namespace

ErrorClassifier::ErrorClassifier() {
  for (const BuiltInMessage& rule : kBuiltInMessages) {
    message_rules_.push_back({std::regex(rule.pattern, std::regex::ECMAScript | std::regex::icase),
                              rule.classification});
  }
  auto add_exception = [this]<typename E>(Classification classification) {
    exception_rules_.push_back({[](const std::exception_ptr& error) {
                                  try {
                                    std::rethrow_exception(error);
                                  } catch (const E&) {
                                    return true;
                                  } catch (...) {
                                    return false;
                                  }
                                },
                                classification});
  };
  add_exception.operator()<std::bad_alloc>(Retryable(C::kResource));
  add_exception.operator()<std::invalid_argument>(Permanent(C::kValidation));
  add_exception.operator()<std::out_of_range>(Permanent(C::kValidation));
  add_exception.operator()<std::domain_error>(Permanent(C::kValidation));
  add_exception.operator()<std::length_error>(Permanent(C::kValidation));
}

ErrorClassifier& ErrorClassifier::OnCategory(ErrorCategory category, bool retryable) {
  category_rules_.emplace_back(category, retryable);
  return *this;
}

Status ErrorClassifier::OnMessage(const std::string& pattern, Classification classification) {
  try {
    message_rules_.insert(
        message_rules_.begin() + static_cast<std::ptrdiff_t>(user_message_rules_++),
        MessageRule{std::regex(pattern, std::regex::ECMAScript | std::regex::icase),
                    classification});
  } catch (const std::regex_error& error) {
    return ValidationError("invalid message pattern \"" + pattern + "\": " + error.what());
  }
  return OkStatus();
}

ErrorClassifier& ErrorClassifier::OnExitCode(int exit_code, Classification classification) {
  exit_rules_.push_back({exit_code, classification});
  return *this;
}

ErrorClassifier& ErrorClassifier::OnSignal(int signal, Classification classification) {
  signal_rules_.push_back({signal, classification});
  return *this;
}

ErrorClassifier& ErrorClassifier::OnHttpStatus(int status, Classification classification) {
  http_rules_.push_back({status, classification});
  return *this;
}

const Classification* ErrorClassifier::MatchCode(const std::vector<CodeRule>& rules, int code) {
  for (const CodeRule& rule : rules) {
    if (rule.code == code) {
      return &rule.classification;
    }
  }
  return nullptr;
}

const Classification* ErrorClassifier::MatchMessage(const std::string& message) const {
  for (const MessageRule& rule : message_rules_) {
    if (std::regex_search(message, rule.pattern)) {
      return &rule.classification;
    }
  }
  return nullptr;
}

Classification ErrorClassifier::Classify(const Error& error) const {
  for (size_t i = 0; i < user_message_rules_; ++i) {
    if (std::regex_search(error.message(), message_rules_[i].pattern)) {
      return message_rules_[i].classification;
    }
  }
  for (const auto& [category, retryable] : category_rules_) {
    if (category == error.category()) {
      return {category, retryable};
    }
  }
  if (error.retryable_hint().has_value()) {
    return {error.category(), *error.retryable_hint()};
  }
  if (error.category() == C::kUnknown) {
    if (const Classification* match = MatchMessage(error.message())) {
      return *match;
    }
  }
  return {error.category(), IsRetryableByDefault(error.category())};
}

Classification ErrorClassifier::ClassifyExit(int exit_code) const {
  if (const Classification* match = MatchCode(exit_rules_, exit_code)) {
    return *match;
  }
  if (exit_code >= 64 && exit_code <= 78) {
    return SysexitClassification(exit_code);
  }
  return Permanent(C::kUnknown);
}

Classification ErrorClassifier::ClassifySignal(int signal) const {
  if (const Classification* match = MatchCode(signal_rules_, signal)) {
    return *match;
  }
  return signal == SIGKILL ? Retryable(C::kResource) : Permanent(C::kUnknown);
}

Classification ErrorClassifier::ClassifyHttpStatus(int status) const {
  if (const Classification* match = MatchCode(http_rules_, status)) {
    return *match;
  }
  return HttpClassification(status);
}

Classification ErrorClassifier::ClassifyException(const std::exception_ptr& error) const {
  for (const ExceptionRule& rule : exception_rules_) {
    if (rule.matches(error)) {
      return rule.classification;
    }
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::system_error& system_error) {
    const Error mapped = ErrnoError(system_error.code().value(), "");
    return {mapped.category(), IsRetryableByDefault(mapped.category())};
  } catch (const std::exception& exception) {
    if (const Classification* match = MatchMessage(exception.what())) {
      return *match;
    }
  } catch (...) {
  }
  return Permanent(C::kUnknown);
}

Error ErrorClassifier::ToError(Classification classification, std::string message) {
  Error error(classification.category, std::move(message));
  if (classification.retryable != IsRetryableByDefault(classification.category)) {
    return error.WithRetryable(classification.retryable);
  }
  return error;
}

}  // namespace rebound::resilience
