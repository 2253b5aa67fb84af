//! `--source`: the source addresses a soak's clients bind to. One address reaches one broker
//! address from at most ip_local_port_range's ports (32768-60999: about 28,000), so 100,000
//! connections on one machine need several: 127.0.0.0/8 is all loopback on Linux.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The most addresses `--source` may list: a range typed one digit too long should not fill
/// the memory (a few hundred already reach millions of connections).
const MOST_SOURCES: usize = 65_536;

/// `--source`: comma-separated addresses or IPv4 ranges `first-last` (inclusive), in order.
pub fn parse_sources(text: &str) -> Result<Vec<IpAddr>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        let address = |s: &str| s.trim().parse::<IpAddr>().map_err(|_| format!("{s:?} is not an IP address"));
        match part.split_once('-') {
            None => out.push(address(part)?),
            Some((first, last)) => {
                let (IpAddr::V4(first), IpAddr::V4(last)) = (address(first)?, address(last)?) else {
                    return Err(format!("the range {part:?} is not IPv4 (list IPv6 addresses one by one)"));
                };
                let (first, last) = (u32::from(first), u32::from(last));
                if last < first {
                    return Err(format!("the range {part:?} ends before it starts"));
                }
                let len = usize::try_from(last - first).unwrap_or(usize::MAX).saturating_add(1);
                if out.len().saturating_add(len) > MOST_SOURCES {
                    return Err(format!("more than {MOST_SOURCES} addresses"));
                }
                out.extend((first..=last).map(|n| IpAddr::V4(Ipv4Addr::from(n))));
            }
        }
        if out.len() > MOST_SOURCES {
            return Err(format!("more than {MOST_SOURCES} addresses"));
        }
    }
    Ok(out)
}

/// A source address must be of the broker address's IP version: bind would refuse it at every
/// connection.
pub(super) fn check_family(sources: &[IpAddr], broker: SocketAddr) -> Result<(), String> {
    match sources.iter().find(|s| s.is_ipv4() != broker.is_ipv4()) {
        Some(other) => Err(format!("--source {other} and the broker's address {broker} are of different IP versions")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive_and_bounded() {
        // A range crosses the last byte.
        let crossing = parse_sources("127.0.0.255-127.0.1.0").unwrap();
        assert_eq!(crossing, ["127.0.0.255", "127.0.1.0"].map(|a| a.parse::<IpAddr>().unwrap()));
        assert_eq!(
            parse_sources("127.0.0.9-127.0.0.2").unwrap_err(),
            "the range \"127.0.0.9-127.0.0.2\" ends before it starts"
        );
        assert_eq!(parse_sources("127.0.0.x").unwrap_err(), "\"127.0.0.x\" is not an IP address");
        assert_eq!(
            parse_sources(" ::1 ,127.0.0.3").unwrap(),
            ["::1", "127.0.0.3"].map(|a| a.parse::<IpAddr>().unwrap())
        );
        assert!(parse_sources("10.0.0.0-10.255.255.255").unwrap_err().contains("more than 65536"));
        assert!(parse_sources("::1-::2").unwrap_err().contains("not IPv4"));
    }
}
