//! Password files as `mosquitto_passwd` writes them: `user:$7$...` (PBKDF2-SHA512),
//! `user:$6$...` (salted SHA-512, Mosquitto 1.6 and earlier) and `user:$argon2id$...`
//! (newer Mosquitto). Hashes are checked in constant time.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

/// What `mosquitto_passwd` of Mosquitto 2.0 (the course's broker) writes: PBKDF2 iterations
/// and salt length. Any count and length are read.
pub const WRITE_ITERATIONS: u32 = 101;
pub const WRITE_SALT_LEN: usize = 12;

/// One user's stored hash.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordHash {
    /// `$7$iterations$salt$hash`: PBKDF2-HMAC-SHA512.
    Pbkdf2Sha512 { iterations: u32, salt: Vec<u8>, hash: Vec<u8> },
    /// `$6$salt$hash`: SHA-512 of password then salt.
    Sha512 { salt: Vec<u8>, hash: Vec<u8> },
    /// A PHC string `$argon2id$v=19$m=..,t=..,p=..$salt$hash`.
    Argon2id(String),
}

// Never print hashes, even through `{:?}`.
impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pbkdf2Sha512 { .. } => "PasswordHash($7$)",
            Self::Sha512 { .. } => "PasswordHash($6$)",
            Self::Argon2id(_) => "PasswordHash($argon2id$)",
        })
    }
}

impl PasswordHash {
    /// Parses the part after `user:`; the error says what is wrong, never the hash itself.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with("$argon2id$") {
            argon2::password_hash::phc::PasswordHash::new(text)
                .map_err(|e| format!("malformed $argon2id$ hash ({e})"))?;
            return Ok(Self::Argon2id(text.to_owned()));
        }
        let decode = |what: &str, b64: &str| B64.decode(b64).map_err(|_| format!("the {what} is not valid base64"));
        let parts: Vec<&str> = text.split('$').collect();
        match parts.as_slice() {
            ["", "7", iterations, salt, hash] => {
                let iterations: u32 =
                    iterations.parse().map_err(|_| format!("iteration count {iterations:?} is not a number"))?;
                if iterations == 0 {
                    return Err("iteration count 0".into());
                }
                let hash = decode("hash", hash)?;
                if hash.len() != 64 {
                    return Err(format!("a $7$ hash has 64 bytes, this one {}", hash.len()));
                }
                Ok(Self::Pbkdf2Sha512 { iterations, salt: decode("salt", salt)?, hash })
            }
            ["", "6", salt, hash] => {
                let hash = decode("hash", hash)?;
                if hash.len() != 64 {
                    return Err(format!("a $6$ hash has 64 bytes, this one {}", hash.len()));
                }
                Ok(Self::Sha512 { salt: decode("salt", salt)?, hash })
            }
            _ if !text.starts_with('$') => {
                Err("the password is not hashed (run mosquitto_passwd -U on the file)".into())
            }
            _ => Err("unknown hash format (expected $7$, $6$ or $argon2id$)".into()),
        }
    }

    /// A new `$7$` hash with a random salt, as mosquitto_passwd 2.0 writes it.
    pub fn new_pbkdf2(password: &str) -> Result<Self, getrandom::Error> {
        let mut salt = vec![0; WRITE_SALT_LEN];
        getrandom::fill(&mut salt)?;
        let mut hash = vec![0; 64];
        pbkdf2::pbkdf2_hmac::<Sha512>(password.as_bytes(), &salt, WRITE_ITERATIONS, &mut hash);
        Ok(Self::Pbkdf2Sha512 { iterations: WRITE_ITERATIONS, salt, hash })
    }

    /// Whether `password` matches, comparing in constant time.
    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            Self::Pbkdf2Sha512 { iterations, salt, hash } => {
                let mut derived = vec![0; hash.len()];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, *iterations, &mut derived);
                derived.ct_eq(hash).into()
            }
            Self::Sha512 { salt, hash } => {
                let mut h = Sha512::new();
                h.update(password);
                h.update(salt);
                h.finalize().as_slice().ct_eq(hash).into()
            }
            Self::Argon2id(phc) => {
                use argon2::PasswordVerifier as _;
                argon2::Argon2::default().verify_password(password, phc.as_str()).is_ok()
            }
        }
    }

    /// The text after `user:` in the file.
    pub fn to_text(&self) -> String {
        match self {
            Self::Pbkdf2Sha512 { iterations, salt, hash } => {
                format!("$7${iterations}${}${}", B64.encode(salt), B64.encode(hash))
            }
            Self::Sha512 { salt, hash } => format!("$6${}${}", B64.encode(salt), B64.encode(hash)),
            Self::Argon2id(phc) => phc.clone(),
        }
    }
}

/// A problem with one line of a password file: the line is skipped, the others kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The users of a password file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordFile {
    users: BTreeMap<String, PasswordHash>,
}

/// The result of checking a user name and password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Valid,
    UnknownUser,
    WrongPassword,
}

