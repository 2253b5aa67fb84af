// Host tests of the lamp's logic, with a small harness of our own. Run by `cargo test`
// (tests/firmware.rs builds this with g++), which also uses the modes below to compare the
// firmware's payloads with the app's.
//
//   lamp_tests test FIXTURES_DIR      unit tests + the golden fixtures of the LED command
//   lamp_tests parse-command FILE     prints the value, or "error: ..." (exit 1)
//   lamp_tests luminosity RAW DARK BRIGHT   prints the payload
//   lamp_tests state PERCENT          prints the lamp/state payload
//   lamp_tests topics                 prints the topics
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "lamp_logic.h"

namespace {

int failures = 0;
int checks = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    ++checks;                                                                    \
    if (!(cond)) {                                                               \
      ++failures;                                                                \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                            \
  } while (0)

#define CHECK_EQ(a, b)                                                                       \
  do {                                                                                       \
    ++checks;                                                                                \
    auto va = (a);                                                                           \
    auto vb = (b);                                                                           \
    if (!(va == vb)) {                                                                       \
      ++failures;                                                                            \
      std::cerr << __FILE__ << ":" << __LINE__ << ": " #a " == " #b " failed: " << va << " vs " << vb << "\n"; \
    }                                                                                        \
  } while (0)

std::string read_file(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool parse(const std::string &text, double &value, std::string &error) {
  return lamp::parse_command(text.data(), text.size(), value, error);
}

void test_adc_mapping() {
  lamp::Calibration c{300, 3800};
  CHECK_EQ(lamp::luminosity_percent(300, c), 0.0);
  CHECK_EQ(lamp::luminosity_percent(3800, c), 100.0);
  CHECK_EQ(lamp::luminosity_percent(2050, c), 50.0);
  CHECK_EQ(lamp::luminosity_percent(0, c), 0.0);       // darker than calibrated: clamped
  CHECK_EQ(lamp::luminosity_percent(4095, c), 100.0);  // brighter: clamped
  lamp::Calibration inverted{3800, 300};                // divider wired the other way round
  CHECK_EQ(lamp::luminosity_percent(300, inverted), 100.0);
  CHECK_EQ(lamp::luminosity_percent(3800, inverted), 0.0);
  CHECK_EQ(lamp::luminosity_percent(1000, lamp::Calibration{500, 500}), 0.0);  // not calibrated
}

void test_payloads() {
  CHECK_EQ(lamp::luminosity_payload(63.54, 2601), std::string("{\"sensor\":\"ldr\",\"value\":63.5,\"unit\":\"%\",\"raw\":2601}"));
  CHECK_EQ(lamp::luminosity_payload(100.0, 4095), std::string("{\"sensor\":\"ldr\",\"value\":100,\"unit\":\"%\",\"raw\":4095}"));
  CHECK_EQ(lamp::luminosity_payload(0.04, -1), std::string("{\"sensor\":\"ldr\",\"value\":0,\"unit\":\"%\"}"));
  CHECK_EQ(lamp::state_payload(50.0), std::string("{\"control\":\"PWM\",\"value\":50,\"unit\":\"%\"}"));
  CHECK_EQ(lamp::state_payload(12.5), std::string("{\"control\":\"PWM\",\"value\":12.5,\"unit\":\"%\"}"));
}

void test_commands() {
  double v = -1;
  std::string error;
  CHECK(parse("{\"control\":\"PWM\",\"value\":50,\"unit\":\"%\"}", v, error));
  CHECK_EQ(v, 50.0);
  CHECK(parse(" { \"unit\" : \"%\" , \"value\" : 1.5e1 , \"control\" : \"PWM\" } ", v, error));
  CHECK_EQ(v, 15.0);
  CHECK(!parse("{\"control\":\"PWM\",\"value\":50,\"unit\":\"%\",\"value\":60}", v, error));
  CHECK_EQ(error, std::string("value appears twice"));
  CHECK(!parse("{\"control\":\"PWM\",\"value\":101,\"unit\":\"%\"}", v, error));
  CHECK_EQ(error, std::string("value must be within 0 to 100 %"));
  CHECK(!parse("{\"control\":\"PWM\",\"value\":\"50\",\"unit\":\"%\"}", v, error));
  CHECK_EQ(error, std::string("value must be a number"));
  CHECK(!parse("{\"control\":\"PWM\",\"value\":50,\"unit\":\"%\"} x", v, error));
  CHECK(!parse("{\"control\":\"PWM\",\"value\":.5,\"unit\":\"%\"}", v, error));
  CHECK(!parse("", v, error));
  CHECK(!parse("{}", v, error));
  CHECK_EQ(error, std::string("control, value and unit are required"));
  // Payloads from the network are not NUL-terminated: only `length` bytes are read.
  const char raw[] = "{\"control\":\"PWM\",\"value\":7,\"unit\":\"%\"}GARBAGE";
  CHECK(lamp::parse_command(raw, std::strlen(raw) - 7, v, error));
  CHECK_EQ(v, 7.0);
}

void test_pwm() {
  CHECK_EQ(lamp::pwm_duty(0.0, 8), 0u);
  CHECK_EQ(lamp::pwm_duty(100.0, 8), 255u);
  CHECK_EQ(lamp::pwm_duty(50.0, 8), 128u);
  CHECK_EQ(lamp::pwm_duty(50.0, 10), 512u);
  CHECK_EQ(lamp::pwm_duty(-3.0, 8), 0u);
  CHECK_EQ(lamp::pwm_duty(150.0, 8), 255u);
}

void test_timing() {
  lamp::Every reconnect(lamp::kReconnectEveryMs);
  CHECK(reconnect.due(1000));   // the first attempt at once
  CHECK(!reconnect.due(1001));
  CHECK(!reconnect.due(5999));
  CHECK(reconnect.due(6000));   // then every 5 s
  CHECK(!reconnect.due(10999));
  CHECK(reconnect.due(11000));
  lamp::Every wraps(5000);
  CHECK(wraps.due(0xFFFFF000u));  // 49.7 days after boot millis() wraps to 0
  CHECK(!wraps.due(0x00000387u));  // 4999 ms later, across the wrap
  CHECK(wraps.due(0x00000388u));   // 5000 ms after 0xFFFFF000
  lamp::Every publish(lamp::kPublishEveryMs);
  publish.restart(100);
  CHECK(!publish.due(100));
  CHECK(publish.due(3100));
}

void test_client_id() {
  CHECK(lamp::has_prefix("btsiot-lamp1", "btsiot-"));
  CHECK(!lamp::has_prefix("lamp1", "btsiot-"));
  CHECK(lamp::has_prefix("anything", ""));
}

void test_fixtures(const std::filesystem::path &dir) {
  int seen = 0;
  for (const char *validity : {"valid", "invalid"}) {
    for (const auto &entry : std::filesystem::directory_iterator(dir / "led-command" / validity)) {
      std::string text = read_file(entry.path());
      double v = -1;
      std::string error;
      bool ok = parse(text, v, error);
      ++seen;
      ++checks;
      if (ok != (std::strcmp(validity, "valid") == 0)) {
        ++failures;
        std::cerr << entry.path() << ": expected " << validity << ", got " << (ok ? "accepted" : error) << "\n";
      }
    }
  }
  CHECK(seen >= 8);
}

}  // namespace

int main(int argc, char **argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "test" && argc == 3) {
    test_adc_mapping();
    test_payloads();
    test_commands();
    test_pwm();
    test_timing();
    test_client_id();
    test_fixtures(argv[2]);
    std::printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
  }
  if (mode == "parse-command" && argc == 3) {
    std::string text = read_file(argv[2]);
    double v = 0;
    std::string error;
    if (!parse(text, v, error)) {
      std::printf("error: %s\n", error.c_str());
      return 1;
    }
    std::printf("%.17g\n", v);
    return 0;
  }
  if (mode == "luminosity" && argc == 5) {
    int raw = std::atoi(argv[2]);
    lamp::Calibration c{std::atoi(argv[3]), std::atoi(argv[4])};
    std::printf("%s\n", lamp::luminosity_payload(lamp::luminosity_percent(raw, c), raw).c_str());
    return 0;
  }
  if (mode == "state" && argc == 3) {
    std::printf("%s\n", lamp::state_payload(std::strtod(argv[2], nullptr)).c_str());
    return 0;
  }
  if (mode == "topics") {
    std::printf("%s\n%s\n%s\n", lamp::kTopicLuminosity, lamp::kTopicCommand, lamp::kTopicState);
    return 0;
  }
  std::fprintf(stderr, "usage: lamp_tests test FIXTURES_DIR | parse-command FILE | luminosity RAW DARK BRIGHT | state PERCENT | topics\n");
  return 2;
}
