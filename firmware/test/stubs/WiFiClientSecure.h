// See Arduino.h: declarations only.
#pragma once
#include "WiFi.h"

class WiFiClientSecure : public WiFiClient {
 public:
  void setPreSharedKey(const char *identity, const char *psk);
};
