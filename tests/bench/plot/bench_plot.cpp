// bench_plot: renders the PNG plots of docs/BENCHMARKS.md from the JSON of
// `tierctl bench --json`, with QtCharts on the offscreen platform (no display).
//   bench_plot <bench.json> <output folder>
// Writes targets.png (every field against its target), l2_latency.png and
// session_latency.png (core vs raw client, by quantile) and, when the L1 half
// reports hit ratios per trace, hit_ratio.png (policy vs LRU vs OPT).
#include <QApplication>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QFile>
#include <QHorizontalBarSeries>
#include <QBarSeries>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QValueAxis>
#include <cstdio>

namespace {

bool save(QChart* chart, const QString& path, QSize size = {900, 520}) {
  QChartView view(chart);
  view.setRenderHint(QPainter::Antialiasing);
  view.resize(size);
  const bool ok = view.grab().save(path);
  std::fprintf(ok ? stdout : stderr, "%s %s\n", ok ? "wrote" : "cannot write", qPrintable(path));
  return ok;
}

// Each field as "how far from its target": >= 1 means met, whichever way the target points.
bool plotTargets(const QJsonObject& doc, const QString& out) {
  const QJsonObject targets = doc.value(QStringLiteral("targets")).toObject();
  if (targets.isEmpty()) return true;
  auto* set = new QBarSet(QStringLiteral("measured ÷ target (≥ 1: met)"));
  QStringList names;
  double top = 1;
  for (auto it = targets.begin(); it != targets.end(); ++it) {
    const QJsonObject t = it.value().toObject();
    const double v = t.value(QStringLiteral("value")).toDouble();
    const double target = t.value(QStringLiteral("target")).toDouble();
    const bool atLeast = t.value(QStringLiteral("op")).toString() == QLatin1String(">=");
    double score = atLeast ? (target > 0 ? v / target : 0) : (v > 0 ? target / v : 10);
    score = std::clamp(score, 0.01, 10.0);
    top = std::max(top, score);
    names << it.key();
    *set << score;
  }
  auto* series = new QHorizontalBarSeries;
  series->append(set);
  auto* chart = new QChart;
  chart->addSeries(series);
  chart->setTitle(QStringLiteral("tierctl bench: each field against its target (log scale; 1 = on target)"));
  auto* axisY = new QBarCategoryAxis;
  axisY->append(names);
  chart->addAxis(axisY, Qt::AlignLeft);
  series->attachAxis(axisY);
  auto* axisX = new QLogValueAxis;
  axisX->setRange(0.01, std::max(10.0, top));
  axisX->setLabelFormat(QStringLiteral("%g"));
  chart->addAxis(axisX, Qt::AlignBottom);
  series->attachAxis(axisX);
  auto* one = new QLineSeries;
  one->setName(QStringLiteral("target"));
  one->append(1, -0.5);
  one->append(1, names.size() - 0.5);
  chart->addSeries(one);
  one->attachAxis(axisX);
  auto* axisHidden = new QValueAxis;
  axisHidden->setRange(-0.5, names.size() - 0.5);
  axisHidden->setVisible(false);
  chart->addAxis(axisHidden, Qt::AlignRight);
  one->attachAxis(axisHidden);
  return save(chart, out + QStringLiteral("/targets.png"), {1000, 620});
}

// Latency by quantile for the core and its raw baseline.
bool plotLatency(const QJsonObject& group, const QString& coreName, const QString& rawName, const QString& title,
                 const QString& path) {
  if (group.isEmpty()) return true;
  auto* chart = new QChart;
  chart->setTitle(title);
  auto* axisX = new QValueAxis;
  axisX->setRange(0, 100);
  axisX->setTitleText(QStringLiteral("percentile"));
  auto* axisY = new QLogValueAxis;
  axisY->setTitleText(QStringLiteral("latency (µs, log)"));
  axisY->setLabelFormat(QStringLiteral("%g"));
  chart->addAxis(axisX, Qt::AlignBottom);
  chart->addAxis(axisY, Qt::AlignLeft);
  double lo = 1e9, hi = 0;
  for (const QString& name : {coreName, rawName}) {
    auto* s = new QLineSeries;
    s->setName(name);
    for (const auto& q : group.value(name).toObject().value(QStringLiteral("quantiles_us")).toArray()) {
      const auto pair = q.toArray();
      const double y = std::max(0.01, pair.at(1).toDouble());
      s->append(pair.at(0).toDouble() * 100, y);
      lo = std::min(lo, y);
      hi = std::max(hi, y);
    }
    chart->addSeries(s);
    s->attachAxis(axisX);
    s->attachAxis(axisY);
  }
  if (hi > 0) axisY->setRange(lo / 1.5, hi * 1.5);
  return save(chart, path);
}

// Hit ratios per trace from the L1 half: any object whose values hold numbers
// named like policy/lru/opt.
bool plotHitRatios(const QJsonObject& l1, const QString& path) {
  struct Row {
    QString trace;
    double policy = -1, lru = -1, opt = -1;
  };
  QList<Row> rows;
  std::function<void(const QJsonObject&, const QString&)> walk = [&](const QJsonObject& o, const QString& name) {
    Row r{o.value(QStringLiteral("trace")).isString() ? o.value(QStringLiteral("trace")).toString() : name};
    for (auto it = o.begin(); it != o.end(); ++it) {
      const QString k = it.key().toLower();
      const QString child = name.isEmpty() ? it.key() : name + QLatin1Char('/') + it.key();
      if (it.value().isObject()) walk(it.value().toObject(), child);
      if (it.value().isArray())  // rows of objects, each named by its "trace" if it has one
        for (const auto& e : it.value().toArray())
          if (e.isObject()) walk(e.toObject(), child);
      if (!it.value().isDouble()) continue;
      if (k == QLatin1String("lru")) r.lru = it.value().toDouble();
      else if (k == QLatin1String("opt") || k == QLatin1String("belady")) r.opt = it.value().toDouble();
      else if (k == QLatin1String("policy") || k == QLatin1String("l1") || k == QLatin1String("tinylfu") || k == QLatin1String("wtinylfu"))
        r.policy = it.value().toDouble();
    }
    if (r.policy >= 0 && (r.lru >= 0 || r.opt >= 0)) rows << r;
  };
  walk(l1, QString());
  if (rows.isEmpty()) return true;
  auto* policy = new QBarSet(QStringLiteral("L1 policy"));
  auto* lru = new QBarSet(QStringLiteral("LRU"));
  auto* opt = new QBarSet(QStringLiteral("Belady OPT"));
  QStringList names;
  for (const auto& r : rows) {
    names << r.trace;
    *policy << std::max(0.0, r.policy);
    *lru << std::max(0.0, r.lru);
    *opt << std::max(0.0, r.opt);
  }
  auto* series = new QBarSeries;
  series->append(policy);
  series->append(lru);
  series->append(opt);
  auto* chart = new QChart;
  chart->addSeries(series);
  chart->setTitle(QStringLiteral("L1 hit ratio per trace: policy vs LRU vs optimal"));
  auto* axisX = new QBarCategoryAxis;
  axisX->append(names);
  chart->addAxis(axisX, Qt::AlignBottom);
  series->attachAxis(axisX);
  auto* axisY = new QValueAxis;
  axisY->setRange(0, 1);
  axisY->setTitleText(QStringLiteral("hit ratio"));
  chart->addAxis(axisY, Qt::AlignLeft);
  series->attachAxis(axisY);
  return save(chart, path, {1500, 560});
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_plot <bench.json> <output folder>\n");
    return 2;
  }
  QFile f(QString::fromLocal8Bit(argv[1]));
  if (!f.open(QIODevice::ReadOnly)) {
    std::fprintf(stderr, "bench_plot: cannot read %s\n", argv[1]);
    return 1;
  }
  const QJsonObject doc = QJsonDocument::fromJson(f.readAll()).object();
  const QString out = QString::fromLocal8Bit(argv[2]);
  const QJsonObject details = doc.value(QStringLiteral("details")).toObject();
  bool ok = plotTargets(doc, out);
  ok = plotLatency(details.value(QStringLiteral("l2_get")).toObject(), QStringLiteral("core"), QStringLiteral("hiredis"),
                   QStringLiteral("L2 GET, 1 connection: core vs raw hiredis"), out + QStringLiteral("/l2_latency.png")) && ok;
  ok = plotLatency(details.value(QStringLiteral("session")).toObject(), QStringLiteral("core"), QStringLiteral("libpq"),
                   QStringLiteral("Session retrieval from L3: core vs raw libpq (same prepared SELECT)"),
                   out + QStringLiteral("/session_latency.png")) && ok;
  ok = plotHitRatios(details.value(QStringLiteral("l1")).toObject(), out + QStringLiteral("/hit_ratio.png")) && ok;
  return ok ? 0 : 1;
}
