//! CONNACK return codes in words, with the hints students need.

/// Explains a CONNACK return code of MQTT 3.1.1; `prefix_in_play` adds the client id prefix hint
/// for the codes Mosquitto answers when the id lacks it.
pub fn explain_connack(code: u8, prefix_in_play: bool) -> String {
    let text = match code {
        0 => "Connection accepted.".to_owned(),
        1 => "Refused (1): the broker does not support this MQTT protocol version; try MQTT 3.1.1.".to_owned(),
        2 => "Refused (2): the broker rejected the client id.".to_owned(),
        3 => "Refused (3): the MQTT service on the broker is unavailable.".to_owned(),
        4 => "Refused (4): bad user name or password.".to_owned(),
        5 => "Refused (5): not authorised. Mosquitto answers 5 for a wrong user name or password, for anonymous access when allow_anonymous is false, and for a client id without the required prefix.".to_owned(),
        other => format!("Refused ({other}): a reserved return code; the broker does not follow MQTT 3.1.1."),
    };
    if (code == 2 || code == 5) && prefix_in_play {
        format!("{text} The broker may require a client id prefix (clientid_prefixes): check the client id.")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_explained_and_the_prefix_hint_appears_for_2_and_5() {
        for code in 0..=5 {
            assert!(explain_connack(code, false).contains(&format!("({code})")) || code == 0);
        }
        assert!(explain_connack(5, true).contains("client id prefix"));
        assert!(explain_connack(2, true).contains("client id prefix"));
        assert!(!explain_connack(4, true).contains("prefix"));
        assert!(explain_connack(9, false).contains("reserved"));
    }
}
