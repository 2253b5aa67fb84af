// Settings of the lamp: change them here. Secrets (WiFi and MQTT passwords, the PSK key) go in
// secrets.h, which git ignores: copy secrets.example.h to secrets.h and fill it in.
#pragma once

// The broker: the Raspberry Pi's address, or the computer running MQTT Lab's built-in broker.
#define MQTT_SERVER "192.168.1.50"
// 1883 plain MQTT; 8883 with TLS-PSK (set MQTT_USE_PSK to 1 below).
#define MQTT_PORT 1883
// 1: TLS-PSK with the identity and key of secrets.h (mosquitto.conf: psk_hint, psk_file).
#ifndef MQTT_USE_PSK
#define MQTT_USE_PSK 0
#endif
// Must start with the broker's clientid_prefixes (btsiot- in the course).
#define MQTT_CLIENT_ID "btsiot-lamp1"
#define MQTT_CLIENT_ID_PREFIX "btsiot-"

// The light sensor: the photo-resistor's voltage divider on an ADC1 pin (ADC2 stops working
// while WiFi is on), and the raw readings measured in the dark and in full light.
#define LDR_PIN 34
#define LDR_DARK_RAW 300
#define LDR_BRIGHT_RAW 3800

// The 12 V LED strip, through the BUZ11's gate, on a PWM-capable pin.
#define LED_PIN 25
#define LED_PWM_FREQUENCY_HZ 5000
#define LED_PWM_RESOLUTION_BITS 8
