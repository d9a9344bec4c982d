// Figures that fault, coherence and fuzz tests measure, collected for docs/reliability.md.
//
// When the environment variable TIER_RELIABILITY_OUT names a file, reportFigure()
// appends one JSON object per line to it; otherwise it only prints the figure
// with qInfo() so a plain ctest run shows it too. scripts/reliability runs the
// tests labelled `reliability` with the variable set and renders the table.
// Thread-safe: appends are serialised by a process-wide mutex.
#pragma once

#include <QString>

namespace tier::test {

struct Figure {
  QString fault;     // "Redis killed (SIGKILL) for 10 s" — the row's first column
  QString measured;  // "failed reads" — what was measured
  QString figure;    // "0" or "37.2 ms" — the measured value, formatted, with its unit
  QString target;    // "0" or "≤ 60 ms" — the target, as text
  bool met = false;  // whether figure meets target (the test also QVERIFYs it)
  QString command;   // "ctest -R tst_faults" — how to reproduce
};

void reportFigure(const Figure& f);

}  // namespace tier::test
