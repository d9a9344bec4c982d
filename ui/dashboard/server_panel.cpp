#include "dashboard/server_panel.h"

#include "common/link_wording.h"

#include <QDateTime>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>
#include <optional>

#include "common/link_wording.h"
#include "dashboard/latency_stats_model.h"
#include "dashboard/metric_chart.h"
#include "dashboard/redis_nodes_model.h"
#include "dashboard/slowlog_model.h"

namespace tier::ui {

namespace {
QString qs(const std::string& s) {
  return QString::fromStdString(s);
}
QString num(long long v) {
  return QLocale().toString(v);
}

QString pill(const QString& color, const QString& text) {
  return QStringLiteral("<span style=\"color:%1\">●</span> %2").arg(color, text.toHtmlEscaped());
}

QString breakerHtml(redis::BreakerState b) {
  const QString text = QString::fromLatin1(redis::toString(b)).replace(QLatin1Char('_'), QLatin1Char(' '));
  switch (b) {
    // "circuit open" as the chip, the tiles and the README say it.
    case redis::BreakerState::Closed:
      return pill(QStringLiteral("#2e9d4f"), QStringLiteral("circuit ") + text + QStringLiteral(" (Redis in use)"));
    case redis::BreakerState::HalfOpen:
      return pill(QStringLiteral("#e08e0b"), QStringLiteral("circuit ") + text + QStringLiteral(" (probing Redis)"));
    case redis::BreakerState::Open:
      return pill(QStringLiteral("#d32f2f"), QStringLiteral("circuit ") + text + QStringLiteral(" (reads skip Redis)"));
  }
  return text.toHtmlEscaped();
}

QGroupBox* group(const QString& title, QWidget* parent) {
  auto* g = new QGroupBox(title, parent);
  QFont f = g->font();
  f.setBold(true);
  g->setFont(f);
  return g;
}

// Group boxes make their title bold; keep the content in the regular weight.
void regularFont(QWidget* w) {
  QFont f = w->font();
  f.setBold(false);
  w->setFont(f);
}
}  // namespace

QString redisModeText(const ops::RedisHealth& r) {
  if (!r.configured) return QStringLiteral("—");
  int masters = 0, replicas = 0, sentinels = 0, down = 0;
  for (const auto& n : r.nodes) {
    masters += n.role == "master" ? 1 : 0;
    replicas += n.role == "replica" ? 1 : 0;
    sentinels += n.role == "sentinel" ? 1 : 0;
    down += n.up ? 0 : 1;
  }
  const QString downText = down > 0 ? QStringLiteral(" · %1 DOWN").arg(down) : QString();
  if (r.mode == "cluster")
    return QStringLiteral("Redis Cluster: %1 masters, %2 replicas%3").arg(masters).arg(replicas).arg(downText);
  if (r.mode == "sentinel")
    return QStringLiteral("Sentinel: master %1, %2 replicas, %3 sentinels%4")
        .arg(r.master.empty() ? QStringLiteral("unknown") : QString::fromStdString(r.master))
        .arg(replicas)
        .arg(sentinels)
        .arg(downText);
  return QStringLiteral("Single node");
}

QString formatBytes(long long bytes) {
  return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

ServerPanel::ServerPanel(QWidget* parent)
    : QWidget(parent),
      checked_(new QLabel(QStringLiteral("Waiting for the first health check…"), this)),
      redis_error_(new QLabel(this)),
      pg_error_(new QLabel(this)),
      latency_latest_(new QLabel(this)),
      latency_model_(new LatencyStatsModel(this)),
      latency_proxy_(new QSortFilterProxyModel(this)),
      latency_view_(new QTableView(this)),
      nodes_model_(new RedisNodesModel(this)),
      nodes_view_(new QTableView(this)),
      nodes_box_(nullptr),
      slowlog_model_(new SlowlogModel(this)),
      slowlog_proxy_(new QSortFilterProxyModel(this)),
      slowlog_view_(new QTableView(this)),
      slowlog_status_(new QLabel(this)),
      slowlog_detail_(new QLabel(this)),
      slowlog_refresh_(new QPushButton(QStringLiteral("Refresh"), this)) {
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(6, 4, 6, 6);
  checked_->setForegroundRole(QPalette::PlaceholderText);
  checked_->setObjectName(QStringLiteral("checked"));
  lay->addWidget(checked_);

  for (QLabel* e : {redis_error_, pg_error_}) {
    e->setWordWrap(true);
    e->setStyleSheet(QStringLiteral("color:#d32f2f;"));
    e->setTextInteractionFlags(Qt::TextSelectableByMouse);
    e->hide();
  }

  auto* redisBox = serverBox(
      QStringLiteral("Redis (L2)"), redis_error_,
      {{QStringLiteral("redis.endpoint"), QStringLiteral("Endpoint"),
        QStringLiteral("Where the console's Redis pool connects (no password)")},
       {QStringLiteral("redis.mode"), QStringLiteral("Deployment"),
        QStringLiteral("Single node, Redis Cluster (masters, replicas, nodes down) or Sentinel (the master "
                       "the sentinels name now)")},
       {QStringLiteral("redis.version"), QStringLiteral("Version"), QStringLiteral("redis_version from INFO server")},
       {QStringLiteral("redis.ping"), QStringLiteral("Round trip (client)"),
        QStringLiteral("Redis round trip (client): one PING from this console, network included")},
       {QStringLiteral("redis.memory"), QStringLiteral("Memory"), QStringLiteral("used_memory from INFO memory")},
       {QStringLiteral("redis.clients"), QStringLiteral("Clients"),
        QStringLiteral("connected_clients from INFO clients (every application instance)")},
       {QStringLiteral("redis.keys"), QStringLiteral("Keys"), QStringLiteral("Keys in the cache's database (DBSIZE)")},
       {QStringLiteral("redis.hits"), QStringLiteral("Hits / misses"),
        QStringLiteral("keyspace_hits / keyspace_misses since the server started, and the hit share")},
       {QStringLiteral("redis.evicted"), QStringLiteral("Evictions"),
        QStringLiteral("evicted_keys: keys dropped by maxmemory policy since start")},
       {QStringLiteral("redis.slowlog"), QStringLiteral("SLOWLOG"),
        QStringLiteral("SLOWLOG LEN: commands slower than slowlog-log-slower-than")}});
  lay->addWidget(redisBox);

  auto* nodesBox = group(QStringLiteral("Redis nodes"), this);
  nodes_box_ = nodesBox;
  nodesBox->setObjectName(QStringLiteral("redisNodes"));
  auto* nodesLay = new QVBoxLayout(nodesBox);
  nodes_view_->setModel(nodes_model_);
  nodes_view_->setObjectName(QStringLiteral("redisNodesView"));
  nodes_view_->verticalHeader()->hide();
  nodes_view_->setAlternatingRowColors(true);
  nodes_view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  nodes_view_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  nodes_view_->setWordWrap(false);
  for (int c = 0; c < RedisNodesModel::kColumnCount; ++c)
    nodes_view_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  nodes_view_->horizontalHeader()->setSectionResizeMode(RedisNodesModel::State, QHeaderView::Stretch);
  nodes_view_->verticalHeader()->setDefaultSectionSize(nodes_view_->fontMetrics().height() + 6);
  nodes_view_->setMinimumHeight(120);
  nodes_view_->setToolTip(
      QStringLiteral("Every node of the cluster or Sentinel group, probed by this console "
                     "(PING, DBSIZE) at each health check"));
  regularFont(nodes_view_);
  nodesLay->addWidget(nodes_view_);
  nodesBox->hide();  // single node: the Redis box says it all
  lay->addWidget(nodesBox);

  auto* latBox = group(QStringLiteral("INFO latencystats (server)"), this);
  auto* latLay = new QVBoxLayout(latBox);
  latency_proxy_->setSourceModel(latency_model_);
  latency_proxy_->setSortRole(LatencyStatsModel::SortRole);
  latency_view_->setModel(latency_proxy_);
  latency_view_->setObjectName(QStringLiteral("latencyStats"));
  latency_view_->setSortingEnabled(true);
  latency_view_->sortByColumn(LatencyStatsModel::P99, Qt::DescendingOrder);
  latency_view_->verticalHeader()->hide();
  latency_view_->setAlternatingRowColors(true);
  latency_view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  latency_view_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  latency_view_->horizontalHeader()->setSectionResizeMode(LatencyStatsModel::Command, QHeaderView::Stretch);
  for (int c = LatencyStatsModel::P50; c < LatencyStatsModel::kColumnCount; ++c)
    latency_view_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  latency_view_->verticalHeader()->setDefaultSectionSize(latency_view_->fontMetrics().height() + 6);
  latency_view_->setMinimumHeight(150);
  latency_view_->setToolTip(
      QStringLiteral("Server-side latency per command, measured by Redis itself (click a header to sort)"));
  regularFont(latency_view_);
  latLay->addWidget(latency_view_);
  lay->addWidget(latBox, 1);

  auto* slowBox = group(QStringLiteral("Redis SLOWLOG"), this);
  slowBox->setObjectName(QStringLiteral("slowlogBox"));
  auto* slowLay = new QVBoxLayout(slowBox);
  auto* slowTop = new QHBoxLayout();
  auto* thresholdName = new QLabel(QStringLiteral("slowlog-log-slower-than:"), this);
  auto* threshold = new QLabel(QStringLiteral("—"), this);
  threshold->setObjectName(QStringLiteral("redis.slowlog_threshold"));
  threshold->setTextInteractionFlags(Qt::TextSelectableByMouse);
  const QString thresholdTip = QStringLiteral(
      "CONFIG GET slowlog-log-slower-than: commands slower than this many microseconds are logged "
      "(0 = every command, negative = none)");
  threshold->setToolTip(thresholdTip);
  thresholdName->setToolTip(thresholdTip);
  fields_[threshold->objectName()] = threshold;
  slowlog_refresh_->setObjectName(QStringLiteral("slowlogRefresh"));
  slowlog_refresh_->setToolTip(QStringLiteral("Check the servers now (SLOWLOG GET 128 on every data node)"));
  connect(slowlog_refresh_, &QPushButton::clicked, this, [this] {
    slowlog_refresh_->setEnabled(false);
    slowlog_refresh_->setText(QStringLiteral("Refreshing…"));
    Q_EMIT refreshRequested();
  });
  for (QWidget* w : {static_cast<QWidget*>(thresholdName), static_cast<QWidget*>(threshold),
                     static_cast<QWidget*>(slowlog_refresh_)})
    regularFont(w);
  slowTop->addWidget(thresholdName);
  slowTop->addWidget(threshold, 1);
  slowTop->addWidget(slowlog_refresh_);
  slowLay->addLayout(slowTop);
  slowlog_status_->setObjectName(QStringLiteral("slowlogStatus"));
  slowlog_status_->setWordWrap(true);
  slowlog_status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  regularFont(slowlog_status_);
  slowLay->addWidget(slowlog_status_);
  slowlog_proxy_->setSourceModel(slowlog_model_);
  slowlog_proxy_->setSortRole(SlowlogModel::SortRole);
  slowlog_view_->setModel(slowlog_proxy_);
  slowlog_view_->setObjectName(QStringLiteral("slowlogView"));
  slowlog_view_->setSortingEnabled(true);
  slowlog_view_->sortByColumn(SlowlogModel::Time, Qt::DescendingOrder);
  slowlog_view_->verticalHeader()->hide();
  slowlog_view_->setAlternatingRowColors(true);
  slowlog_view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  slowlog_view_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  slowlog_view_->setWordWrap(false);
  for (int c = 0; c < SlowlogModel::kColumnCount; ++c)
    slowlog_view_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  slowlog_view_->horizontalHeader()->setSectionResizeMode(SlowlogModel::Command, QHeaderView::Stretch);
  slowlog_view_->verticalHeader()->setDefaultSectionSize(slowlog_view_->fontMetrics().height() + 6);
  slowlog_view_->setMinimumHeight(180);
  slowlog_view_->setToolTip(
      QStringLiteral("SLOWLOG GET 128 per node, read at each health check: arguments cut, passwords masked"));
  slowlog_view_->setColumnHidden(SlowlogModel::Node, true);  // shown for a cluster or Sentinel group
  regularFont(slowlog_view_);
  slowLay->addWidget(slowlog_view_);
  slowlog_detail_->setObjectName(QStringLiteral("slowlogDetail"));
  slowlog_detail_->setWordWrap(true);
  slowlog_detail_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  slowlog_detail_->setForegroundRole(QPalette::PlaceholderText);
  slowlog_detail_->setText(QStringLiteral("Select an entry to see its command in full."));
  regularFont(slowlog_detail_);
  slowLay->addWidget(slowlog_detail_);
  connect(slowlog_view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) {
            const QModelIndex src = slowlog_proxy_->mapToSource(current);
            if (!src.isValid() || src.row() >= slowlog_model_->rowCount()) return;
            const auto& e = slowlog_model_->entries()[static_cast<size_t>(src.row())];
            slowlog_detail_->setText(
                QStringLiteral("%1\n%2 · %3 · %4%5 · #%6 on %7")
                    .arg(qs(e.command),
                         QDateTime::fromMSecsSinceEpoch(e.at_ms).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                         formatDurationMicros(e.duration_us), qs(e.client),
                         e.client_name.empty() ? QString() : QStringLiteral(" (%1)").arg(qs(e.client_name)))
                    .arg(e.id)
                    .arg(qs(e.node)));
          });
  lay->addWidget(slowBox, 1);

  auto* llBox = group(QStringLiteral("LATENCY LATEST"), this);
  auto* llLay = new QVBoxLayout(llBox);
  latency_latest_->setObjectName(QStringLiteral("latencyLatest"));
  latency_latest_->setWordWrap(true);
  latency_latest_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  latency_latest_->setToolTip(
      QStringLiteral("Latency spikes Redis recorded per event (needs latency-monitor-threshold > 0)"));
  regularFont(latency_latest_);
  llLay->addWidget(latency_latest_);
  lay->addWidget(llBox);

  auto* pgBox = serverBox(
      QStringLiteral("PostgreSQL (L3)"), pg_error_,
      {{QStringLiteral("pg.endpoint"), QStringLiteral("Endpoint"),
        QStringLiteral("The connection string (password removed)")},
       {QStringLiteral("pg.version"), QStringLiteral("Version"), QStringLiteral("server_version")},
       {QStringLiteral("pg.ping"), QStringLiteral("Round trip (client)"),
        QStringLiteral("PostgreSQL round trip (client): one SELECT 1 from this console, network included")},
       {QStringLiteral("pg.connections"), QStringLiteral("Connections"),
        QStringLiteral("Backends connected to this database / max_connections")},
       {QStringLiteral("pg.cache"), QStringLiteral("Cache hit ratio"),
        QStringLiteral("blks_hit / (blks_hit + blks_read) for this database (pg_stat_database)")},
       {QStringLiteral("pg.role"), QStringLiteral("Role"), QStringLiteral("The role the console connects as")},
       {QStringLiteral("pg.schema"), QStringLiteral("Schema"), QStringLiteral("The applied migration version")},
       {QStringLiteral("pg.replica"), QStringLiteral("Read replica"),
        QStringLiteral("The optional streaming replica that serves inspection, analytics and warming reads; "
                       "down or behind, those reads go to the primary")},
       {QStringLiteral("pg.replica_lag"), QStringLiteral("Replica lag"),
        QStringLiteral("WAL the replica has still to replay (primary's insert position minus its replay "
                       "position) and seconds since the last replayed commit (0 when caught up)")},
       {QStringLiteral("pg.replica_reads"), QStringLiteral("Routed reads"),
        QStringLiteral("Reads the replica served / the primary served instead (down, behind, failed)")}});
  lay->addWidget(pgBox);

  auto* poolBox = group(QStringLiteral("Connection pools (this console)"), this);
  auto* poolForm = new QFormLayout(poolBox);
  addField(poolForm, QStringLiteral("pool.redis"), QStringLiteral("Redis"),
           QStringLiteral("Open / size, in use, failed calls"));
  addField(poolForm, QStringLiteral("pool.breaker"), QStringLiteral("Breaker"),
           QStringLiteral("Redis circuit breaker: open means reads go straight from L1 to PostgreSQL"));
  addField(poolForm, QStringLiteral("pool.pg"), QStringLiteral("PostgreSQL"),
           QStringLiteral("Open / size, in use, failed queries"));
  addField(poolForm, QStringLiteral("pool.backplane"), QStringLiteral("Invalidation"),
           QStringLiteral("Pub/sub link that drops other instances' writes from this console's L1; "
                          "while it is down L1 is bypassed"));
  lay->addWidget(poolBox);
  lay->addStretch(0);
  setMinimumWidth(300);
}

QLabel* ServerPanel::addField(QFormLayout* form, const QString& key, const QString& label, const QString& tip) {
  auto* value = new QLabel(QStringLiteral("—"), this);
  value->setTextInteractionFlags(Qt::TextSelectableByMouse);
  value->setToolTip(tip);
  value->setWordWrap(true);
  value->setObjectName(key);
  regularFont(value);
  auto* name = new QLabel(label, this);
  name->setToolTip(tip);
  regularFont(name);
  form->addRow(name, value);
  fields_[key] = value;
  return value;
}

QGroupBox* ServerPanel::serverBox(const QString& title, QLabel* error, std::initializer_list<Field> fields) {
  auto* box = group(title, this);
  auto* form = new QFormLayout();
  auto* lay = new QVBoxLayout(box);
  lay->addWidget(error);
  lay->addLayout(form);
  for (const Field& f : fields) addField(form, f.key, f.label, f.tip);
  return box;
}

void ServerPanel::refreshFailed(const QString& why) {
  slowlog_refresh_->setEnabled(true);
  slowlog_refresh_->setText(QStringLiteral("Refresh"));
  slowlog_status_->setText(QStringLiteral("Refresh failed: %1").arg(why));
}

QString ServerPanel::field(const QString& key) const {
  auto it = fields_.find(key);
  return it == fields_.end() ? QString() : it->second->text();
}

void ServerPanel::setReport(const ops::HealthReport& report, qint64 at_ms) {
  auto set = [this](const char* key, const QString& text) { fields_[QLatin1String(key)]->setText(text); };
  checked_->setText(QStringLiteral("Checked at %1 (every 5 s)")
                        .arg(QDateTime::fromMSecsSinceEpoch(at_ms).toString(QStringLiteral("HH:mm:ss"))));

  const auto& r = report.redis;
  const QString none = QStringLiteral("—");
  if (!r.configured) {
    redis_error_->setText(QStringLiteral("No Redis configured: reads go from L1 straight to PostgreSQL."));
    redis_error_->setStyleSheet(QString());
    redis_error_->show();
  } else if (!r.ok) {
    // The wording of the status bar chip and the tiles (common/link_wording.h).
    redis_error_->setText(QStringLiteral("Redis down: %1").arg(reasonText(qs(r.error))));
    redis_error_->setStyleSheet(QStringLiteral("color:#d32f2f;"));
    redis_error_->show();
  } else if (r.pool.breaker != redis::BreakerState::Closed) {
    const bool open = r.pool.breaker == redis::BreakerState::Open;
    redis_error_->setText(QStringLiteral("Redis degraded (circuit %1)%2 — %3")
                              .arg(open ? QStringLiteral("open") : QStringLiteral("half-open"),
                                   r.pool.last_error.empty() ? QString() : QStringLiteral(": ") + reasonText(qs(r.pool.last_error)),
                                   open ? QStringLiteral("reads skip Redis") : QStringLiteral("probing Redis")));
    redis_error_->setStyleSheet(QStringLiteral("color:#b7791f;"));
    redis_error_->show();
  } else {
    redis_error_->hide();
  }
  const bool redisUp = r.configured && r.ok;
  set("redis.endpoint", r.endpoint.empty() ? none : qs(r.endpoint));
  set("redis.mode", redisModeText(r));
  nodes_model_->setNodes(r.configured ? r.nodes : std::vector<redis::NodeInfo>{});
  nodes_box_->setVisible(r.configured && r.mode != "single");
  set("redis.version", redisUp ? qs(r.version) : none);
  set("redis.ping", redisUp ? formatMillis(r.latency_ms) : none);
  set("redis.memory",
      redisUp ? QStringLiteral("%1 (%2 bytes)").arg(formatBytes(r.used_memory), num(r.used_memory)) : none);
  set("redis.clients", redisUp ? num(r.connected_clients) : none);
  set("redis.keys", redisUp ? num(r.db_keys) : none);
  if (redisUp) {
    const long long total = r.keyspace_hits + r.keyspace_misses;
    const QString share =
        total > 0 ? QStringLiteral(" (%1 % hits)").arg(QString::number(100.0 * r.keyspace_hits / total, 'f', 1))
                  : QString();
    set("redis.hits", QStringLiteral("%1 / %2%3").arg(num(r.keyspace_hits), num(r.keyspace_misses), share));
  } else {
    set("redis.hits", none);
  }
  set("redis.evicted", redisUp ? num(r.evicted_keys) : none);
  set("redis.slowlog", redisUp ? QStringLiteral("%1 entries").arg(num(r.slowlog_len)) : none);
  slowlog_refresh_->setEnabled(true);
  slowlog_refresh_->setText(QStringLiteral("Refresh"));
  set("redis.slowlog_threshold", redisUp ? slowlogThresholdText(r) : none);
  // Each report resets the model: keep the selected entry (node + id) selected across it.
  std::optional<std::pair<std::string, long long>> selected;
  if (const QModelIndex cur = slowlog_proxy_->mapToSource(slowlog_view_->currentIndex()); cur.isValid())
    selected.emplace(slowlog_model_->entries()[static_cast<size_t>(cur.row())].node,
                     slowlog_model_->entries()[static_cast<size_t>(cur.row())].id);
  slowlog_model_->setEntries(redisUp ? r.slowlog : std::vector<ops::SlowlogEntry>{});
  if (selected) {
    const auto& entries = slowlog_model_->entries();
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].node != selected->first || entries[i].id != selected->second) continue;
      const QModelIndex at = slowlog_proxy_->mapFromSource(slowlog_model_->index(static_cast<int>(i), 0));
      slowlog_view_->selectionModel()->setCurrentIndex(at, QItemSelectionModel::ClearAndSelect |
                                                               QItemSelectionModel::Rows);
      break;
    }
  }
  slowlog_view_->setColumnHidden(SlowlogModel::Node, !(r.configured && r.mode != "single"));
  if (!redisUp) {
    slowlog_status_->setText(none);
  } else if (!r.slowlog_error.empty()) {
    slowlog_status_->setText(QStringLiteral("%1 entries shown · %2").arg(num(static_cast<long long>(r.slowlog.size())),
                                                                          qs(r.slowlog_error)));
  } else if (r.slowlog.empty()) {
    slowlog_status_->setText(QStringLiteral("No slow commands logged."));
  } else {
    slowlog_status_->setText(QStringLiteral("%1 entries (newest first, up to 128 per node)")
                                 .arg(num(static_cast<long long>(r.slowlog.size()))));
  }

  latency_model_->setRows(redisUp ? parseLatencyStats(r.latencystats) : std::vector<LatencyStatRow>{});
  if (!redisUp)
    latency_latest_->setText(none);
  else if (r.latency_latest.empty())
    latency_latest_->setText(QStringLiteral("No latency events recorded."));
  else
    latency_latest_->setText(qs(r.latency_latest).trimmed());

  const auto& p = report.postgres;
  if (!p.ok) {
    pg_error_->setText(QStringLiteral("PostgreSQL down: %1").arg(reasonText(qs(p.error))));
    pg_error_->show();
  } else {
    pg_error_->hide();
  }
  set("pg.endpoint", p.endpoint.empty() ? none : qs(p.endpoint));
  set("pg.version", p.ok ? qs(p.version) : none);
  set("pg.ping", p.ok ? formatMillis(p.latency_ms) : none);
  set("pg.connections", p.ok ? QStringLiteral("%1 / %2").arg(num(p.connections), num(p.max_connections)) : none);
  set("pg.cache", p.ok ? QStringLiteral("%1 %").arg(QString::number(100.0 * p.cache_hit_ratio, 'f', 1)) : none);
  set("pg.role", p.ok ? qs(p.role) : none);
  set("pg.schema", p.ok ? QStringLiteral("v%1").arg(p.schema_version) : none);
  const auto& rp = report.replica;
  const auto& rg = rp.routing;
  if (!rp.configured) {
    set("pg.replica", QStringLiteral("none (every read on the primary)"));
    set("pg.replica_lag", none);
  } else {
    set("pg.replica",
        rp.ok ? QStringLiteral("ok · %1 · %2").arg(qs(rp.endpoint), formatMillis(rp.latency_ms))
              : QStringLiteral("DOWN · %1 · %2 (reads fall back to the primary)").arg(qs(rp.endpoint), qs(rp.error)));
    set("pg.replica_lag", !rp.ok ? none
                                 : QStringLiteral("%1 bytes · %2 s")
                                       .arg(rp.lag_bytes < 0 ? QStringLiteral("?") : num(rp.lag_bytes),
                                            QString::number(rp.lag_seconds, 'f', 3)));
  }
  set("pg.replica_reads",
      QStringLiteral("replica %1 · primary %2 (down %3, behind %4, failed %5)")
          .arg(num(static_cast<long long>(rg.replica_reads)), num(static_cast<long long>(rg.primary_reads)),
               num(static_cast<long long>(rg.fallback_down)), num(static_cast<long long>(rg.fallback_lag)),
               num(static_cast<long long>(rg.fallback_error))));

  if (r.configured) {
    set("pool.redis", QStringLiteral("%1 / %2 open · %3 in use · %4 failed calls")
                          .arg(r.pool.open)
                          .arg(r.pool.size)
                          .arg(r.pool.in_use)
                          .arg(num(static_cast<long long>(r.pool.errors))));
    fields_[QStringLiteral("pool.breaker")]->setText(breakerHtml(r.pool.breaker));
    fields_[QStringLiteral("pool.breaker")]->setToolTip(
        r.pool.last_error.empty() ? QStringLiteral("Redis circuit breaker")
                                  : QStringLiteral("Last error: %1").arg(qs(r.pool.last_error)));
  } else {
    set("pool.redis", QStringLiteral("not configured"));
    set("pool.breaker", none);
  }
  set("pool.pg", QStringLiteral("%1 / %2 open · %3 in use · %4 failed queries")
                     .arg(p.pool.open)
                     .arg(p.pool.size)
                     .arg(p.pool.in_use)
                     .arg(num(static_cast<long long>(p.pool.errors))));
  const auto& b = report.backplane;
  set("pool.backplane", !b.enabled
                            ? QStringLiteral("off (L1 copies capped at the L1 TTL)")
                            : QStringLiteral("link %1 · %2 sent · %3 received · %4 L1 flushes%5")
                                  .arg(QLatin1String(cache::toString(b.link)), num(static_cast<long long>(b.sent)),
                                       num(static_cast<long long>(b.received)), num(static_cast<long long>(b.flushes)),
                                       b.last_error.empty() ? QString() : QStringLiteral(" · ") + qs(b.last_error)));
}

}  // namespace tier::ui
