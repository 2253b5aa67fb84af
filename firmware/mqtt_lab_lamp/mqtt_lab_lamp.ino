// MQTT Lab's course lamp: an ESP32 with a light sensor and a 12 V LED strip.
//
// - Publishes the luminosity every 3 s on lamp/luminosity:
//     {"sensor":"ldr","value":63.5,"unit":"%","raw":2601}
// - Dims the strip on lamp/cmd: {"control":"PWM","value":50,"unit":"%"}, and reports what it
//   applied on lamp/state (retained). A command that breaks the schema is refused on Serial.
// - Reconnects without blocking: one attempt every 5 s while the broker is away.
//
// The logic (payloads, command parsing, ADC and PWM mapping, timing) is in lamp_logic.cpp and is
// unit-tested on a PC; this file only connects it to the hardware. Settings: config.h; secrets:
// secrets.h (copy secrets.example.h).
#include <PubSubClient.h>
#include <WiFi.h>
#include <WiFiClientSecure.h>

#include "config.h"
#include "lamp_logic.h"

#if __has_include("secrets.h")
#include "secrets.h"
#else
#error "Copy secrets.example.h to secrets.h and fill in your WiFi and broker settings."
#endif

#if MQTT_USE_PSK
WiFiClientSecure net;
#else
WiFiClient net;
#endif
PubSubClient mqtt(net);

lamp::Every reconnect_timer(lamp::kReconnectEveryMs);
lamp::Every publish_timer(lamp::kPublishEveryMs);
const lamp::Calibration calibration{LDR_DARK_RAW, LDR_BRIGHT_RAW};
double brightness = 0.0;  // % applied to the strip

// The ledc API changed with Arduino-ESP32 3.0 (pins instead of channels): both are supported.
#if defined(ESP_ARDUINO_VERSION_MAJOR) && ESP_ARDUINO_VERSION_MAJOR >= 3
void pwm_begin() { ledcAttach(LED_PIN, LED_PWM_FREQUENCY_HZ, LED_PWM_RESOLUTION_BITS); }
void pwm_write(uint32_t duty) { ledcWrite(LED_PIN, duty); }
#else
const int kLedChannel = 0;
void pwm_begin() {
  ledcSetup(kLedChannel, LED_PWM_FREQUENCY_HZ, LED_PWM_RESOLUTION_BITS);
  ledcAttachPin(LED_PIN, kLedChannel);
}
void pwm_write(uint32_t duty) { ledcWrite(kLedChannel, duty); }
#endif

void apply_brightness(double percent) {
  brightness = percent;
  pwm_write(lamp::pwm_duty(percent, LED_PWM_RESOLUTION_BITS));
  std::string state = lamp::state_payload(percent);
  mqtt.publish(lamp::kTopicState, state.c_str(), true);
}

void on_message(char *topic, byte *payload, unsigned int length) {
  if (strcmp(topic, lamp::kTopicCommand) != 0) return;
  double percent = 0.0;
  std::string error;
  if (lamp::parse_command(reinterpret_cast<const char *>(payload), length, percent, error)) {
    Serial.printf("LED command: %.2f %%\n", percent);
    apply_brightness(percent);
  } else {
    Serial.printf("LED command refused: %s\n", error.c_str());
  }
}

// One connection attempt (never blocks for long): the course's mqtt_reconnect_once().
bool mqtt_reconnect_once() {
  Serial.print("MQTT connection to " MQTT_SERVER "... ");
  bool ok = strlen(MQTT_USERNAME) > 0 ? mqtt.connect(MQTT_CLIENT_ID, MQTT_USERNAME, MQTT_PASSWORD)
                                       : mqtt.connect(MQTT_CLIENT_ID);
  if (ok) {
    Serial.println("connected");
    mqtt.subscribe(lamp::kTopicCommand, 1);
    apply_brightness(brightness);
  } else {
    // 4: bad user name or password; 5: not authorised (wrong client id prefix?).
    Serial.printf("failed, rc=%d, next try in 5 s\n", mqtt.state());
  }
  return mqtt.connected();
}

void setup() {
  Serial.begin(115200);
  if (!lamp::has_prefix(MQTT_CLIENT_ID, MQTT_CLIENT_ID_PREFIX)) {
    Serial.println("MQTT_CLIENT_ID does not start with MQTT_CLIENT_ID_PREFIX: the broker will refuse it.");
  }
  pwm_begin();
  analogReadResolution(12);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
#if MQTT_USE_PSK
  net.setPreSharedKey(MQTT_PSK_IDENTITY, MQTT_PSK_KEY);
#endif
  mqtt.setServer(MQTT_SERVER, MQTT_PORT);
  mqtt.setCallback(on_message);
}

void loop() {
  uint32_t now = millis();
  if (WiFi.status() != WL_CONNECTED) return;  // the WiFi stack reconnects by itself
  if (!mqtt.connected()) {
    if (reconnect_timer.due(now)) mqtt_reconnect_once();
    return;
  }
  mqtt.loop();
  if (publish_timer.due(now)) {
    int raw = analogRead(LDR_PIN);
    std::string payload = lamp::luminosity_payload(lamp::luminosity_percent(raw, calibration), raw);
    mqtt.publish(lamp::kTopicLuminosity, payload.c_str());
  }
}
