#include "api/log_routes.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <memory>
#include <thread>

#include "api/log_follower.h"
#include "api/sse.h"

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

// The contents of the service's rotated files, oldest first (not the current NAME.log).
std::vector<std::string> ReadRotated(FileSystem& fs, const std::string& log_dir,
                                     const std::string& name) {
  Result<std::vector<std::string>> names = fs.ListDir(log_dir);
  std::vector<std::string> contents;
  for (const std::string& file : LogFilesOldestFirst(names.value_or({}), name)) {
    if (file == name + ".log") {
      continue;
    }
    // A file rotated away between the listing and the read is skipped, not an error.
    if (Result<std::string> content = fs.ReadFile(log_dir + "/" + file); content.ok()) {
      contents.push_back(std::move(*content));
    }
  }
  return contents;
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
  std::vector<std::string> contents = ReadRotated(fs, log_dir, name);
  contents.push_back(fs.ReadFile(log_dir + "/" + name + ".log").value_or(""));
  return JsonResponse(200, {{"service", name}, {"lines", TailLines(contents, *lines)}});
}

// Each line goes with its cursor as SSE id: what a reconnecting client sends back as
// Last-Event-ID to resume right after it.
// One write for the batch.
bool SendLines(StreamSink& sink, const std::vector<LogLine>& lines) {
  if (lines.empty()) {
    return true;
  }
  std::string frames;
  for (const LogLine& line : lines) {
    frames += FormatSseEvent(line.end.ToString(), "line", line.text);
  }
  return sink.Write(frames);
}

// The start of a stream: the tail (its lines carry no cursor of their own; the id block after
// them marks where they end), or, for a resumed follower, nothing: its first read has it all.
std::string StreamStart(const LogFollower& follower, const std::vector<std::string>& tail,
                        bool gap) {
  std::string start = FormatSseComment("rebound logs");
  if (gap) {
    start += FormatSseEvent(follower.cursor().ToString(), "gap",
                            "the log was rotated past the resume point: lines written meanwhile "
                            "may be missing; the last " +
                                std::to_string(tail.size()) + " lines follow");
  }
  if (!follower.resumed()) {
    for (const std::string& line : tail) {
      start += FormatSseEventWithoutId("line", line);
    }
    start += FormatSseId(follower.cursor().ToString());
  }
  return start;
}

void StreamLines(StreamSink& sink, LogFollower& follower, const std::string& start,
                 const LogStreamOptions& options) {
  if (!sink.Write(start)) {
    return;
  }
  Duration idle{0};
  while (sink.IsOpen()) {
    Result<std::vector<LogLine>> lines = follower.ReadNewLines();
    if (!lines.ok()) {
      (void)sink.Write(
          FormatSseEvent(follower.cursor().ToString(), "error", lines.error().message()));
      return;
    }
    if (!SendLines(sink, *lines)) {
      return;
    }
    idle = lines->empty() ? idle + options.poll_interval : Duration{0};
    if (idle >= options.heartbeat_interval) {
      idle = Duration{0};
      if (!sink.Write(FormatSseComment("keepalive"))) {
        return;
      }
    }
    std::this_thread::sleep_for(options.poll_interval);
  }
}

Result<std::optional<LogCursor>> ResumePoint(const HttpRequest& request) {
  std::optional<std::string> last_id = request.Header("Last-Event-ID");
  if (!last_id) {
    return std::optional<LogCursor>();
  }
  std::optional<LogCursor> cursor = LogCursor::Parse(*last_id);
  if (!cursor) {
    return ValidationError("header Last-Event-ID = \"" + *last_id +
                           "\": expected INODE:OFFSET, the id of the last line received");
  }
  return cursor;
}

HttpResponse FollowService(engine::ServiceController& controller, FileSystem& fs,
                           const std::string& log_dir, const LogStreamOptions& options,
                           const HttpRequest& request) {
  const std::string& name = request.PathParam("name");
  Result<int> lines = ParseLines(request);
  if (!lines.ok()) {
    return ErrorResponse(lines.error());
  }
  Result<std::optional<LogCursor>> resume = ResumePoint(request);
  if (!resume.ok()) {
    return ErrorResponse(resume.error());
  }
  Result<engine::ServiceStatus> service = controller.GetService(name);
  if (!service.ok()) {
    return ErrorResponse(service.error());
  }
  // Opened first: the tail and what follows meet exactly where the follower starts.
  const std::string path = log_dir + "/" + name + ".log";
  std::shared_ptr<LogFollower> follower =
      *resume ? LogFollower::OpenAfter(path, **resume) : LogFollower::Open(path);
  std::vector<std::string> tail;
  if (!follower->resumed()) {
    std::vector<std::string> contents = ReadRotated(fs, log_dir, name);
    contents.push_back(follower->initial_content());
    tail = TailLines(contents, *lines);
  }
  HttpResponse response{.status = 200, .content_type = std::string(kEventStreamType)};
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.stream =
      [follower, start = StreamStart(*follower, tail, resume->has_value() && !follower->resumed()),
       options](StreamSink& sink) { StreamLines(sink, *follower, start, options); };
  return response;
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
                       std::string log_dir, LogStreamOptions options) {
  server.Get("/v1/services/:name/logs", [&controller, &fs, log_dir](const HttpRequest& request) {
    return TailService(controller, fs, log_dir, request);
  });
  server.Get("/v1/services/:name/logs/stream",
             [&controller, &fs, log_dir, options](const HttpRequest& request) {
               return FollowService(controller, fs, log_dir, options, request);
             });
}

}  // namespace rebound::api
