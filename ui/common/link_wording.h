#pragma once
// One wording for a server's state, used by the status bar chip, the server
// panel, the Dashboard tiles and the Alerts page (and the README), so
// "down", "degraded (circuit open)" and "degraded (circuit half-open)" read
// the same wherever they appear.
//
// Thread-safety: pure functions.
#include <QString>

#include "common/core_service.h"

namespace tier::ui {

// A link is an outage when the server cannot be used as configured.
inline bool isOutage(LinkState s) {
  return s == LinkState::Down || s == LinkState::Degraded;
}

// "down", "degraded (circuit open)", "degraded (circuit half-open)", "connected", ...
// Degraded is Redis answering PING while its client's circuit breaker is not
// closed; CoreService says which breaker state in the detail ("circuit half-open: …").
inline QString linkStateWords(const LinkStatus& s) {
  if (s.state == LinkState::Degraded)
    return s.detail.startsWith(QLatin1String("circuit half-open")) ? QStringLiteral("degraded (circuit half-open)")
                                                                   : QStringLiteral("degraded (circuit open)");
  return toText(s.state);
}

// A server's error as the reason after the state words: without the breaker's
// "circuit open: " / "Redis circuit open: " the state words already say, and
// on one line (libpq's messages span several).
inline QString reasonText(QString d) {
  for (const char* prefix :
       {"circuit open: ", "circuit half-open: ", "Redis circuit open: ", "Redis circuit half-open: "})
    if (d.startsWith(QLatin1String(prefix))) d = d.mid(int(qstrlen(prefix)));
  return d.simplified();
}

// The reason after the state words of a link.
inline QString linkReason(const LinkStatus& s) {
  return reasonText(s.detail);
}

// "Redis down: Connection refused", "Redis degraded (circuit open): timeout".
inline QString linkSentence(const QString& name, const LinkStatus& s) {
  const QString reason = linkReason(s);
  return reason.isEmpty() ? QStringLiteral("%1 %2").arg(name, linkStateWords(s))
                          : QStringLiteral("%1 %2: %3").arg(name, linkStateWords(s), reason);
}

}  // namespace tier::ui
