#include "supervise/rotating_log.h"

#include <algorithm>
#include <charconv>

#include "base/atomic_file.h"

namespace rebound::supervise {
namespace {

constexpr int kLogFileMode = 0640;

// The N of "<base>.N", or 0 when `name` is not a rotated file of `base`.
int RotatedIndex(std::string_view name, std::string_view base) {
  if (!name.starts_with(base) || name.size() < base.size() + 2 || name[base.size()] != '.') {
    return 0;
  }
  std::string_view digits = name.substr(base.size() + 1);
  int index = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.front() == '0') {
    return 0;
  }
  return index;
}

}  // namespace

RotatingLog::RotatingLog(FileSystem& fs, RotatingLogOptions options)
    : fs_(fs), options_(std::move(options)) {}

std::string RotatingLog::RotatedPath(int index) const {
  return options_.path + "." + std::to_string(index);
}

Status RotatingLog::Open() {
  Status cleaned = RemoveExcessRotatedFiles();
  Status shifted = fs_.Exists(options_.path) ? ShiftRotatedFiles() : OkStatus();
  Status opened = OpenCurrent();
  for (const Status* status : {&cleaned, &shifted, &opened}) {
    if (!status->ok()) {
      ++stats_.write_errors;
      return status->error().WithContext("open log " + options_.path);
    }
  }
  return OkStatus();
}

Status RotatingLog::Write(std::string_view data) {
  while (!data.empty()) {
    if (current_bytes_ > 0 && current_bytes_ + data.size() > options_.max_bytes) {
      if (Status rotated = Rotate(); !rotated.ok()) {
        return Drop(data, rotated.error());
      }
    }
    if (file_ == nullptr) {
      if (Status opened = OpenCurrent(); !opened.ok()) {
        return Drop(data, opened.error());
      }
    }
    const size_t take = std::min<uint64_t>(data.size(), options_.max_bytes - current_bytes_);
    Status appended = AppendPiece(data.substr(0, take));
    if (!appended.ok()) {
      return Drop(data, appended.error());
    }
    data.remove_prefix(take);
  }
  return OkStatus();
}

Status RotatingLog::WriteNote(std::string_view text) {
  std::string line = at_line_start_ ? "" : "\n";
  line.append(kNotePrefix);
  line.append(text);
  line.push_back('\n');
  return Write(line);
}

Status RotatingLog::Close() {
  if (file_ == nullptr) {
    return OkStatus();
  }
  Status closed = file_->Close();
  file_.reset();
  return closed;
}

Status RotatingLog::OpenCurrent() {
  auto file = fs_.NewWritableFile(options_.path, kLogFileMode);
  if (!file.ok()) {
    return file.error();
  }
  file_ = std::move(*file);
  current_bytes_ = 0;
  at_line_start_ = true;
  return OkStatus();
}

// The open file is renamed along with FILE, so a failed rename leaves it open and intact,
// and the next Write retries the rotation without losing what FILE already holds.
Status RotatingLog::Rotate() {
  REBOUND_RETURN_IF_ERROR(ShiftRotatedFiles());
  ++stats_.rotations;
  if (Status closed = Close(); !closed.ok()) {
    ++stats_.write_errors;  // the data is already written; only the close failed
  }
  return OpenCurrent();
}

Status RotatingLog::ShiftRotatedFiles() {
  if (options_.keep == 0) {
    return fs_.RemoveFile(options_.path);
  }
  for (int index = options_.keep - 1; index >= 1; --index) {
    if (fs_.Exists(RotatedPath(index))) {
      REBOUND_RETURN_IF_ERROR(fs_.Rename(RotatedPath(index), RotatedPath(index + 1)));
    }
  }
  return fs_.Rename(options_.path, RotatedPath(1));
}

// A run with a larger keep K leaves FILE.1 to FILE.K, contiguous: without FILE.(keep+1) there
// is nothing beyond keep to remove, and the directory (thousands of job logs, possibly) is not
// listed at every open. Only a gap made by hand can hide older copies from this check.
Status RotatingLog::RemoveExcessRotatedFiles() {
  if (!fs_.Exists(RotatedPath(options_.keep + 1))) {
    return OkStatus();
  }
  const std::string dir = ParentDir(options_.path);
  auto names = fs_.ListDir(dir);
  if (!names.ok()) {
    return names.error();
  }
  const std::string base = options_.path.substr(options_.path.find_last_of('/') + 1);
  for (const std::string& name : *names) {
    if (RotatedIndex(name, base) > options_.keep) {
      REBOUND_RETURN_IF_ERROR(fs_.RemoveFile(dir + "/" + name));
    }
  }
  return OkStatus();
}

Status RotatingLog::AppendPiece(std::string_view piece) {
  Status appended = file_->Append(piece);
  // A failed append may have written part of the piece: count all of it, so FILE never
  // grows past max_bytes.
  current_bytes_ += piece.size();
  at_line_start_ = piece.back() == '\n';
  if (appended.ok()) {
    stats_.bytes_written += piece.size();
  }
  return appended;
}

Status RotatingLog::Drop(std::string_view data, Error error) {
  stats_.bytes_dropped += data.size();
  ++stats_.write_errors;
  return error.WithContext("log " + options_.path + ": dropped " + std::to_string(data.size()) +
                           " bytes");
}

}  // namespace rebound::supervise
