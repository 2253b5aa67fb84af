//! A client certificate's subject as `use_subject_as_username` makes it the user name: the
//! distinguished name in RFC 2253 form as Mosquitto 2.0 prints it (OpenSSL's
//! `X509_NAME_print_ex` with `XN_FLAG_RFC2253`): the most specific part first
//! (`CN=student,O=Lab,C=FR`), OpenSSL's short attribute names, `,+"\<>;` escaped with a
//! backslash (and `#` or a space first, a space last), control characters and every byte of a
//! non-ASCII character as `\XX`, values of types that are not text as `#` and their DER in hex.
//! ACL `user` lines and password files must spell the name so.

use std::fmt::Write as _;

use x509_parser::der_parser::asn1_rs::{Any, Class, Tag};
use x509_parser::prelude::{FromDer, X509Certificate};

/// The subject of a DER certificate in Mosquitto's RFC 2253 form; `None` if it does not parse.
pub(super) fn subject_rfc2253(der: &[u8]) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let mut out = String::new();
    // OpenSSL prints the entries last to first, a multi-valued RDN's too.
    let rdns: Vec<_> = cert.subject().iter().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let attributes: Vec<_> = rdn.iter().collect();
        for (j, attribute) in attributes.iter().rev().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = attribute.attr_type().to_id_string();
            match short_name(&oid) {
                Some(name) => out.push_str(name),
                None => out.push_str(&oid),
            }
            out.push('=');
            value(attribute.attr_value(), short_name(&oid).is_none(), &mut out);
        }
    }
    Some(out)
}

/// OpenSSL's short names of the attributes certificates carry.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        _ => return None,
    })
}

/// Appends a value: text escaped, anything else (or an attribute OpenSSL does not know) as
/// `#` and the hex of its DER.
fn value(any: &Any<'_>, unknown_attribute: bool, out: &mut String) {
    let data = any.data;
    let text: Option<String> = match (any.class(), any.tag()) {
        _ if unknown_attribute => None,
        (Class::Universal, Tag::Utf8String) => std::str::from_utf8(data).ok().map(str::to_owned),
        (
            Class::Universal,
            Tag::PrintableString | Tag::Ia5String | Tag::NumericString | Tag::VisibleString | Tag::T61String,
        ) => {
            // One byte a character (T61 read as Latin-1, as OpenSSL does).
            Some(data.iter().map(|&b| char::from(b)).collect())
        }
        (Class::Universal, Tag::BmpString) => {
            let units: Vec<u16> = data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16(&units).ok()
        }
        (Class::Universal, Tag::UniversalString) => {
            data.chunks_exact(4).map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))).collect()
        }
        _ => None,
    };
    match text {
        Some(text) => escape(&text, out),
        None => dump(any, out),
    }
}

/// RFC 2253 escaping as OpenSSL does it, byte by byte of the UTF-8 text.
fn escape(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let edge = (i == 0 && (b == b'#' || b == b' ')) || (i + 1 == bytes.len() && b == b' ');
        if !(0x20..0x7f).contains(&b) {
            let _ = write!(out, "\\{b:02X}");
        } else if edge || b",+\"\\<>;".contains(&b) {
            out.push('\\');
            out.push(char::from(b));
        } else {
            out.push(char::from(b));
        }
    }
}

/// `#` and the DER of the value in hex (a universal, primitive tag's short form).
fn dump(any: &Any<'_>, out: &mut String) {
    out.push('#');
    let tag = u8::try_from(any.tag().0).unwrap_or(0x1f) | if any.header.is_constructed() { 0x20 } else { 0 };
    let mut der = vec![tag];
    let len = any.data.len();
    if len < 0x80 {
        der.push(u8::try_from(len).unwrap_or(0));
    } else {
        let be = len.to_be_bytes();
        let skip = be.iter().take_while(|&&b| b == 0).count();
        der.push(0x80 | u8::try_from(be.len() - skip).unwrap_or(0));
        der.extend_from_slice(&be[skip..]);
    }
    der.extend_from_slice(any.data);
    for b in der {
        let _ = write!(out, "{b:02X}");
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, DnType, DnValue, KeyPair};

    use super::*;

    fn cert(entries: &[(DnType, DnValue)]) -> (String, Vec<u8>) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (t, v) in entries {
            params.distinguished_name.push(t.clone(), v.clone());
        }
        let cert = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
        (cert.pem(), cert.der().to_vec())
    }

    /// What OpenSSL prints for the same certificate (the form Mosquitto uses), when the
    /// `openssl` command is there.
    fn openssl_subject(pem: &str) -> Option<String> {
        use std::io::Write as _;
        let mut child = std::process::Command::new("openssl")
            .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(pem.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        Some(text.trim().strip_prefix("subject=")?.to_owned())
    }

    #[test]
    fn the_subject_reads_as_mosquitto_prints_it() {
        let utf8 = |s: &str| DnValue::Utf8String(s.to_owned());
        let cases: [(&[(DnType, DnValue)], &str); 3] = [
            (
                &[
                    (DnType::CountryName, DnValue::PrintableString("FR".try_into().unwrap())),
                    (DnType::OrganizationName, utf8("Lab")),
                    (DnType::CommonName, utf8("btsiot-student")),
                ],
                "CN=btsiot-student,O=Lab,C=FR",
            ),
            (
                &[(DnType::OrganizationName, utf8("Lycée, \"Lab\"; <1>+2")), (DnType::CommonName, utf8(" #a b "))],
                "CN=\\ #a b\\ ,O=Lyc\\C3\\A9e\\, \\\"Lab\\\"\\; \\<1\\>\\+2",
            ),
            (
                &[
                    (DnType::CustomDnType(vec![1, 3, 6, 1, 4, 1, 99999, 1]), utf8("x")),
                    (DnType::OrganizationalUnitName, DnValue::Ia5String("ou".try_into().unwrap())),
                ],
                "OU=ou,1.3.6.1.4.1.99999.1=#0C0178",
            ),
        ];
        for (entries, expected) in cases {
            let (pem, der) = cert(entries);
            let ours = subject_rfc2253(&der).unwrap();
            assert_eq!(ours, expected);
            if let Some(openssl) = openssl_subject(&pem) {
                assert_eq!(ours, openssl, "OpenSSL prints it so");
            }
        }
    }
}
