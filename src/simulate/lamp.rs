//! The simulated ESP32 lamp: the firmware's logic in Rust. It reads a light sensor (daylight plus
//! its own LED strip), maps the ADC reading to % exactly as `lamp_logic.cpp` does, and obeys LED
//! commands with the same rules (the schema), reporting what it applied.

use crate::schema::{LedCommand, Luminosity};

/// ADC readings in the dark and in full light, as in the firmware's config.h.
pub const DARK_RAW: u16 = 300;
pub const BRIGHT_RAW: u16 = 3800;

/// A 12-bit reading mapped to 0-100 % between the calibration points, clamped: the firmware's
/// `lamp::luminosity_percent` (tests/firmware.rs compares the two).
pub fn luminosity_percent(raw: u16, dark: u16, bright: u16) -> f64 {
    if dark == bright {
        return 0.0;
    }
    let percent = 100.0 * (f64::from(raw) - f64::from(dark)) / (f64::from(bright) - f64::from(dark));
    percent.clamp(0.0, 100.0)
}

/// The lamp's state: the strip's brightness.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lamp {
    pub brightness: f64,
}

impl Default for Lamp {
    fn default() -> Self {
        Self { brightness: 0.0 }
    }
}

/// How much of the sensor's range the strip lights at full brightness.
const LED_SHARE: f64 = 0.3;

impl Lamp {
    /// Applies a command payload; the command applied (for lamp/state) or why it was refused.
    pub fn command(&mut self, payload: &[u8]) -> Result<LedCommand, String> {
        let command = LedCommand::from_payload(payload)?;
        self.brightness = command.value();
        Ok(command)
    }

    /// The ADC reading with `daylight` (0-1) falling on the sensor and `jitter` (-1 to 1) of noise.
    pub fn raw_reading(&self, daylight: f64, jitter: f64) -> u16 {
        let light =
            (daylight.clamp(0.0, 1.0) * (1.0 - LED_SHARE) + self.brightness / 100.0 * LED_SHARE).clamp(0.0, 1.0);
        let span = f64::from(BRIGHT_RAW) - f64::from(DARK_RAW);
        let raw = f64::from(DARK_RAW) + light * span + jitter.clamp(-1.0, 1.0) * 20.0;
        // Within 0..=4095 after the clamp: the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let raw = raw.round().clamp(0.0, 4095.0) as u16;
        raw
    }

    /// The luminosity message for a reading, as the firmware builds it.
    pub fn reading(&self, daylight: f64, jitter: f64) -> Luminosity {
        let raw = self.raw_reading(daylight, jitter);
        Luminosity::new(luminosity_percent(raw, DARK_RAW, BRIGHT_RAW), Some(raw))
            .unwrap_or_else(|_| unreachable!("a clamped percentage and a 12-bit reading are valid"))
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn the_adc_mapping_is_the_firmwares() {
        assert_eq!(luminosity_percent(300, 300, 3800), 0.0);
        assert_eq!(luminosity_percent(2050, 300, 3800), 50.0);
        assert_eq!(luminosity_percent(4095, 300, 3800), 100.0);
        assert_eq!(luminosity_percent(300, 3800, 300), 100.0, "a divider wired the other way");
        assert_eq!(luminosity_percent(1000, 500, 500), 0.0);
    }

    #[test]
    fn the_lamp_obeys_valid_commands_and_its_light_reaches_the_sensor() {
        let mut lamp = Lamp::default();
        let dark = lamp.reading(0.0, 0.0).value();
        assert_eq!(lamp.command(br#"{"control":"PWM","value":80,"unit":"%"}"#).unwrap().value(), 80.0);
        let lit = lamp.reading(0.0, 0.0).value();
        assert!(lit > dark + 20.0, "{dark} -> {lit}");
        assert!(lamp.command(br#"{"control":"PWM","value":150,"unit":"%"}"#).is_err());
        assert_eq!(lamp.brightness, 80.0, "a refused command changes nothing");
        lamp.command(br#"{"control":"PWM","value":100,"unit":"%"}"#).unwrap();
        assert_eq!(lamp.reading(1.0, 1.0).value(), 100.0, "full daylight and the strip: clamped");
    }
}
