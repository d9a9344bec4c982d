#pragma once
// The platform's entities as plain values. Each has toJson()/fromJson() in the
// documented payload encoding (docs/key-schema.md); fromJson returns nullopt on
// anything missing or of the wrong type, never throws. Timestamps are Unix ms.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tier::repo {

struct User {
  std::int64_t id = 0;
  std::string email;
  std::string display_name;
  std::string timezone;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::int64_t version = 0;

  std::string toJson() const;
  static std::optional<User> fromJson(std::string_view json);
  bool operator==(const User&) const = default;
};

struct JournalEntry {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string title;
  std::string content;
  int mood_score = 5;  // 1..10
  std::vector<std::string> tags;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::int64_t version = 0;

  std::string toJson() const;
  static std::optional<JournalEntry> fromJson(std::string_view json);
  bool operator==(const JournalEntry&) const = default;
};

struct ChatMessage {
  std::int64_t id = 0;
  std::int64_t session_id = 0;
  int seq = 0;
  std::string role;  // user | assistant | system
  std::string content;
  std::int64_t created_at = 0;
  bool operator==(const ChatMessage&) const = default;
};

// A session with its latest messages (ascending by seq). The cached value holds
// at most `recent_limit` messages; message_count is the session's total.
struct ChatSession {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string title;
  std::string status;  // active | closed | expired
  int message_count = 0;
  std::int64_t created_at = 0;
  std::int64_t last_active_at = 0;
  std::int64_t version = 0;
  std::vector<ChatMessage> messages;

  std::string toJson() const;
  static std::optional<ChatSession> fromJson(std::string_view json);
  bool operator==(const ChatSession&) const = default;
};

struct KnowledgeArticle {
  std::int64_t id = 0;
  std::string slug;
  std::string topic;
  std::string title;
  std::string body;
  std::int64_t updated_at = 0;
  std::int64_t version = 0;

  std::string toJson() const;
  static std::optional<KnowledgeArticle> fromJson(std::string_view json);
  bool operator==(const KnowledgeArticle&) const = default;
};

struct MoodStats {
  std::int64_t user_id = 0;
  int period_days = 30;
  std::int64_t entries = 0;
  double avg_mood = 0;
  int min_mood = 0;
  int max_mood = 0;
  std::int64_t first_at = 0;
  std::int64_t last_at = 0;
  std::int64_t version = 0;  // sum of the period's entry versions: changes with any edit

  std::string toJson() const;
  static std::optional<MoodStats> fromJson(std::string_view json);
  bool operator==(const MoodStats&) const = default;
};

// Field-by-field differences between two JSON payloads of the same entity
// (top-level keys; arrays compared whole). Used by inspect to explain "stale".
std::vector<std::string> diffJsonFields(std::string_view cachedJson, std::string_view dbJson);

}  // namespace tier::repo
