#include "base/clock.h"

namespace rebound {

int64_t ToUnixMillis(WallTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

WallTime FromUnixMillis(int64_t millis) {
  return WallTime(
      std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(millis)));
}

MonoTime DeadlineAfter(MonoTime now, Duration timeout) {
  if (timeout <= Duration::zero()) {
    return now;
  }
  return timeout >= MonoTime::max() - now ? MonoTime::max() : now + timeout;
}

double ToSeconds(Duration duration) { return std::chrono::duration<double>(duration).count(); }

}  // namespace rebound
