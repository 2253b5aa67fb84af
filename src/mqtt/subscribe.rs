//! MQTT 5 subscription options.

use serde::{Deserialize, Serialize};

/// When the broker sends retained messages for a new subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetainHandling {
    /// 0: at every SUBSCRIBE.
    #[default]
    OnSubscribe,
    /// 1: only if the subscription did not exist.
    OnNewSubscription,
    /// 2: never.
    Never,
}

impl RetainHandling {
    pub const ALL: [Self; 3] = [Self::OnSubscribe, Self::OnNewSubscription, Self::Never];

    pub const fn value(self) -> u8 {
        match self {
            Self::OnSubscribe => 0,
            Self::OnNewSubscription => 1,
            Self::Never => 2,
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::OnSubscribe => "0: send retained at subscribe",
            Self::OnNewSubscription => "1: only for a new subscription",
            Self::Never => "2: never send retained",
        }
    }
}

/// A SUBSCRIBE's MQTT 5 options for one filter (3.1.1 sends none of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SubOptions {
    /// Messages this client publishes are not sent back to it.
    pub no_local: bool,
    /// The retain flag is kept as published instead of cleared on live messages.
    pub retain_as_published: bool,
    pub retain_handling: RetainHandling,
    /// A Subscription Identifier (1..=268,435,455) the broker puts on matching messages.
    pub id: Option<u32>,
}

impl SubOptions {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Why these options may not go with `filter` on a connection of `v5`, naming the rule.
    pub fn check(&self, filter: &str, v5: bool) -> Result<(), String> {
        if !v5 && !self.is_default() {
            return Err(
                "Subscription options (no local, retain as published, retain handling, identifier) need MQTT 5.".into(),
            );
        }
        if self.no_local && filter.starts_with("$share/") {
            return Err("No Local may not be set on a shared subscription [MQTT-3.8.3-4].".into());
        }
        if let Some(id) = self.id
            && !(1..=268_435_455).contains(&id)
        {
            return Err(format!("A Subscription Identifier is 1 to 268,435,455 [MQTT-3.8.2.1.2]; {id} is not."));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::SubOptions;

    #[test]
    fn forbidden_options_name_their_rule() {
        let no_local = SubOptions { no_local: true, ..SubOptions::default() };
        assert!(no_local.check("$share/g/PV/#", true).unwrap_err().contains("MQTT-3.8.3-4"));
        assert!(no_local.check("PV/#", true).is_ok());
        assert!(no_local.check("PV/#", false).unwrap_err().contains("MQTT 5"));
        let zero = SubOptions { id: Some(0), ..SubOptions::default() };
        assert!(zero.check("PV/#", true).is_err());
    }
}
