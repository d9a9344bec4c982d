// Issue 19 item 4: Operations say what happened. Against real Redis and
// PostgreSQL from the test harness:
// - Warm's third column counts what its heading says ("Newer in cache": Redis
//   held a newer version and it was kept); keys already cached with the same
//   version are rewritten and counted under Warmed;
// - after a preview that matches nothing, Invalidate… is disabled with the reason;
// - a switch of connection (File ▸ Connect…'s tryConnect) that stops the
//   synthetic load says so in the load panel, and the previous connection's
//   preview and warm results are cleared or marked as such.
// TIER_SCREENSHOT_DIR=/dir writes operations-empty-preview.png and operations-after-switch.png.
// TIER_TEST_TIMEOUT: 400
#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QtTest>

#include <memory>

#include "common/core_service.h"
#include "core_fixture.h"
#include "operations/invalidate_panel.h"
#include "operations/load_panel.h"
#include "operations/operations_models.h"
#include "operations/operations_page.h"
#include "operations/warm_panel.h"
#include "tier/codec/keys.h"
#include "tier/pg/pg_pool.h"

using namespace tier::ui;
using tier::test::TestServers;

namespace {

template <typename T>
T* child(QObject* parent, const char* name) {
  return parent->findChild<T*>(QString::fromLatin1(name));
}

ConnectionSettings settingsFor(const QString& profile) {
  ConnectionSettings s;
  s.profile = profile;
  s.redis_url = QString::fromStdString(TestServers::shared().redisUrl());
  s.pg_conninfo = QString::fromStdString(TestServers::shared().pgConninfo());
  return s;
}

void screenshot(QWidget* w, const QString& name) {
  if (const QString dir = qEnvironmentVariable("TIER_SCREENSHOT_DIR"); !dir.isEmpty())
    QVERIFY(w->grab().save(dir + QLatin1Char('/') + name));
}

}  // namespace

