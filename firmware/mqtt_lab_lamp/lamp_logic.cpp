// See lamp_logic.h. Plain C++17: no Arduino headers, no allocation beyond std::string.
#include "lamp_logic.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lamp {

namespace {

// A number as the app prints it: rounded to `decimals` (1 or 2), without trailing zeros.
std::string number_text(double v, int decimals) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
  std::string text(buffer);
  if (text.find('.') != std::string::npos) {
    while (!text.empty() && text.back() == '0') text.pop_back();
    if (!text.empty() && text.back() == '.') text.pop_back();
  }
  if (text == "-0") text = "0";
  return text;
}

// A tiny reader for one flat JSON object whose values are strings or numbers.
class Reader {
 public:
  Reader(const char *p, std::size_t n) : p_(p), end_(p + n) {}

  void space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool eat(char c) {
    space();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool at_end() {
    space();
    return p_ == end_;
  }
  bool peek_string() {
    space();
    return p_ < end_ && *p_ == '"';
  }
  // A string without escapes (the schema's values have none).
  bool string(std::string &out) {
    if (!eat('"')) return false;
    out.clear();
    while (p_ < end_ && *p_ != '"') {
      if (*p_ == '\\' || static_cast<unsigned char>(*p_) < 0x20) return false;
      out.push_back(*p_++);
    }
    return eat('"');
  }
  // A JSON number: -?int(.digits)?([eE][+-]?digits)?
  bool number(double &out) {
    space();
    const char *start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    std::string text(start, p_);
    out = std::strtod(text.c_str(), nullptr);
    return std::isfinite(out);
  }

 private:
  const char *p_;
  const char *end_;
};

}  // namespace

double luminosity_percent(int raw, Calibration c) {
  if (c.bright_raw == c.dark_raw) return 0.0;
  double percent = 100.0 * (raw - c.dark_raw) / static_cast<double>(c.bright_raw - c.dark_raw);
  if (percent < 0.0) return 0.0;
  if (percent > 100.0) return 100.0;
  return percent;
}

std::string luminosity_payload(double percent, int raw) {
  double tenths = std::round(percent * 10.0) / 10.0;
  std::string payload = "{\"sensor\":\"ldr\",\"value\":" + number_text(tenths, 1) + ",\"unit\":\"%\"";
  if (raw >= 0) payload += ",\"raw\":" + std::to_string(raw);
  return payload + "}";
}

std::string state_payload(double percent) {
  return "{\"control\":\"PWM\",\"value\":" + number_text(percent, 2) + ",\"unit\":\"%\"}";
}

bool parse_command(const char *payload, std::size_t length, double &percent, std::string &error) {
  Reader r(payload, length);
  if (!r.eat('{')) {
    error = "not a JSON object";
    return false;
  }
  bool has_control = false, has_value = false, has_unit = false;
  double value = 0.0;
  if (!r.eat('}')) {
    do {
      std::string key;
      if (!r.string(key) || !r.eat(':')) {
        error = "broken JSON: a key and ':' expected";
        return false;
      }
      if (key == "control" || key == "unit") {
        std::string text;
        if (!r.string(text)) {
          error = key + " must be a string";
          return false;
        }
        bool &seen = key == "control" ? has_control : has_unit;
        if (seen) {
          error = key + " appears twice";
          return false;
        }
        seen = true;
        if (key == "control" && text != "PWM") {
          error = "control must be \"PWM\", not \"" + text + "\"";
          return false;
        }
        if (key == "unit" && text != "%") {
          error = "unit must be \"%\", not \"" + text + "\"";
          return false;
        }
      } else if (key == "value") {
        if (r.peek_string() || !r.number(value)) {
          error = "value must be a number";
          return false;
        }
        if (has_value) {
          error = "value appears twice";
          return false;
        }
        has_value = true;
      } else {
        error = "unknown key \"" + key + "\"";
        return false;
      }
    } while (r.eat(','));
    if (!r.eat('}')) {
      error = "broken JSON: ',' or '}' expected";
      return false;
    }
  }
  if (!r.at_end()) {
    error = "text after the JSON object";
    return false;
  }
  if (!has_control || !has_value || !has_unit) {
    error = "control, value and unit are required";
    return false;
  }
  if (value < 0.0 || value > 100.0) {
    error = "value must be within 0 to 100 %";
    return false;
  }
  percent = value;
  return true;
}

std::uint32_t pwm_duty(double percent, int resolution_bits) {
  if (percent <= 0.0) return 0;
  std::uint32_t full = (1u << resolution_bits) - 1u;
  if (percent >= 100.0) return full;
  return static_cast<std::uint32_t>(std::lround(percent / 100.0 * full));
}

bool has_prefix(const char *client_id, const char *prefix) {
  return std::strncmp(client_id, prefix, std::strlen(prefix)) == 0;
}

bool Every::due(std::uint32_t now_ms) {
  if (started_ && now_ms - last_ms_ < interval_ms_) return false;
  started_ = true;
  last_ms_ = now_ms;
  return true;
}

void Every::restart(std::uint32_t now_ms) {
  started_ = true;
  last_ms_ = now_ms;
}

}  // namespace lamp
