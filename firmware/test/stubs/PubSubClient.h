// See Arduino.h: the PubSubClient 2.8 methods the sketch calls, declarations only.
#pragma once
#include <functional>

#include "WiFi.h"

class PubSubClient {
 public:
  explicit PubSubClient(Client &client);
  PubSubClient &setServer(const char *domain, std::uint16_t port);
  PubSubClient &setCallback(std::function<void(char *, std::uint8_t *, unsigned int)> callback);
  bool connect(const char *id);
  bool connect(const char *id, const char *user, const char *pass);
  bool connected();
  bool loop();
  bool publish(const char *topic, const char *payload);
  bool publish(const char *topic, const char *payload, bool retained);
  bool subscribe(const char *topic, std::uint8_t qos);
  int state();
};
