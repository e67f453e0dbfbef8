#pragma once

// The rebound command line: every subcommand, its flags and help (CLI11).
//
//   int main(int argc, char** argv) { return rebound::cli::RunCommandLine(argc, argv); }
//
// Exit codes: 0 success (status: healthy); 1 failure (status: degraded; a refused request;
// an invalid config); 2 usage error or daemon unreachable.

namespace rebound::cli {

int RunCommandLine(int argc, char** argv);

}  // namespace rebound::cli
