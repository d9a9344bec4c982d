#pragma once
// Settings: thresholds (applied at once and persisted), L1 size and TTLs
// (persisted; used from the next connect), refresh rate (applied at once).
#include <QDialog>

#include "common/core_service.h"

class QDoubleSpinBox;
class QCheckBox;
class QSpinBox;

namespace tier::ui {

class SettingsDialog : public QDialog {
  Q_OBJECT
 public:
  explicit SettingsDialog(CoreService* service, QWidget* parent = nullptr);

  void setValues(const ConnectionSettings& s);
  // The service's settings with this dialog's values in place.
  ConnectionSettings values() const;
  // Saves to the settings file and applies thresholds and refresh rate.
  void apply();

 private:
  CoreService* service_;
  QDoubleSpinBox* hitRate_;
  QDoubleSpinBox* redisP99_;
  QDoubleSpinBox* sessionP99_;
  QDoubleSpinBox* dbP99_;
  QDoubleSpinBox* knowledgeP99_;
  QSpinBox* warnRatio_;
  QSpinBox* l1Entries_;
  QSpinBox* l1Megabytes_;
  QSpinBox* ttlEntry_;
  QSpinBox* ttlSession_;
  QSpinBox* ttlUser_;
  QSpinBox* ttlStats_;
  QSpinBox* ttlKnowledge_;
  QSpinBox* refreshMs_;
  QCheckBox* publish_;
};

}  // namespace tier::ui
