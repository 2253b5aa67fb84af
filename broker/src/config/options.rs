//! Every option of Mosquitto 2.0's mosquitto.conf, so that an option we do not implement yet is
//! a clear startup error instead of being silently ignored or called unknown.

/// Options of Mosquitto 2.0 (mosquitto.conf(5)), general, listener and bridge sections.
const MOSQUITTO_OPTIONS: &[&str] = &[
    // General
    "acl_file",
    "allow_anonymous",
    "allow_duplicate_messages",
    "allow_zero_length_clientid",
    "auth_plugin",
    "auth_plugin_deny_special_chars",
    "auto_id_prefix",
    "autosave_interval",
    "autosave_on_changes",
    "check_retain_source",
    "clientid_prefixes",
    "connection_messages",
    "include_dir",
    "log_dest",
    "log_facility",
    "log_timestamp",
    "log_timestamp_format",
    "log_type",
    "max_inflight_bytes",
    "max_inflight_messages",
    "max_keepalive",
    "max_packet_size",
    "max_queued_bytes",
    "max_queued_messages",
    "memory_limit",
    "message_size_limit",
    "password_file",
    "per_listener_settings",
    "persistence",
    "persistence_file",
    "persistence_location",
    "persistent_client_expiration",
    "pid_file",
    "plugin",
    "psk_file",
    "queue_qos0_messages",
    "retain_available",
    "retry_interval",
    "set_tcp_nodelay",
    "store_clean_interval",
    "sys_interval",
    "upgrade_outgoing_qos",
    "user",
    "websockets_log_level",
    "websockets_headers_size",
    // Listeners
    "bind_address",
    "bind_interface",
    "http_dir",
    "listener",
    "max_connections",
    "max_qos",
    "max_topic_alias",
    "mount_point",
    "port",
    "protocol",
    "socket_domain",
    "use_username_as_clientid",
    "cafile",
    "capath",
    "certfile",
    "ciphers",
    "ciphers_tls1.3",
    "crlfile",
    "dhparamfile",
    "keyfile",
    "require_certificate",
    "tls_engine",
    "tls_engine_kpass_sha1",
    "tls_keyform",
    "tls_version",
    "use_identity_as_username",
    "use_subject_as_username",
    "psk_hint",
    // Bridges
    "connection",
    "address",
    "addresses",
    "bridge_alpn",
    "bridge_attempt_unsubscribe",
    "bridge_bind_address",
    "bridge_cafile",
    "bridge_capath",
    "bridge_certfile",
    "bridge_identity",
    "bridge_insecure",
    "bridge_keyfile",
    "bridge_max_packet_size",
    "bridge_outgoing_retain",
    "bridge_protocol_version",
    "bridge_psk",
    "bridge_require_ocsp",
    "bridge_tls_version",
    "cleansession",
    "clientid",
    "idle_timeout",
    "keepalive_interval",
    "local_cleansession",
    "local_clientid",
    "local_password",
    "local_username",
    "notifications",
    "notifications_local_only",
    "notification_topic",
    "password",
    "remote_clientid",
    "remote_password",
    "remote_username",
    "restart_timeout",
    "round_robin",
    "start_type",
    "threshold",
    "topic",
    "try_private",
    "username",
];

/// Prefixes of option families (`auth_opt_db_host`, `plugin_opt_...`).
const MOSQUITTO_PREFIXES: &[&str] = &["auth_opt_", "plugin_opt_"];

/// Whether Mosquitto 2.0 knows this option.
pub fn is_mosquitto_option(name: &str) -> bool {
    MOSQUITTO_OPTIONS.contains(&name) || MOSQUITTO_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Options that Mosquitto 2.0 reads but that have no effect there either.
pub const DEPRECATED_NO_EFFECT: &[&str] = &["allow_duplicate_messages", "retry_interval", "store_clean_interval"];

/// What to use instead of Mosquitto's plugin options: they load C shared libraries (the
/// `mosquitto_auth_plugin` interface), which a Rust broker cannot call, so the error says which
/// of our own options covers what such plugins are mostly used for.
const PLUGIN_INSTEAD: &str = "this broker cannot load Mosquitto plugins (C shared libraries); \
     for user names and passwords use password_file (made with mosquitto_passwd), for topic access \
     use acl_file, and for TLS-PSK identities use psk_file";

/// What to use instead of an OpenSSL engine (a hardware key store behind OpenSSL's ENGINE
/// interface): this broker's certificate TLS is rustls, which loads keys from PEM files only.
const ENGINE_INSTEAD: &str = "hardware (OpenSSL engine) keys are not supported; export the key to a PEM file and name it with keyfile (and leave out tls_engine, tls_keyform engine and tls_engine_kpass_sha1)";

/// Why an option Mosquitto knows is refused, for the error message: what to use instead where
/// the option cannot make sense here, otherwise that it is not implemented yet.
pub fn planned_for(name: &str) -> &'static str {
    let plugin = matches!(name, "plugin" | "auth_plugin") || MOSQUITTO_PREFIXES.iter().any(|p| name.starts_with(p));
    if plugin {
        PLUGIN_INSTEAD
    } else if matches!(name, "tls_engine" | "tls_engine_kpass_sha1" | "tls_keyform") {
        ENGINE_INSTEAD
    } else {
        "it is not implemented yet"
    }
}
