#include "api/log_routes.h"

#include <algorithm>
#include <charconv>
#include <deque>

namespace rebound::api {
namespace {

Result<int> ParseLines(const HttpRequest& request) {
  std::optional<std::string> text = request.QueryParam("lines");
  if (!text) {
    return kDefaultLogLines;
  }
  int lines = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), lines);
  if (text->empty() || error != std::errc() || end != text->data() + text->size() || lines < 1 ||
      lines > kMaxLogLines) {
    return ValidationError("query parameter \"lines\" = \"" + *text +
                           "\": expected an integer from 1 to " + std::to_string(kMaxLogLines));
  }
  return lines;
}

HttpResponse TailService(engine::ServiceController& controller, FileSystem& fs,
                         const std::string& log_dir, const HttpRequest& request) {
  const std::string& name = request.PathParam("name");
  Result<int> lines = ParseLines(request);
  if (!lines.ok()) {
    return ErrorResponse(lines.error());
  }
  Result<engine::ServiceStatus> service = controller.GetService(name);
  if (!service.ok()) {
    return ErrorResponse(service.error());
  }
  Result<std::vector<std::string>> names = fs.ListDir(log_dir);
  std::vector<std::string> contents;
  for (const std::string& file : LogFilesOldestFirst(names.value_or({}), name)) {
    // A file rotated away between the listing and the read is skipped, not an error.
    if (Result<std::string> content = fs.ReadFile(log_dir + "/" + file); content.ok()) {
      contents.push_back(std::move(*content));
    }
  }
  return JsonResponse(200, {{"service", name}, {"lines", TailLines(contents, *lines)}});
}

}  // namespace

std::vector<std::string> TailLines(const std::vector<std::string>& contents, int count) {
  std::deque<std::string> lines;
  for (auto file = contents.rbegin(); file != contents.rend() && std::ssize(lines) < count;
       ++file) {
    std::string_view text = *file;
    if (text.ends_with('\n')) {
      text.remove_suffix(1);
    } else if (text.empty()) {
      continue;
    }
    while (std::ssize(lines) < count) {
      const size_t newline = text.rfind('\n');
      lines.emplace_front(newline == std::string_view::npos ? text : text.substr(newline + 1));
      if (newline == std::string_view::npos) {
        break;
      }
      text = text.substr(0, newline);
    }
  }
  return {lines.begin(), lines.end()};
}

std::vector<std::string> LogFilesOldestFirst(const std::vector<std::string>& names,
                                             const std::string& service) {
  const std::string base = service + ".log";
  std::vector<std::pair<int, std::string>> rotated;
  bool has_current = false;
  for (const std::string& name : names) {
    if (name == base) {
      has_current = true;
      continue;
    }
    if (!name.starts_with(base + ".")) {
      continue;
    }
    const std::string suffix = name.substr(base.size() + 1);
    int number = 0;
    auto [end, error] = std::from_chars(suffix.data(), suffix.data() + suffix.size(), number);
    if (!suffix.empty() && error == std::errc() && end == suffix.data() + suffix.size()) {
      rotated.emplace_back(number, name);
    }
  }
  std::sort(rotated.begin(), rotated.end(), std::greater<>());
  std::vector<std::string> files;
  for (auto& [number, name] : rotated) {
    files.push_back(std::move(name));
  }
  if (has_current) {
    files.push_back(base);
  }
  return files;
}

void RegisterLogRoutes(HttpServer& server, engine::ServiceController& controller, FileSystem& fs,
                       std::string log_dir) {
  server.Get("/v1/services/:name/logs",
             [&controller, &fs, log_dir = std::move(log_dir)](const HttpRequest& request) {
               return TailService(controller, fs, log_dir, request);
             });
}

}  // namespace rebound::api
