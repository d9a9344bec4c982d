#include "tier/sandbox/seeder.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string_view>
#include <vector>

#include "tier/common/error.h"
#include "tier/pg/pg_pool.h"

namespace tier::sandbox {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kChunkBytes = 4 << 20;
constexpr long long kDay = 86400;
constexpr long long kHour = 3600;

// xoshiro256** seeded through splitmix64: fixed output on every platform,
// unlike std:: distributions whose algorithms are implementation-defined.
class Rng {
 public:
  Rng(std::uint64_t seed, std::uint64_t stream) {
    std::uint64_t x = seed ^ (stream * 0x9E3779B97F4A7C15ULL);
    for (auto& s : s_) {
      x += 0x9E3779B97F4A7C15ULL;
      std::uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      s = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // [0, n), n > 0; the modulo bias is far below anything demo data could show.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  long long range(long long lo, long long hi) { return lo + static_cast<long long>(below(static_cast<std::uint64_t>(hi - lo + 1))); }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  template <typename T, std::size_t N>
  const T& pick(const std::array<T, N>& a) {
    return a[below(N)];
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

using W = std::string_view;

constexpr std::array<W, 40> kFirst{"Ava", "Liam", "Mia", "Noah", "Emma", "Oliver", "Sofia", "Lucas", "Isla", "Mateo",
                                   "Amara", "Ethan", "Zoe", "Arjun", "Chloe", "Kenji", "Leila", "Jonas", "Priya", "Diego",
                                   "Hannah", "Omar", "Freya", "Tariq", "Elena", "Samuel", "Yuki", "Aisha", "Felix", "Nora",
                                   "Ravi", "Clara", "Malik", "Ingrid", "Theo", "Lucia", "Kwame", "Maya", "Henrik", "Rosa"};
constexpr std::array<W, 40> kLast{"Smith", "Garcia", "Nguyen", "Müller", "Okafor", "Rossi", "Kowalski", "Tanaka", "Silva",
                                  "Haddad", "Johansson", "Patel", "Brown", "Dubois", "Kim", "Novak", "Mensah", "Ibrahim",
                                  "Larsen", "Costa", "Fischer", "Moreau", "Singh", "Walker", "Alvarez", "Berg", "Chen",
                                  "Hughes", "Lopez", "Murphy", "Petrov", "Quinn", "Reyes", "Sato", "Torres", "Vogel",
                                  "Wright", "Yilmaz", "Zhang", "Andersen"};
constexpr std::array<W, 10> kTimezones{"UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago",
                                       "America/Los_Angeles", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney",
                                       "America/Sao_Paulo"};
constexpr std::array<W, 12> kLowFeelings{"drained", "anxious", "overwhelmed", "lonely", "irritable", "flat",
                                         "restless", "sad", "on edge", "exhausted", "discouraged", "tense"};
constexpr std::array<W, 12> kMidFeelings{"okay", "a bit distracted", "mixed", "tired but fine", "calm-ish", "uncertain",
                                         "neutral", "thoughtful", "slightly stressed", "steady", "quiet", "so-so"};
constexpr std::array<W, 12> kHighFeelings{"hopeful", "energised", "grateful", "content", "proud", "relaxed",
                                          "light", "focused", "connected", "optimistic", "peaceful", "confident"};
constexpr std::array<W, 16> kEvents{"a long meeting with my manager", "a phone call with my mother", "the morning run",
                                    "a tough deadline", "dinner with friends", "an argument with my partner",
                                    "a quiet walk in the park", "finishing the report", "the commute",
                                    "a therapy session", "helping my sister move", "a sleepless night",
                                    "the team retrospective", "cooking for the family", "a doctor's appointment",
                                    "reading before bed"};
constexpr std::array<W, 8> kGood{"dinner with friends", "the morning run", "a quiet walk in the park",
                                  "finishing the report", "a long call with an old friend", "sunshine at lunch",
                                  "a good book", "my sister's encouragement"};
constexpr std::array<W, 10> kPeople{"My partner", "My boss", "A colleague", "My best friend", "My brother",
                                    "My daughter", "My neighbour", "My therapist", "Mum", "An old friend"};
constexpr std::array<W, 10> kActions{"checked in on me", "criticised my work", "made me laugh", "cancelled our plans",
                                     "asked for help", "surprised me", "listened for a long time",
                                     "forgot my birthday", "shared good news", "gave me useful advice"};
constexpr std::array<W, 8> kSleep{"badly", "well", "about six hours", "through the night", "in short bursts",
                                  "later than planned", "deeply", "on and off"};
constexpr std::array<W, 8> kSleepDetail{"and woke up twice", "which helped a lot", "and had strange dreams",
                                        "after scrolling my phone too long", "with the window open",
                                        "once I stopped overthinking", "and still feel groggy",
                                        "thanks to skipping coffee after lunch"};
constexpr std::array<W, 8> kWork{"busy", "calmer than usual", "frustrating", "rewarding", "chaotic", "slow",
                                 "intense", "surprisingly fun"};
constexpr std::array<W, 8> kWorkDetail{"too many emails", "the project finally moved forward",
                                       "I said no to an extra task", "nobody seemed to listen",
                                       "I got praise for the presentation", "the deadline keeps slipping",
                                       "I took a proper lunch break", "I stayed late again"};
constexpr std::array<W, 10> kGoals{"go to bed earlier", "call my dad", "take a walk at lunch", "write three things I'm grateful for",
                                   "say no more often", "drink less coffee", "practise breathing for five minutes",
                                   "spend an evening offline", "plan the weekend", "ask for feedback"};
constexpr std::array<W, 8> kObservations{"my mood drops on Sunday evenings", "exercise clears my head",
                                         "I worry most right before sleeping", "talking things through helps",
                                         "I'm kinder to others than to myself", "small wins add up",
                                         "my energy dips after lunch", "being outside lifts me"};
constexpr std::array<W, 16> kTags{"work", "sleep", "family", "friends", "exercise", "anxiety", "gratitude", "stress",
                                  "health", "relationships", "self-care", "therapy", "weekend", "study", "money",
                                  "mindfulness"};
constexpr std::array<W, 12> kEntryTitles{"A long day", "Couldn't sleep again", "Small wins", "Thinking about family",
                                         "Work pressure", "A better morning", "Feeling stuck", "Weekend reflections",
                                         "Grateful today", "Too much on my plate", "Quiet evening", "New routine"};
constexpr std::array<W, 12> kTopics{"anxiety", "sleep", "mindfulness", "depression", "stress", "relationships",
                                    "self-esteem", "grief", "anger", "focus", "burnout", "loneliness"};
constexpr std::array<W, 12> kTopicThings{"my sleep", "work stress", "my anxiety before meetings", "feeling low",
                                         "my relationship", "motivation", "racing thoughts at night", "loneliness",
                                         "a recent loss", "getting angry quickly", "focusing at work", "burnout"};
constexpr std::array<W, 8> kValidation{"really hard", "exhausting", "completely understandable", "like a lot to carry",
                                       "frustrating", "painful", "like real progress", "worth paying attention to"};
constexpr std::array<W, 8> kQuestions{"What usually happens right before you notice it?",
                                      "How have you been sleeping this week?",
                                      "What would a small next step look like?",
                                      "Who could you lean on for support?",
                                      "What helped the last time you felt this way?",
                                      "How does your body feel when this comes up?",
                                      "What would you say to a friend in your place?",
                                      "Would you like to try an exercise together?"};

struct Technique {
  W slug;
  W title;
  W topic;
  W gist;
};
constexpr std::array<Technique, 24> kTechniques{{
    {"cognitive-reframing", "Cognitive Reframing", "anxiety", "noticing an unhelpful thought and testing a more balanced one"},
    {"box-breathing", "Box Breathing", "stress", "breathing in, holding, out and holding again for four counts each"},
    {"progressive-muscle-relaxation", "Progressive Muscle Relaxation", "stress", "tensing and releasing muscle groups one at a time"},
    {"sleep-hygiene", "Sleep Hygiene", "sleep", "keeping regular hours and a calm, dark, cool bedroom"},
    {"stimulus-control", "Stimulus Control", "sleep", "using the bed only for sleep and getting up when you cannot sleep"},
    {"grounding-5-4-3-2-1", "5-4-3-2-1 Grounding", "anxiety", "naming five things you see, four you hear, three you can touch"},
    {"behavioral-activation", "Behavioural Activation", "depression", "scheduling small rewarding activities before motivation arrives"},
    {"thought-records", "Thought Records", "depression", "writing down situations, automatic thoughts and the evidence for them"},
    {"body-scan", "Body Scan", "mindfulness", "moving attention slowly through the body without judging what you find"},
    {"gratitude-practice", "Gratitude Practice", "mindfulness", "writing down three specific good things each day"},
    {"worry-time", "Scheduled Worry Time", "anxiety", "postponing worries to a fixed fifteen-minute slot"},
    {"assertive-communication", "Assertive Communication", "relationships", "stating needs clearly and respectfully with I-statements"},
    {"boundary-setting", "Setting Boundaries", "relationships", "deciding what you will and will not accept and saying so"},
    {"self-compassion-break", "Self-Compassion Break", "self-esteem", "treating yourself as you would a good friend in a hard moment"},
    {"mindful-walking", "Mindful Walking", "mindfulness", "paying attention to each step, breath and sound while walking"},
    {"values-clarification", "Values Clarification", "depression", "naming what matters to you and choosing actions that fit"},
    {"problem-solving", "Structured Problem Solving", "stress", "defining a problem, listing options and trying one"},
    {"exposure-ladder", "Exposure Ladder", "anxiety", "facing feared situations step by step from easiest to hardest"},
    {"grief-journaling", "Grief Journaling", "grief", "writing to or about the person you lost at your own pace"},
    {"anger-timeout", "Taking a Time-Out", "anger", "pausing and leaving the situation before anger peaks"},
    {"pomodoro-focus", "Focused Work Blocks", "focus", "working in short timed blocks with deliberate breaks"},
    {"energy-audit", "Energy Audit", "burnout", "tracking what drains and what restores your energy for a week"},
    {"social-reconnection", "Reconnecting Socially", "loneliness", "reaching out in small, low-pressure ways"},
    {"self-talk-audit", "Auditing Self-Talk", "self-esteem", "catching harsh inner criticism and rewording it"},
}};
constexpr std::array<W, 8> kAngles{"a beginner's guide", "when you are short on time", "for busy mornings",
                                   "common mistakes", "what the research says", "a step-by-step practice",
                                   "for difficult evenings", "making it a habit"};

std::string timestamp(long long epoch) {
  const std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d+00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// ASCII-only local part for e-mails (names may carry umlauts).
std::string emailPart(std::string_view s) {
  std::string ascii(s);
  for (std::size_t pos; (pos = ascii.find("\u00fc")) != std::string::npos;) ascii.replace(pos, 2, "ue");
  std::string out;
  for (unsigned char c : lower(ascii))
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out.push_back(static_cast<char>(c));
  return out.empty() ? std::string("user") : out;
}

W feeling(Rng& r, int mood) {
  if (mood <= 4) return r.pick(kLowFeelings);
  if (mood <= 6) return r.pick(kMidFeelings);
  return r.pick(kHighFeelings);
}

void appendSentence(std::string& out, Rng& r, int mood) {
  if (!out.empty()) out.push_back(' ');
  switch (r.below(8)) {
    case 0: out.append("Today I felt ").append(feeling(r, mood)).append(" after ").append(r.pick(kEvents)).append("."); break;
    case 1: out.append(r.pick(kPeople)).append(" ").append(r.pick(kActions)).append(" and I felt ").append(feeling(r, mood)).append("."); break;
    case 2: out.append("I slept ").append(r.pick(kSleep)).append(" last night ").append(r.pick(kSleepDetail)).append("."); break;
    case 3: out.append("Work was ").append(r.pick(kWork)).append("; ").append(r.pick(kWorkDetail)).append("."); break;
    case 4: out.append("Tomorrow I want to ").append(r.pick(kGoals)).append("."); break;
    case 5: out.append("I'm noticing that ").append(r.pick(kObservations)).append("."); break;
    case 6: out.append("Most of the evening I was ").append(feeling(r, mood)).append(", thinking about ").append(r.pick(kEvents)).append("."); break;
    default: out.append("One thing I'm grateful for: ").append(r.pick(kGood)).append("."); break;
  }
}

void appendUserMessage(std::string& out, Rng& r) {
  switch (r.below(6)) {
    case 0: out.append("I've been feeling ").append(r.pick(kLowFeelings)).append(" about ").append(r.pick(kTopicThings)).append(" lately."); break;
    case 1: out.append("Can you help me with ").append(r.pick(kTopicThings)).append("? It keeps coming back."); break;
    case 2: out.append("Yesterday it was ").append(r.pick(kEvents)).append(" and I ended up ").append(r.pick(kLowFeelings)).append("."); break;
    case 3: out.append("I tried to ").append(r.pick(kGoals)).append(" and it went better than I expected."); break;
    case 4: out.append("Honestly I'm not sure. I think ").append(r.pick(kObservations)).append("."); break;
    default: out.append("I slept ").append(r.pick(kSleep)).append(" ").append(r.pick(kSleepDetail)).append("."); break;
  }
}

void appendAssistantMessage(std::string& out, Rng& r) {
  const Technique& t = r.pick(kTechniques);
  switch (r.below(5)) {
    case 0: out.append("That sounds ").append(r.pick(kValidation)).append(". ").append(r.pick(kQuestions)); break;
    case 1:
      out.append("It's understandable to feel that way. One thing that can help is ").append(t.title).append(": ")
          .append(t.gist).append(".");
      break;
    case 2: out.append("Thank you for sharing that. ").append(r.pick(kQuestions)); break;
    case 3:
      out.append("You mentioned ").append(r.pick(kTopicThings)).append(". Would it help to try ").append(t.title)
          .append(" for a few minutes today?");
      break;
    default: out.append("That's ").append(r.pick(kValidation)).append(". Let's take it one step at a time."); break;
  }
}

// Throttled progress: at most every 1 % or 0.25 s, and always at the end.
class Progress {
 public:
  Progress(const std::function<void(const SeedProgress&)>& cb, std::string table, long long total)
      : cb_(cb), table_(std::move(table)), total_(total), step_(std::max<long long>(1, total / 100)) {}
  void update(long long done) {
    if (!cb_) return;
    if (done < total_ && done - last_ < step_ && ((done & 255) != 0 || Clock::now() - lastAt_ < std::chrono::milliseconds(250)))
      return;
    last_ = done;
    lastAt_ = Clock::now();
    cb_(SeedProgress{table_, done, total_});
  }
  void finish() {
    if (cb_ && last_ != total_) {
      last_ = total_;
      cb_(SeedProgress{table_, total_, total_});
    }
  }

 private:
  const std::function<void(const SeedProgress&)>& cb_;
  std::string table_;
  long long total_;
  long long step_;
  long long last_ = 0;
  Clock::time_point lastAt_ = Clock::now();
};

// Loads one table in its own transaction; `row(i, out)` appends row i (with its newline).
template <typename RowFn>
long long copyTable(pg::Connection& c, const std::string& copySql, const std::string& table, long long total,
                    Progress& progress, RowFn&& row) {
  long long i = 0;
  const long long copied = c.copyIn(copySql, [&](std::string& chunk) {
    if (i >= total) return false;
    while (i < total && chunk.size() < kChunkBytes) {
      row(i, chunk);
      ++i;
      progress.update(i);
    }
    return true;
  });
  if (copied != total)
    throw DataError("seeding " + table + ": COPY stored " + std::to_string(copied) + " rows, expected " +
                    std::to_string(total));
  return copied;
}

// The ids COPY gave `table`: contiguous and in COPY order, or we cannot reference them.
// `rangeSql` is a literal "SELECT coalesce(min(id), 0), coalesce(max(id), 0), count(*) FROM <table>".
long long firstId(pg::Connection& c, const std::string& table, const char* rangeSql, long long expected) {
  const pg::Result r = c.exec(rangeSql);
  const long long lo = r.toInt(0, 0), hi = r.toInt(0, 1), n = r.toInt(0, 2);
  if (n != expected || (n > 0 && hi - lo + 1 != n))
    throw DataError("seeding " + table + ": identity values are not contiguous (min " + std::to_string(lo) + ", max " +
                    std::to_string(hi) + ", rows " + std::to_string(n) + ")");
  return lo;
}

pg::Transaction beginBulk(pg::Connection& c) {
  pg::Transaction tx(c);
  // Bulk loads run longer than the interactive statement_timeout allows.
  c.exec("SELECT set_config('statement_timeout', '0', true)");
  return tx;
}

void validate(const SeedOptions& o) {
  if (o.users < 1 || o.entries < 0 || o.sessions < 0 || o.knowledge < 0 || o.min_messages < 0 ||
      o.max_messages < o.min_messages)
    throw BadInputError("seed sizes must be users >= 1, entries/sessions/knowledge >= 0 and 0 <= min_messages <= max_messages");
}

constexpr std::array<const char*, 5> kTables{"users", "journal_entries", "chat_sessions", "chat_messages",
                                             "psychology_knowledge"};

}  // namespace

Seeder::Seeder(pg::PgPool& pool) : pool_(pool) {}

bool Seeder::isSeeded() {
  auto c = pool_.acquire();
  if (c->exec("SELECT to_regclass('users') IS NULL").value(0, 0) == "t") return false;
  return c->exec("SELECT EXISTS (SELECT 1 FROM users)").value(0, 0) == "t";
}

SeedResult Seeder::seed(const SeedOptions& o, const std::function<void(const SeedProgress&)>& progressCb) {
  validate(o);
  const auto started = Clock::now();
  const long long now = static_cast<long long>(std::time(nullptr));
  auto lease = pool_.acquire();
  pg::Connection& c = *lease;

  for (const char* t : kTables) {
    const pg::Result r = c.exec("SELECT to_regclass($1) IS NOT NULL", {std::string(t)});
    if (r.value(0, 0) != "t")
      throw BadInputError(std::string("cannot seed: table ") + t + " does not exist (run tierctl migrate first)");
  }
  const pg::Result existing = c.exec(
      "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM journal_entries)"
      " OR EXISTS (SELECT 1 FROM chat_sessions) OR EXISTS (SELECT 1 FROM chat_messages)"
      " OR EXISTS (SELECT 1 FROM psychology_knowledge)");
  if (existing.value(0, 0) == "t")
    throw BadInputError("cannot seed: the database already holds data; seeding needs empty tables");

  SeedResult result{};

  // users
  long long userBase = 0;
  std::vector<long long> userCreated(static_cast<std::size_t>(o.users));
  {
    Rng r(o.random_seed, 1);
    Progress p(progressCb, "users", o.users);
    pg::Transaction tx = beginBulk(c);
    result.users = copyTable(c, "COPY users (email, display_name, timezone, created_at, updated_at) FROM STDIN",
                             "users", o.users, p, [&](long long i, std::string& out) {
                               const W first = r.pick(kFirst), last = r.pick(kLast);
                               const long long created = now - r.range(366 * kDay, 730 * kDay);
                               userCreated[static_cast<std::size_t>(i)] = created;
                               const std::string ts = timestamp(created);
                               out.append(emailPart(first)).append(".").append(emailPart(last)).append(".")
                                   .append(std::to_string(i + 1)).append("@example.com\t");
                               out.append(first).append(" ").append(last).append("\t");
                               out.append(r.pick(kTimezones)).append("\t").append(ts).append("\t").append(ts).append("\n");
                             });
    userBase = firstId(c, "users", "SELECT coalesce(min(id), 0), coalesce(max(id), 0), count(*) FROM users", o.users);
    tx.commit();
    p.finish();
  }
  // A few heavy users, like real platforms have: 30 % of the activity comes from the top 10 %.
  auto pickUser = [&](Rng& r) -> long long {
    const long long heavy = std::max(1, o.users / 10);
    return r.chance(0.3) ? static_cast<long long>(r.below(static_cast<std::uint64_t>(heavy)))
                         : static_cast<long long>(r.below(static_cast<std::uint64_t>(o.users)));
  };

  // journal_entries
  {
    Rng r(o.random_seed, 2);
    Progress p(progressCb, "journal_entries", o.entries);
    std::string content;
    pg::Transaction tx = beginBulk(c);
    result.entries = copyTable(
        c, "COPY journal_entries (user_id, title, content, mood_score, tags, created_at, updated_at) FROM STDIN",
        "journal_entries", o.entries, p, [&](long long, std::string& out) {
          const long long user = pickUser(r);
          const int mood = static_cast<int>(r.range(1, 10));
          const long long created = now - r.range(0, 365 * kDay);
          const long long updated = r.chance(0.15) ? std::min(now, created + r.range(60, 6 * kHour)) : created;
          content.clear();
          const int sentences = static_cast<int>(r.range(3, 8));
          for (int s = 0; s < sentences; ++s) appendSentence(content, r, mood);
          out.append(std::to_string(userBase + user)).append("\t").append(r.pick(kEntryTitles)).append("\t");
          out.append(pg::copyEscape(content)).append("\t").append(std::to_string(mood)).append("\t{");
          const int ntags = static_cast<int>(r.range(0, 3));
          std::uint32_t used = 0;
          for (int t = 0, written = 0; t < ntags; ++t) {
            const auto k = r.below(kTags.size());
            if (used & (1u << k)) continue;
            used |= 1u << k;
            if (written++) out.push_back(',');
            out.append(kTags[k]);
          }
          out.append("}\t").append(timestamp(created)).append("\t").append(timestamp(updated)).append("\n");
        });
    tx.commit();
    p.finish();
  }

  // chat_sessions; the per-session shape is kept to generate its messages next.
  struct SessionShape {
    int messages;
    long long created;
    long long last_active;
  };
  std::vector<SessionShape> shapes(static_cast<std::size_t>(o.sessions));
  long long sessionBase = 0;
  long long totalMessages = 0;
  {
    Rng r(o.random_seed, 3);
    Progress p(progressCb, "chat_sessions", o.sessions);
    pg::Transaction tx = beginBulk(c);
    result.sessions = copyTable(
        c, "COPY chat_sessions (user_id, title, status, message_count, created_at, last_active_at) FROM STDIN",
        "chat_sessions", o.sessions, p, [&](long long i, std::string& out) {
          const long long user = pickUser(r);
          const int n = static_cast<int>(r.range(o.min_messages, o.max_messages));
          const double kind = static_cast<double>(r.below(1000)) / 1000.0;
          W status;
          long long last;
          if (kind < 0.25) {  // active; half of them touched within the last 6 hours
            status = "active";
            last = now - (r.chance(0.5) ? r.range(0, 6 * kHour) : r.range(6 * kHour, 48 * kHour));
          } else if (kind < 0.30) {
            status = "expired";
            last = now - r.range(2 * kDay, 30 * kDay);
          } else {
            status = "closed";
            last = now - r.range(2 * kDay, 365 * kDay);
          }
          const long long created = last - static_cast<long long>(n) * r.range(30, 180);
          shapes[static_cast<std::size_t>(i)] = SessionShape{n, created, last};
          totalMessages += n;
          out.append(std::to_string(userBase + user)).append("\t");
          if (r.chance(0.5))
            out.append("Talking about ").append(r.pick(kTopicThings));
          else
            out.append(r.pick(kTopics)).append(" check-in");
          out.append("\t").append(status).append("\t").append(std::to_string(n)).append("\t");
          out.append(timestamp(created)).append("\t").append(timestamp(last)).append("\n");
        });
    sessionBase = firstId(c, "chat_sessions",
                          "SELECT coalesce(min(id), 0), coalesce(max(id), 0), count(*) FROM chat_sessions",
                          o.sessions);
    tx.commit();
    p.finish();
  }

  // chat_messages: alternate user/assistant, the first from the user, evenly spread in time.
  {
    Rng r(o.random_seed, 4);
    Progress p(progressCb, "chat_messages", totalMessages);
    std::size_t session = 0;
    int seq = 0;
    std::string text;
    pg::Transaction tx = beginBulk(c);
    result.messages = copyTable(
        c, "COPY chat_messages (session_id, seq, role, content, created_at) FROM STDIN", "chat_messages",
        totalMessages, p, [&](long long, std::string& out) {
          while (seq >= shapes[session].messages) {
            ++session;
            seq = 0;
          }
          const SessionShape& s = shapes[session];
          const bool fromUser = seq % 2 == 0;
          text.clear();
          if (fromUser)
            appendUserMessage(text, r);
          else
            appendAssistantMessage(text, r);
          const long long at =
              s.messages > 1 ? s.created + (s.last_active - s.created) * seq / (s.messages - 1) : s.last_active;
          out.append(std::to_string(sessionBase + static_cast<long long>(session))).append("\t");
          out.append(std::to_string(seq + 1)).append(fromUser ? "\tuser\t" : "\tassistant\t");
          out.append(pg::copyEscape(text)).append("\t").append(timestamp(at)).append("\n");
          ++seq;
        });
    tx.commit();
    p.finish();
  }

  // psychology_knowledge
  {
    Rng r(o.random_seed, 5);
    Progress p(progressCb, "psychology_knowledge", o.knowledge);
    std::string body;
    pg::Transaction tx = beginBulk(c);
    result.knowledge = copyTable(
        c, "COPY psychology_knowledge (slug, topic, title, body, updated_at) FROM STDIN", "psychology_knowledge",
        o.knowledge, p, [&](long long i, std::string& out) {
          const Technique& t = kTechniques[static_cast<std::size_t>(i) % kTechniques.size()];
          const W topic = r.chance(0.8) ? t.topic : r.pick(kTopics);
          body.clear();
          body.append(t.title).append(" means ").append(t.gist).append(". It is often used for ").append(topic)
              .append(", and it takes a few minutes a day.");
          const int paragraphs = static_cast<int>(r.range(2, 4));
          for (int k = 0; k < paragraphs; ++k) {
            body.append("\n\n");
            body.append("Start small: ").append(r.pick(kGoals)).append(", then try ").append(t.title)
                .append(" when you notice you feel ").append(r.pick(kLowFeelings)).append(". ");
            body.append("Many people find that ").append(r.pick(kObservations)).append(". ");
            body.append(r.pick(kQuestions));
          }
          out.append(t.slug).append("-").append(std::to_string(i + 1)).append("\t").append(topic).append("\t");
          out.append(t.title).append(": ").append(r.pick(kAngles)).append("\t").append(pg::copyEscape(body));
          out.append("\t").append(timestamp(now - r.range(0, 180 * kDay))).append("\n");
        });
    tx.commit();
    p.finish();
  }

  pg::Transaction tx = beginBulk(c);
  c.exec("ANALYZE users, journal_entries, chat_sessions, chat_messages, psychology_knowledge");
  tx.commit();
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

}  // namespace tier::sandbox
