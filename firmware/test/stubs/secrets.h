// Test values for the compile check (the real secrets.h is the student's and git-ignored).
#pragma once
#define WIFI_SSID "test"
#define WIFI_PASSWORD "test"
#define MQTT_USERNAME "btsiot1"
#define MQTT_PASSWORD "btsiotpass1"
#define MQTT_PSK_IDENTITY "btsiot1"
#define MQTT_PSK_KEY "0123456789abcdef0123"