impl PasswordFile {
    /// Reads the file's text; malformed lines are reported and skipped.
    pub fn parse(text: &str) -> (Self, Vec<LineProblem>) {
        let mut file = Self::default();
        let mut problems = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let problem = |message: String| LineProblem { line: i + 1, message };
            let Some((user, hash)) = line.split_once(':') else {
                problems.push(problem("no ':' between user name and password hash".into()));
                continue;
            };
            if user.is_empty() {
                problems.push(problem("empty user name".into()));
                continue;
            }
            match PasswordHash::parse(hash) {
                Ok(h) => {
                    if file.users.insert(user.to_owned(), h).is_some() {
                        problems.push(problem(format!("user {user:?} appears again; the later line wins")));
                    }
                }
                Err(e) => problems.push(problem(format!("user {user:?}: {e}; this user cannot log in"))),
            }
        }
        (file, problems)
    }

    pub fn check(&self, user: &str, password: &[u8]) -> Check {
        match self.users.get(user) {
            None => Check::UnknownUser,
            Some(h) if h.verify(password) => Check::Valid,
            Some(_) => Check::WrongPassword,
        }
    }

    pub fn contains(&self, user: &str) -> bool {
        self.users.contains_key(user)
    }

    pub fn set(&mut self, user: &str, hash: PasswordHash) {
        self.users.insert(user.to_owned(), hash);
    }

    pub fn remove(&mut self, user: &str) -> bool {
        self.users.remove(user).is_some()
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by Debian's mosquitto_passwd 2.0.11: `mosquitto_passwd -c -b pf btsiot1 btsiotpass1`.
    const MOSQUITTO_7: &str = "btsiot1:$7$101$T91X9wqVCzUnJOMC$sdXrJoZs7X9MRCpZ4Eil9zsDV2V/vfbQwSjVMzifu29Puf3QDAWNYQT3SHBPeqZrO6QogBzSFinNbfmysYCERw==";

    #[test]
    fn reads_and_verifies_a_file_written_by_mosquitto_passwd() {
        let (file, problems) = PasswordFile::parse(&format!("{MOSQUITTO_7}\n"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(file.check("btsiot1", b"btsiotpass1"), Check::Valid);
        assert_eq!(file.check("btsiot1", b"btsiotpass2"), Check::WrongPassword);
        assert_eq!(file.check("btsiot2", b"btsiotpass1"), Check::UnknownUser);
    }

    #[test]
    fn sha512_and_any_iteration_count_and_salt_length_verify() {
        let salt = b"0123456789abcdef0123456789abcdef";
        let mut h = Sha512::new();
        h.update(b"pw6");
        h.update(salt);
        let six = PasswordHash::Sha512 { salt: salt.to_vec(), hash: h.finalize().to_vec() };
        let mut hash = vec![0; 64];
        pbkdf2::pbkdf2_hmac::<Sha512>(b"pw7", &[7; 64], 1000, &mut hash);
        let seven = PasswordHash::Pbkdf2Sha512 { iterations: 1000, salt: vec![7; 64], hash };
        let text = format!("six:{}\nseven:{}\n", six.to_text(), seven.to_text());
        let (file, problems) = PasswordFile::parse(&text);
        assert!(problems.is_empty());
        assert_eq!(file.check("six", b"pw6"), Check::Valid);
        assert_eq!(file.check("seven", b"pw7"), Check::Valid);
        assert_eq!(file.check("seven", b"pw6"), Check::WrongPassword);
    }

    #[test]
    fn argon2id_lines_verify() {
        use argon2::PasswordHasher as _;
        let phc = argon2::Argon2::default().hash_password(b"argon-pw").unwrap().to_string();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        let (file, problems) = PasswordFile::parse(&format!("modern:{phc}\n"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(file.check("modern", b"argon-pw"), Check::Valid);
        assert_eq!(file.check("modern", b"wrong"), Check::WrongPassword);
    }

    #[test]
    fn malformed_lines_are_named_and_the_other_users_kept() {
        let text = format!("nocolon\nplain:secret\nbad64:$7$101$!!$!!\n{MOSQUITTO_7}\n:$6$x$y\nweird:$9$x\n");
        let (file, problems) = PasswordFile::parse(&text);
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [1, 2, 3, 5, 6], "{problems:?}");
        assert!(problems[1].message.contains("not hashed"), "{}", problems[1]);
        assert!(!problems.iter().any(|p| p.message.contains("secret")), "no password in messages");
        assert_eq!(file.len(), 1);
        assert_eq!(file.check("btsiot1", b"btsiotpass1"), Check::Valid);
    }

    #[test]
    fn new_hashes_are_what_mosquitto_passwd_2_0_writes_and_verify() {
        let h = PasswordHash::new_pbkdf2("btsiotpass2").unwrap();
        let text = h.to_text();
        let parts: Vec<&str> = text.split('$').collect();
        assert_eq!((parts[1], parts[2]), ("7", "101"));
        assert_eq!(B64.decode(parts[3]).unwrap().len(), 12);
        assert!(PasswordHash::parse(&text).unwrap().verify(b"btsiotpass2"));
        assert_ne!(text, PasswordHash::new_pbkdf2("btsiotpass2").unwrap().to_text(), "random salt");
    }
}
