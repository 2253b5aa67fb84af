// See Arduino.h: declarations only.
#pragma once
#include "Arduino.h"

enum wl_status_t { WL_IDLE_STATUS = 0, WL_CONNECTED = 3 };

class Client {
 public:
  virtual ~Client() = default;
};
class WiFiClient : public Client {};

struct WiFiClass {
  wl_status_t begin(const char *ssid, const char *password);
  wl_status_t status();
};
extern WiFiClass WiFi;
