/// \file
/// The built-in deed table. Ioflo 2.0.3 registers 40 deed names (FLOSCRIPT.md §9.9); all are
/// known here so FloScript programs check, and each says whether Flo implements it.
#include "stdlib/builtins.h"

#include <cctype>

namespace flo::stdlib {

namespace {
constexpr DeedFamily G = DeedFamily::Generic;
constexpr DeedFamily D = DeedFamily::IofloDemo;
} // namespace

const std::vector<BuiltinDeed>& builtinDeeds() {
  static const std::vector<BuiltinDeed> table = {
      {"Doer", "doer", G, true, false, false,
       "does nothing; creates and binds the shares named by its per/for/via clauses"},
      {"DoerParam", "doer param", G, true, true, false,
       "as doer, with its ioinits passed as action parameters"},
      {"DoerSince", "doer since", G, true, false, false,
       "as doer, and records the time since it last ran"},
      {"DoerLapse", "doer lapse", G, true, false, true,
       "as doer, with a restart act on frame entry and the lapse since its last run"},
      {"Deed", "deed", G, true, false, false, "alias of doer"},
      {"DeedParam", "deed param", G, true, true, false, "alias of doer param"},
      {"DeedSince", "deed since", G, true, false, false, "alias of doer since"},
      {"DeedLapse", "deed lapse", G, true, false, true, "alias of doer lapse"},
      {"Arbiter", "arbiter", D, false, false, false, "Ioflo arbiter base"},
      {"ArbiterPriority", "arbiter priority", D, false, false, false, "Ioflo priority arbiter"},
      {"ArbiterSwitch", "arbiter switch", D, false, false, false, "Ioflo switch arbiter"},
      {"ArbiterTrusted", "arbiter trusted", D, false, false, false, "Ioflo trusted arbiter"},
      {"ArbiterWeighted", "arbiter weighted", D, false, false, false, "Ioflo weighted arbiter"},
      {"ControllerBase", "controller base", D, false, false, false, "Ioflo controller base"},
      {"ControllerPid", "controller pid", D, false, false, true, "Ioflo PID controller"},
      {"ControllerPidSpeed", "controller pid speed", D, false, false, true, "Ioflo speed PID"},
      {"ControllerPidHeading", "controller pid heading", D, false, false, true,
       "Ioflo heading PID"},
      {"ControllerPidDepth", "controller pid depth", D, false, false, true, "Ioflo depth PID"},
      {"ControllerPidPitch", "controller pid pitch", D, false, false, true, "Ioflo pitch PID"},
      {"DetectorBase", "detector base", D, false, false, false, "Ioflo detector base"},
      {"DetectorPositionBox", "detector position box", D, false, false, false,
       "Ioflo position-in-box detector"},
      {"EstimatorPositionNfl", "estimator position nfl", D, false, false, true,
       "Ioflo north-east position estimator"},
      {"FilterBase", "filter base", D, false, false, false, "Ioflo filter base"},
      {"FilterCtdMin", "filter ctd min", D, false, false, false, "Ioflo CTD minimum filter"},
      {"FilterSensorHeading", "filter sensor heading", D, false, false, false,
       "Ioflo heading sensor filter"},
      {"FilterSensorSalinity", "filter sensor salinity", D, false, false, false,
       "Ioflo salinity sensor filter"},
      {"FilterSensorSalinitysim", "filter sensor salinitysim", D, false, false, false,
       "Ioflo simulated salinity filter"},
      {"FilterSensorTemperature", "filter sensor temperature", D, false, false, false,
       "Ioflo temperature sensor filter"},
      {"FilterWindowed", "filter windowed", D, false, false, false, "Ioflo windowed filter"},
      {"SimulatorBase", "simulator base", D, false, false, true, "Ioflo simulator base"},
      {"SimulatorGradient", "simulator gradient", D, false, false, true, "Ioflo gradient model"},
      {"SimulatorGradientSalinity", "simulator gradient salinity", D, false, false, true,
       "Ioflo salinity gradient model"},
      {"SimulatorGradientTemperature", "simulator gradient temperature", D, false, false, true,
       "Ioflo temperature gradient model"},
      {"SimulatorMotionUsv", "simulator motion usv", D, false, false, true,
       "Ioflo surface vehicle motion model"},
      {"SimulatorMotionUuv", "simulator motion uuv", D, false, false, true,
       "Ioflo underwater vehicle motion model"},
      {"SimulatorSalinityLinear", "simulator salinity linear", D, false, false, true,
       "Ioflo linear salinity model"},
      {"SimulatorSalinitySinusoid", "simulator salinity sinusoid", D, false, false, true,
       "Ioflo sinusoidal salinity model"},
      {"SimulatorSensorCompass", "simulator sensor compass", D, false, false, true,
       "Ioflo compass model"},
      {"SimulatorSensorDvl", "simulator sensor dvl", D, false, false, true, "Ioflo DVL model"},
      {"SimulatorSensorGps", "simulator sensor gps", D, false, false, true, "Ioflo GPS model"},
  };
  return table;
}

const BuiltinDeed* findBuiltinDeed(std::string_view key) {
  for (const auto& d : builtinDeeds())
    if (d.key == key) return &d;
  return nullptr;
}

std::string registryKey(const std::vector<std::string>& parts) {
  std::string key;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    key += char(std::toupper(static_cast<unsigned char>(p[0])));
    key += p.substr(1);
  }
  return key;
}

const std::vector<std::string>& flowReducers() {
  static const std::vector<std::string> reducers = {"mean",  "sum",   "min",  "max",
                                                    "count", "first", "last", "median"};
  return reducers;
}

} // namespace flo::stdlib
