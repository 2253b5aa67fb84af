/*
 * An MQTT client over TLS-PSK set up the way an ESP32 sketch is: arduino-esp32's
 * WiFiClientSecure::setPreSharedKey() leads to mbedtls_ssl_config_defaults() with the default
 * preset and mbedtls_ssl_conf_psk(), TLS 1.2. The broker's tests build this with Debian's
 * mbedTLS (libmbedtls-dev) and run it against the broker's PSK listener.
 *
 * Usage: client HOST PORT IDENTITY HEXKEY CLIENT_ID [USER PASSWORD]
 * Prints "CONNACK <code> <ciphersuite> <version>"; exits 0 for CONNACK 0, 2 for another code,
 * 1 when the connection or the TLS handshake fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/ssl.h"

static int hex_to_bytes(const char *hex, unsigned char *out, size_t max, size_t *len) {
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > max) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) return -1;
        out[i] = (unsigned char)byte;
    }
    *len = n / 2;
    return 0;
}

/* Appends a two-byte length and the string, as MQTT encodes strings. */
static size_t put_string(unsigned char *p, const char *s) {
    size_t n = strlen(s);
    p[0] = (unsigned char)(n >> 8);
    p[1] = (unsigned char)(n & 0xFF);
    memcpy(p + 2, s, n);
    return n + 2;
}

static int fail(const char *what, int ret) {
    char text[200];
    mbedtls_strerror(ret, text, sizeof text);
    printf("FAILED %s: -0x%04x %s\n", what, (unsigned int)-ret, text);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 8) {
        fprintf(stderr, "usage: %s HOST PORT IDENTITY HEXKEY CLIENT_ID [USER PASSWORD]\n", argv[0]);
        return 64;
    }
    unsigned char psk[64];
    size_t psk_len;
    if (hex_to_bytes(argv[4], psk, sizeof psk, &psk_len) != 0) {
        fprintf(stderr, "the key must be an even number of hex digits, at most 64 (the ESP32 limit)\n");
        return 64;
    }

    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);

    int ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)"esp32", 5);
    if (ret != 0) return fail("seed", ret);
    if ((ret = mbedtls_net_connect(&net, argv[1], argv[2], MBEDTLS_NET_PROTO_TCP)) != 0) return fail("connect", ret);
    ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) return fail("config", ret);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    ret = mbedtls_ssl_conf_psk(&conf, psk, psk_len, (const unsigned char *)argv[3], strlen(argv[3]));
    if (ret != 0) return fail("psk", ret);
    if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0) return fail("setup", ret);
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, NULL);
    while ((ret = mbedtls_ssl_handshake(&ssl)) != 0) {
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) return fail("handshake", ret);
    }

    /* CONNECT, MQTT 3.1.1, clean session, keepalive 15 s as PubSubClient's default. */
    unsigned char packet[512];
    size_t n = 2;
    n += put_string(packet + n, "MQTT");
    packet[n++] = 4;
    unsigned char flags = 0x02;
    if (argc == 8) flags |= 0xC0;
    packet[n++] = flags;
    packet[n++] = 0;
    packet[n++] = 15;
    n += put_string(packet + n, argv[5]);
    if (argc == 8) {
        n += put_string(packet + n, argv[6]);
        n += put_string(packet + n, argv[7]);
    }
    if (n - 2 > 127) {
        fprintf(stderr, "arguments too long for this small client\n");
        return 64;
    }
    packet[0] = 0x10;
    packet[1] = (unsigned char)(n - 2);
    for (size_t sent = 0; sent < n;) {
        ret = mbedtls_ssl_write(&ssl, packet + sent, n - sent);
        if (ret < 0) return fail("write", ret);
        sent += (size_t)ret;
    }
    unsigned char ack[4];
    for (size_t got = 0; got < sizeof ack;) {
        ret = mbedtls_ssl_read(&ssl, ack + got, sizeof ack - got);
        if (ret <= 0) return fail("read", ret == 0 ? MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY : ret);
        got += (size_t)ret;
    }
    if (ack[0] != 0x20 || ack[1] != 2) {
        printf("FAILED not a CONNACK: %02x %02x\n", ack[0], ack[1]);
        return 1;
    }
    printf("CONNACK %d %s %s\n", ack[3], mbedtls_ssl_get_ciphersuite(&ssl), mbedtls_ssl_get_version(&ssl));
    mbedtls_ssl_close_notify(&ssl);
    mbedtls_net_free(&net);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return ack[3] == 0 ? 0 : 2;
}
