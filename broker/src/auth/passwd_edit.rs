//! `mqtt-lab-broker passwd [-c] [-b] [-D] FILE USER [PASSWORD]`: adds, changes or deletes a
//! user in a password file, like `mosquitto_passwd`. Other lines are kept as they are; the
//! file is replaced atomically.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::PasswordHash;

pub const PASSWD_USAGE: &str = "\
Usage: mqtt-lab-broker passwd [-c | -D] passwordfile username
       mqtt-lab-broker passwd [-c] -b passwordfile username password

 -b : batch mode: the password is given on the command line.
 -c : create a new password file. This overwrites an existing file.
 -D : delete the user rather than adding or updating its password.

Entries are written as mosquitto_passwd 2.0 writes them ($7$, PBKDF2-SHA512), so Mosquitto
reads the file too. A new file gets the permissions mosquitto_passwd gives it (0666 less the
umask); an existing file keeps its own.";

/// A parsed `passwd` command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdArgs {
    pub create: bool,
    pub delete: bool,
    pub file: PathBuf,
    pub user: String,
    /// Given with -b; otherwise asked for on the terminal.
    pub password: Option<String>,
}

impl PasswdArgs {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let (mut create, mut batch, mut delete) = (false, false, false);
        let mut rest = Vec::new();
        for arg in args {
            match arg.as_str() {
                "-c" => create = true,
                "-b" => batch = true,
                "-D" => delete = true,
                s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s:?}")),
                s => rest.push(s.to_owned()),
            }
        }
        if create && delete {
            return Err("-c and -D cannot be used together".into());
        }
        let expected = if batch { 3 } else { 2 };
        if rest.len() != expected || (batch && delete) {
            return Err("wrong number of arguments".into());
        }
        let user = rest[1].clone();
        if user.is_empty() || user.contains(':') {
            return Err("a user name must not be empty or contain ':'".into());
        }
        let password = batch.then(|| rest[2].clone());
        Ok(Self { create, delete, file: PathBuf::from(&rest[0]), user, password })
    }
}

/// Replaces the user's line (or appends one), or deletes it with `hash` None. Returns the new
/// text and whether the user was there before.
pub fn edit_text(text: &str, user: &str, hash: Option<&PasswordHash>) -> (String, bool) {
    let prefix = format!("{user}:");
    let mut found = false;
    let mut out = String::with_capacity(text.len() + 200);
    for line in text.lines() {
        if line.starts_with(&prefix) {
            if !found && let Some(h) = hash {
                let _ = writeln!(out, "{user}:{}", h.to_text());
            }
            found = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !found && let Some(h) = hash {
        let _ = writeln!(out, "{user}:{}", h.to_text());
    }
    (out, found)
}

/// Writes through a temporary file and a rename, so a crash never leaves half a file. An
/// existing file keeps its permissions; a new one gets what mosquitto_passwd gives it (0666
/// less the umask), which a Mosquitto broker that dropped to its own user can still read.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(&tmp, meta.permissions())?;
    }
    std::fs::rename(&tmp, path)
}

/// Carries out the command; `ask` reads a password from the terminal when -b was not given.
pub fn run_passwd(args: &PasswdArgs, ask: impl FnOnce() -> Result<String, String>) -> Result<String, String> {
    let text = if args.create {
        String::new()
    } else {
        std::fs::read_to_string(&args.file)
            .map_err(|e| format!("cannot read password file {}: {e} (use -c to create it)", args.file.display()))?
    };
    let hash = if args.delete {
        None
    } else {
        let password = match &args.password {
            Some(p) => p.clone(),
            None => ask()?,
        };
        if password.is_empty() {
            return Err("the password must not be empty".into());
        }
        Some(PasswordHash::new_pbkdf2(&password).map_err(|e| format!("no random numbers for a salt: {e}"))?)
    };
    let (new_text, found) = edit_text(&text, &args.user, hash.as_ref());
    if args.delete && !found {
        return Err(format!("user {} is not in {}", args.user, args.file.display()));
    }
    write_atomically(&args.file, &new_text).map_err(|e| format!("cannot write {}: {e}", args.file.display()))?;
    Ok(match (args.delete, found) {
        (true, _) => format!("Deleted user {}.", args.user),
        (false, true) => format!("Changed the password of {}.", args.user),
        (false, false) => format!("Added user {}.", args.user),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Check, PasswordFile};
    use super::*;

    fn args(list: &[&str]) -> Result<PasswdArgs, String> {
        PasswdArgs::parse(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn command_lines_like_mosquitto_passwd() {
        let a = args(&["-c", "-b", "pf", "btsiot1", "btsiotpass1"]).unwrap();
        assert!(a.create && !a.delete);
        assert_eq!(a.password.as_deref(), Some("btsiotpass1"));
        assert!(args(&["-D", "pf", "btsiot1"]).unwrap().delete);
        assert!(args(&["pf", "btsiot1"]).unwrap().password.is_none(), "asks on the terminal");
        assert!(args(&["-c", "-D", "pf", "u"]).is_err());
        assert!(args(&["-b", "pf", "u"]).is_err());
        assert!(args(&["pf", "a:b"]).is_err());
    }

    #[test]
    fn add_change_and_delete_keep_other_lines() {
        let dir = std::env::temp_dir().join(format!("mqtt-lab-passwd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pf");
        let run = |list: &[&str]| {
            let mut full: Vec<&str> = list.to_vec();
            let f = file.to_str().unwrap();
            full.insert(full.len() - if list.contains(&"-b") { 2 } else { 1 }, f);
            run_passwd(&args(&full).unwrap(), || Err("no terminal".into()))
        };
        assert_eq!(run(&["-c", "-b", "btsiot1", "btsiotpass1"]).unwrap(), "Added user btsiot1.");
        assert_eq!(run(&["-b", "btsiot2", "btsiotpass2"]).unwrap(), "Added user btsiot2.");
        assert_eq!(run(&["-b", "btsiot1", "changed"]).unwrap(), "Changed the password of btsiot1.");
        let (pf, problems) = PasswordFile::parse(&std::fs::read_to_string(&file).unwrap());
        assert!(problems.is_empty());
        assert_eq!(pf.check("btsiot1", b"changed"), Check::Valid);
        assert_eq!(pf.check("btsiot2", b"btsiotpass2"), Check::Valid);
        assert_eq!(run(&["-D", "btsiot1"]).unwrap(), "Deleted user btsiot1.");
        assert!(run(&["-D", "btsiot1"]).is_err());
        assert!(run(&["btsiot3"]).unwrap_err().contains("no terminal"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
            run(&["-b", "btsiot4", "pw"]).unwrap();
            assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o640, "permissions kept");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
