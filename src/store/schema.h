#pragma once

// The store's schema as an ordered list of migrations. Migration i (0-based) moves a database
// from user_version i to i + 1. Append new migrations; never edit a released one.

#include <string_view>
#include <vector>

namespace rebound::store {

const std::vector<std::string_view>& Migrations();

}  // namespace rebound::store
