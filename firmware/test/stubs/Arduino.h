// Declarations of the Arduino-ESP32 API the sketch uses, so that tests/firmware.rs can check that
// mqtt_lab_lamp.ino compiles (syntax and types only: nothing here runs). Not the real core.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstring>

typedef std::uint8_t byte;

struct HardwareSerial {
  void begin(unsigned long baud);
  void print(const char *text);
  void println(const char *text);
  int printf(const char *format, ...);
};
extern HardwareSerial Serial;

unsigned long millis();
int analogRead(std::uint8_t pin);
void analogReadResolution(std::uint8_t bits);
#if ESP_ARDUINO_VERSION_MAJOR >= 3
bool ledcAttach(std::uint8_t pin, std::uint32_t freq, std::uint8_t resolution);
bool ledcWrite(std::uint8_t pin, std::uint32_t duty);
#else
std::uint32_t ledcSetup(std::uint8_t channel, std::uint32_t freq, std::uint8_t resolution);
void ledcAttachPin(std::uint8_t pin, std::uint8_t channel);
void ledcWrite(std::uint8_t channel, std::uint32_t duty);
#endif