class TestOperationsSayWhatHappened : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<tier::TierCore> core_;  // another instance: fills keys
  std::unique_ptr<CoreService> service_;
  std::unique_ptr<OperationsPage> page_;

  WarmSummaryModel::Row warmKnowledge() {
    auto* warm = page_->warmPanel();
    warm->setSelected(tier::ops::WarmSet::Knowledge, true);
    warm->setSelected(tier::ops::WarmSet::Sessions, false);
    warm->setSelected(tier::ops::WarmSet::Entries, false);
    QSignalSpy done(warm, &WarmPanel::warmFinished);
    warm->warmAction()->trigger();
    if (!done.wait(60'000)) return {};
    return warm->summaryModel()->rows().at(0);
  }

  void previewPattern(const QString& glob) {
    auto* inv = page_->invalidatePanel();
    child<QRadioButton>(inv, "kind_pattern")->setChecked(true);
    auto* combo = child<QComboBox>(inv, "namespaceCombo");
    combo->setCurrentIndex(combo->findText(QStringLiteral("entry")));
    child<QLineEdit>(inv, "targetEdit")->setText(glob);
    QSignalSpy previewed(inv, &InvalidatePanel::previewFinished);
    inv->previewAction()->trigger();
    QVERIFY(previewed.wait(30'000));
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("tier-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_operations_say_what_happened"));
    QSettings().clear();
    tier::test::seededServers();
    tier::test::flushRedis();
    core_ = std::make_unique<tier::TierCore>(tier::test::coreConfig("ops-say"));
    service_ = std::make_unique<CoreService>();
    QSignalSpy ready(service_.get(), &CoreService::coreReady);
    service_->connectTo(settingsFor(QStringLiteral("first")));
    QVERIFY(ready.wait(30'000));
    page_ = std::make_unique<OperationsPage>(service_.get());
    page_->resize(1320, 860);
    page_->show();
    QSignalSpy probed(page_.get(), &OperationsPage::capabilitiesProbed);
    QVERIFY(page_->capabilitiesKnown() || probed.wait(20'000));
  }

  void cleanupTestCase() {
    if (service_) service_->stopWorkload();
    page_.reset();
    service_.reset();
    core_.reset();
  }

  // The heading says what is counted; the count follows the core's rule.
  void warmCountsWhatItsHeadingSays() {
    auto* model = page_->warmPanel()->summaryModel();
    QCOMPARE(model->headerData(WarmSummaryModel::AlreadyColumn, Qt::Horizontal).toString(),
             QStringLiteral("Newer in cache"));
    QVERIFY(model->headerData(WarmSummaryModel::AlreadyColumn, Qt::Horizontal, Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("newer version")));

    long long articles = 0;
    {
      auto c = core_->pg().acquire();
      articles = c->exec("SELECT count(*) FROM psychology_knowledge").toInt(0, 0);
    }
    QVERIFY(articles > 1);
    const auto first = warmKnowledge();
    QVERIFY(first.result.has_value());
    QCOMPARE(first.result->warmed, articles);
    QCOMPARE(first.result->already, 0LL);

    // Every key is now cached with the database's version: rewritten, counted as warmed, not "newer".
    const auto second = warmKnowledge();
    QVERIFY(second.result.has_value());
    QCOMPARE(second.result->warmed, articles);
    QCOMPARE(second.result->already, 0LL);

    // One key gets a newer version in Redis (as a write landing meanwhile would): kept, and counted.
    const auto keys = tier::test::scanKeys("knowledge:*");
    QVERIFY(!keys.empty());
    const std::string key = keys.front();
    const auto peek = core_->cache().peekL2(tier::codec::Namespace::Knowledge, key);
    QVERIFY(peek.value.has_value());
    core_->cache().writeThrough(tier::codec::Namespace::Knowledge, key, peek.value->payload,
                                peek.value->entity_version + 5);
    const auto third = warmKnowledge();
    QVERIFY(third.result.has_value());
    QCOMPARE(third.result->already, 1LL);
    QCOMPARE(third.result->warmed, articles - 1);
    QCOMPARE(model->index(0, WarmSummaryModel::AlreadyColumn).data().toString(), QStringLiteral("1"));
    QCOMPARE(core_->cache().peekL2(tier::codec::Namespace::Knowledge, key).value->entity_version,
             peek.value->entity_version + 5);
  }

  // Nothing matched: Invalidate… is disabled and the panel says why; other text enables it again.
  void emptyPreviewDisablesInvalidateWithTheReason() {
    auto* inv = page_->invalidatePanel();
    previewPattern(QStringLiteral("no-such-entry-*"));
    QVERIFY(inv->lastPreview().has_value());
    QCOMPARE(inv->lastPreview()->matched, 0LL);
    QVERIFY(!inv->runAction()->isEnabled());
    QVERIFY(!child<QPushButton>(inv, "runButton")->isEnabled());
    const QString why = inv->runBlockedText();
    QVERIFY2(why.contains(QStringLiteral("matched no keys")), qPrintable(why));
    QVERIFY(child<QLabel>(inv, "runBlockedReason")->isVisible());
    QCOMPARE(inv->runAction()->toolTip(), why);
    screenshot(page_.get(), QStringLiteral("operations-empty-preview.png"));

    // Other fields: nothing is known about them yet, so Invalidate… is offered (it previews first).
    child<QLineEdit>(inv, "targetEdit")->setText(QStringLiteral("*"));
    QVERIFY(inv->runAction()->isEnabled());
    QVERIFY(inv->runBlockedText().isEmpty());
    QVERIFY(!child<QLabel>(inv, "runBlockedReason")->isVisible());
  }

  // A switch of connection stops the load and says so; earlier results are cleared or marked.
  void switchingConnectionSaysWhatItStopped() {
    // Results of the first connection: a preview with matches, a warm, a running load.
    for (int i = 1; i <= 20; ++i) (void)core_->entries().get(i);
    previewPattern(QStringLiteral("*"));
    auto* inv = page_->invalidatePanel();
    QVERIFY(inv->lastPreview().has_value() && inv->lastPreview()->matched > 0);
    QVERIFY(inv->sampleModel()->rowCount() > 0);
    QVERIFY(warmKnowledge().result.has_value());
    auto* load = page_->loadPanel();
    child<QSpinBox>(load, "rate")->setValue(100);
    load->toggleAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(load->running(), 60'000);
    QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(load, "operations")->text() != QStringLiteral("—"), 20'000);
    QVERIFY(load->connectionNoteText().isEmpty());

    // File ▸ Connect… to another profile (same servers): tried beside, then adopted.
    QSignalSpy ready(service_.get(), &CoreService::coreReady);
    service_->tryConnect(settingsFor(QStringLiteral("second")));
    QVERIFY(ready.wait(30'000));
    QTRY_VERIFY_WITH_TIMEOUT(!load->running(), 10'000);

    const QString note = load->connectionNoteText();
    QVERIFY2(note.contains(QStringLiteral("was stopped")) && note.contains(QStringLiteral("switched connection")) &&
                 note.contains(QStringLiteral("\u2018first\u2019")) &&
                 note.contains(QStringLiteral("from that connection")),
             qPrintable(note));
    QVERIFY(child<QLabel>(load, "loadConnectionNote")->isVisible());

    QVERIFY(!inv->lastPreview().has_value());
    QCOMPARE(inv->sampleModel()->rowCount(), 0);
    const QString headline = child<QLabel>(inv, "invalidateHeadline")->text();
    QVERIFY2(headline.contains(QStringLiteral("previous connection")) &&
                 headline.contains(QStringLiteral("\u2018first\u2019")),
             qPrintable(headline));
    QVERIFY(child<QLabel>(inv, "matchedValue")->text().isEmpty());

    auto* warm = page_->warmPanel();
    QVERIFY(warm->summaryModel()->fromPreviousConnection());
    QVERIFY(warm->summaryModel()
                ->index(0, WarmSummaryModel::ResultColumn)
                .data()
                .toString()
                .endsWith(QStringLiteral("previous connection")));
    QVERIFY2(warm->statusText().contains(QStringLiteral("previous connection")), qPrintable(warm->statusText()));
    screenshot(page_.get(), QStringLiteral("operations-after-switch.png"));

    // A new warm on this connection is this connection's: the mark goes.
    QTRY_VERIFY_WITH_TIMEOUT(page_->capabilitiesKnown() && warm->warmAction()->isEnabled(), 30'000);
    QVERIFY(warmKnowledge().result.has_value());
    QVERIFY(!warm->summaryModel()->fromPreviousConnection());
    QVERIFY(!warm->statusText().contains(QStringLiteral("previous connection")));
  }
};

QTEST_MAIN(TestOperationsSayWhatHappened)
#include "tst_operations_say_what_happened.moc"
