// Copy this file to secrets.h (git ignores it) and fill it in. Never commit secrets.h.
#pragma once

#define WIFI_SSID "myssid"
#define WIFI_PASSWORD "mypass"

// The broker's password file user (mosquitto_passwd); leave both empty for anonymous access.
#define MQTT_USERNAME "btsiot1"
#define MQTT_PASSWORD "btsiotpass1"

// TLS-PSK (only with MQTT_USE_PSK 1): a line of the broker's psk_file, identity:hexkey.
#define MQTT_PSK_IDENTITY "btsiot1"
#define MQTT_PSK_KEY "0123456789abcdef0123"
