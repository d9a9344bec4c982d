#pragma once
// Typed errors. Every failure the core reports to a caller is one of these; the
// CLI maps kind() to an exit code and the GUI to a sentence. Messages are one
// line and never contain a secret (passwords are redacted before formatting).
#include <stdexcept>
#include <string>
#include <vector>

namespace tier {

enum class ErrorKind {
  BadInput,    // the caller's input is malformed or not allowed (usage)
  Connection,  // a server could not be reached / the connection broke
  Timeout,     // a server did not answer within its deadline
  Permission,  // the server refused: ACL / privilege / auth
  NotFound,    // the named thing does not exist
  Data,        // the server answered with something we cannot use
  Internal,    // a bug: should never happen
};

const char* toString(ErrorKind kind) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

class BadInputError : public Error {
 public:
  explicit BadInputError(const std::string& m) : Error(ErrorKind::BadInput, m) {}
};
class ConnectionError : public Error {
 public:
  explicit ConnectionError(const std::string& m) : Error(ErrorKind::Connection, m) {}
};
class TimeoutError : public Error {
 public:
  explicit TimeoutError(const std::string& m) : Error(ErrorKind::Timeout, m) {}
};
class PermissionError : public Error {
 public:
  explicit PermissionError(const std::string& m) : Error(ErrorKind::Permission, m) {}
};
class NotFoundError : public Error {
 public:
  explicit NotFoundError(const std::string& m) : Error(ErrorKind::NotFound, m) {}
};
class DataError : public Error {
 public:
  explicit DataError(const std::string& m) : Error(ErrorKind::Data, m) {}
};

// Process exit codes of tierctl (documented in README): 0 ok, 1 other failure,
// 2 usage / bad input, 3 cannot connect (or timeout), 4 permission denied,
// 5 partial success, 6 not found.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,
  kExitUsage = 2,
  kExitConnect = 3,
  kExitPermission = 4,
  kExitPartial = 5,
  kExitNotFound = 6,
};
int exitCodeFor(ErrorKind kind) noexcept;

// Removes anything that looks like a credential from a message or URL
// (user:pass@ in URLs, password=... in conninfo). Used on every message that
// may quote user input.
std::string redactSecrets(const std::string& text);

// A Redis command's arguments (argv[0] is the command name) with every secret
// replaced by "***": AUTH's password, HELLO ... AUTH user pass, ACL SETUSER
// password rules (>pw, <pw, #hash, !hash), CONFIG SET of requirepass /
// masterauth / tls-*-pass, MIGRATE ... AUTH pw / AUTH2 user pw, and in any
// argument what redactSecrets removes (a redis://user:pw@ URL, password=...),
// including a URL cut before its '@' (SLOWLOG shortens long arguments).
// Used on commands read back from a server (SLOWLOG) before they are shown.
std::vector<std::string> redactCommand(std::vector<std::string> argv);

}  // namespace tier
