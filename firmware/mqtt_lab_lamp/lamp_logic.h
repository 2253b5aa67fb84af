// The lamp's logic, free of Arduino headers so that it compiles and is unit-tested on a PC
// (firmware/test, run by `cargo test`). The sketch (mqtt_lab_lamp.ino) is the thin device
// adapter: it reads the ADC, drives the PWM, talks WiFi and MQTT, and asks this code what to do.
// Times are passed in as now_ms (millis() on the device), never read here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lamp {

// The topics of the course's schema (assets/schema/topics.json).
constexpr const char *kTopicLuminosity = "lamp/luminosity";  // published: luminosity JSON
constexpr const char *kTopicCommand = "lamp/cmd";           // subscribed: {"control":"PWM",...}
constexpr const char *kTopicState = "lamp/state";           // published, retained: what was applied

// ADC readings of the light sensor's voltage divider in the dark and in full light (measured by
// the student). Either may be the larger one, depending on how the divider is wired.
struct Calibration {
  int dark_raw;
  int bright_raw;
};

// A 12-bit ADC reading mapped to 0-100 % between the calibration points, clamped.
double luminosity_percent(int raw, Calibration calibration);

// {"sensor":"ldr","value":63.5,"unit":"%","raw":2601}: the value rounded to a tenth.
std::string luminosity_payload(double percent, int raw);

// {"control":"PWM","value":50,"unit":"%"}: what the lamp applied, published on kTopicState.
std::string state_payload(double percent);

// Reads an LED command. Accepts exactly {"control":"PWM","value":<0-100>,"unit":"%"} in any key
// order with any spacing; anything else is refused with a reason in `error`.
bool parse_command(const char *payload, std::size_t length, double &percent, std::string &error);

// The duty cycle for ledc at `resolution_bits` (8: 0-255) for a brightness in %.
std::uint32_t pwm_duty(double percent, int resolution_bits);

// A client id must start with the broker's clientid_prefixes value (e.g. "btsiot-").
bool has_prefix(const char *client_id, const char *prefix);

// Something to do every `interval_ms`: the first time at once, then after each interval.
// Safe across millis() wrapping after 49 days (unsigned arithmetic).
class Every {
 public:
  explicit Every(std::uint32_t interval_ms) : interval_ms_(interval_ms) {}
  // True when it is time; the next time is then interval_ms later.
  bool due(std::uint32_t now_ms);
  // Starts the wait again from now (e.g. after connecting, so the next retry waits).
  void restart(std::uint32_t now_ms);

 private:
  std::uint32_t interval_ms_;
  std::uint32_t last_ms_ = 0;
  bool started_ = false;
};

// The course's non-blocking reconnect: one attempt, then one every 5 s while disconnected.
constexpr std::uint32_t kReconnectEveryMs = 5000;
// Luminosity is published every few seconds.
constexpr std::uint32_t kPublishEveryMs = 3000;

}  // namespace lamp
