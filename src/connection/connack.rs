//! CONNACK return codes in words, with the hints students need.

/// Explains a CONNACK return code of MQTT 3.1.1; `prefix_in_play` adds the client id prefix hint
/// to code 2. Code 5 always names its two causes (a wrong password, a missing prefix) and how to
/// tell them apart: Mosquitto answers both with 5.
pub fn explain_connack(code: u8, prefix_in_play: bool) -> String {
    let text = match code {
        0 => "Connection accepted.".to_owned(),
        1 => "Refused (1): the broker does not support this MQTT protocol version; try MQTT 3.1.1.".to_owned(),
        2 => "Refused (2): the broker rejected the client id.".to_owned(),
        3 => "Refused (3): the MQTT service on the broker is unavailable.".to_owned(),
        4 => "Refused (4): bad user name or password.".to_owned(),
        5 => "Refused (5): not authorised. Mosquitto gives this one answer to two different mistakes: either \
               the user name or password is wrong (or missing, when the broker refuses anonymous clients), or \
               the client id lacks the broker's required client id prefix (clientid_prefixes). How to tell: \
               if the client id starts with the broker's prefix (the course's is btsiot-), the password is the \
               problem; if it does not, fix the client id in the profile first."
            .to_owned(),
        other => format!("Refused ({other}): a reserved return code; the broker does not follow MQTT 3.1.1."),
    };
    // Code 5 names both causes itself: the hint would repeat it.
    if code == 2 && prefix_in_play {
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
        // A wrong password and a missing prefix get the same code 5: the words name both and how
        // to tell them apart, whatever the client id looks like.
        for prefix_in_play in [false, true] {
            let five = explain_connack(5, prefix_in_play);
            assert!(five.starts_with("Refused (5): not authorised."), "{five}");
            assert!(five.contains("either the user name or password is wrong"), "{five}");
            assert!(five.contains("the client id lacks the broker's required client id prefix (clientid_prefixes)"));
            assert!(five.contains("How to tell: if the client id starts with the broker's prefix"), "{five}");
            assert_eq!(five.matches("prefix").count(), explain_connack(5, false).matches("prefix").count());
        }
        assert!(explain_connack(2, true).contains("client id prefix"));
        assert!(!explain_connack(4, true).contains("prefix"));
        assert!(explain_connack(9, false).contains("reserved"));
    }
}
