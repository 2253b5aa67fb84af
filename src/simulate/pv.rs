//! The simulated photovoltaic plant: power along a day curve (zero at night, rising after
//! sunrise, a peak at solar noon), dimmed by passing clouds, and whether the sun shines. A pure
//! function of the simulated local time, so a day can be replayed fast and tested.

use crate::localtime::midnight;
use crate::schema::{PvData, Sunshine};

/// The plant's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plant {
    /// Power at noon under a clear sky, kW.
    pub peak_kw: f64,
    /// Local hours of sunrise and sunset.
    pub sunrise_h: f64,
    pub sunset_h: f64,
    /// Which clouds: another seed, another day's weather.
    pub seed: u64,
}

impl Default for Plant {
    fn default() -> Self {
        Self { peak_kw: 4.6, sunrise_h: 6.5, sunset_h: 19.5, seed: 7 }
    }
}

/// What the plant publishes at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub power: PvData,
    pub sunshine: Sunshine,
    /// Sunlight on the ground, 0-1 (the lamp's sensor sees it too).
    pub daylight: f64,
}

/// A number in [0, 1) from a block index: a small integer hash (SplitMix64's finaliser).
fn noise(block: i64, seed: u64) -> f64 {
    // Bits of the block index, not its value, are mixed.
    #[allow(clippy::cast_sign_loss)]
    let mut z = (block as u64).wrapping_add(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // The top 53 bits as a fraction: exact.
    #[allow(clippy::cast_precision_loss)]
    let f = (z >> 11) as f64 / (1u64 << 53) as f64;
    f
}

/// Cloud cover 0-1 at Unix time `t`: smooth noise over 20-minute blocks, clear most of the time.
pub fn cloud_cover(t: f64, seed: u64) -> f64 {
    const BLOCK: f64 = 1_200.0;
    let x = t / BLOCK;
    // Block indices of any realistic time fit an i64.
    #[allow(clippy::cast_possible_truncation)]
    let block = x.floor() as i64;
    let f = x - x.floor();
    let smooth = f * f * (3.0 - 2.0 * f);
    let n = noise(block, seed) * (1.0 - smooth) + noise(block + 1, seed) * smooth;
    ((n - 0.55) / 0.45).clamp(0.0, 1.0)
}

impl Plant {
    /// Clear-sky sunlight 0-1 at local hour `h`.
    pub fn clear_sky(&self, h: f64) -> f64 {
        if h <= self.sunrise_h || h >= self.sunset_h {
            return 0.0;
        }
        (std::f64::consts::PI * (h - self.sunrise_h) / (self.sunset_h - self.sunrise_h)).sin().powf(1.3)
    }

    /// The plant at Unix time `t` (local clock for the day curve).
    pub fn at(&self, t: f64) -> Reading {
        let h = (t - midnight(t)) / 3_600.0;
        let cover = cloud_cover(t, self.seed);
        let daylight = self.clear_sky(h) * (1.0 - 0.8 * cover);
        let sunshine = if self.clear_sky(h) > 0.05 && cover < 0.4 { Sunshine::Yes } else { Sunshine::No };
        Reading { power: PvData(self.peak_kw * daylight), sunshine, daylight }
    }
}

#[cfg(test)]
// Night power is exactly zero, not computed: exact comparison is the check.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn a_day_rises_after_sunrise_peaks_near_noon_and_is_dark_at_night() {
        let plant = Plant { seed: 1, ..Plant::default() };
        let day = midnight(1_750_000_000.0);
        let at = |h: f64| plant.at(day + h * 3_600.0);
        assert_eq!(at(3.0).power.0, 0.0);
        assert_eq!(at(3.0).sunshine, Sunshine::No);
        assert_eq!(at(22.0).power.0, 0.0);
        let samples: Vec<f64> = (0..24 * 60).map(|m| plant.at(day + f64::from(m) * 60.0).power.0).collect();
        let peak = samples.iter().copied().fold(0.0, f64::max);
        assert!(peak > 3.0 && peak <= 4.6, "{peak}");
        let noon = plant.clear_sky(13.0);
        assert!((noon - 1.0).abs() < 1e-9, "the clear-sky peak is halfway between sunrise and sunset");
        assert!(samples.iter().all(|p| (0.0..=4.6).contains(p)));
        // Clouds come and go: some minutes of daylight without sunshine, most with.
        let sunny =
            (8 * 60..18 * 60).filter(|m| plant.at(day + f64::from(*m) * 60.0).sunshine == Sunshine::Yes).count();
        assert!((200..600).contains(&sunny), "{sunny} sunny minutes of 600");
    }

    #[test]
    fn clouds_are_smooth_and_the_seed_changes_the_weather() {
        let t = 1_750_000_000.0;
        for s in 0..600 {
            let a = cloud_cover(t + f64::from(s), 3);
            let b = cloud_cover(t + f64::from(s) + 1.0, 3);
            assert!((a - b).abs() < 0.02, "no jumps from one second to the next");
        }
        let day = |seed| (0..72).map(|b| cloud_cover(t + f64::from(b) * 1_200.0, seed)).collect::<Vec<f64>>();
        assert_ne!(day(1), day(2));
    }
}
