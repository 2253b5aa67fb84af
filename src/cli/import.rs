//! `mqtt-lab import FILE [--save | --into DIR]`: reads MQTT.fx's configuration or an MQTTX
//! export (`crate::profile::import`) and prints the import report: each profile, each field not
//! imported with its value (secrets hidden) and why. With `--save` the profiles go into the app's
//! profile folder, with `--into DIR` into another one; saved for their owner only and renamed
//! when a name is taken, so that no profile is overwritten.

use std::io::Write;
use std::path::PathBuf;

use crate::profile::ProfileStore;
use crate::profile::import;

/// Where the profiles go, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Only the report.
    Nowhere,
    /// The app's profile folder.
    ConfigDir,
    Dir(PathBuf),
}

/// What `import` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportArgs {
    pub file: PathBuf,
    pub destination: Destination,
}

/// Reads the arguments after `import`.
pub fn parse(mut args: impl Iterator<Item = String>) -> Result<ImportArgs, String> {
    let (mut file, mut destination) = (None, Destination::Nowhere);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--save" => destination = Destination::ConfigDir,
            "--into" => destination = Destination::Dir(PathBuf::from(args.next().ok_or("--into needs a folder")?)),
            other if other.starts_with('-') => return Err(format!("unknown option {other:?}")),
            _ if file.is_some() => return Err(format!("one file at a time ({arg:?} is extra)")),
            _ => file = Some(PathBuf::from(arg)),
        }
    }
    let file = file.ok_or("import needs a file: MQTT.fx's mqttfx-config.xml or an MQTTX export (.json)")?;
    Ok(ImportArgs { file, destination })
}

/// Prints the report (and saves when asked); the exit code: 0 done, 1 unreadable file or
/// profiles that could not be saved.
pub fn import(args: &ImportArgs, out: &mut impl Write) -> u8 {
    let imported = match import::read_file(&args.file) {
        Ok(i) => i,
        Err(e) => {
            let _ = writeln!(out, "Cannot import {}: {e}", args.file.display());
            return 1;
        }
    };
    let store = match &args.destination {
        Destination::Nowhere => {
            let _ = write!(out, "{}", imported.report(&[]));
            let _ = writeln!(out, "Nothing saved: add --save to put them in the app's profiles.");
            return 0;
        }
        Destination::ConfigDir => ProfileStore::in_config_dir(),
        Destination::Dir(dir) => Ok(ProfileStore::at(dir.clone())),
    };
    match store
        .map_err(|e| e.to_string())
        .and_then(|s| imported.save(&s).map(|saved| (s, saved)).map_err(|e| e.to_string()))
    {
        Ok((store, saved)) => {
            let _ = write!(out, "{}", imported.report(&saved));
            let _ = writeln!(out, "Saved {} profile(s) in {}.", saved.len(), store.dir().display());
            0
        }
        Err(e) => {
            let _ = write!(out, "{}", imported.report(&[]));
            let _ = writeln!(out, "Could not save the profiles: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> impl Iterator<Item = String> {
        a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn arguments_are_read_or_refused_by_name() {
        assert_eq!(
            parse(args(&["x.json"])),
            Ok(ImportArgs { file: "x.json".into(), destination: Destination::Nowhere })
        );
        assert_eq!(parse(args(&["x.xml", "--save"])).unwrap().destination, Destination::ConfigDir);
        assert_eq!(parse(args(&["--into", "d", "x.xml"])).unwrap().destination, Destination::Dir("d".into()));
        assert!(parse(args(&[])).unwrap_err().contains("needs a file"));
        assert!(parse(args(&["a", "b"])).unwrap_err().contains("one file"));
        assert!(parse(args(&["a", "--into"])).unwrap_err().contains("--into needs"));
        assert!(parse(args(&["a", "--all"])).unwrap_err().contains("--all"));
    }

    #[test]
    fn a_missing_file_is_exit_code_1_with_the_reason() {
        let mut out = Vec::new();
        let code =
            import(&ImportArgs { file: "/nonexistent/x.xml".into(), destination: Destination::Nowhere }, &mut out);
        assert_eq!(code, 1);
        assert!(String::from_utf8(out).unwrap().starts_with("Cannot import /nonexistent/x.xml"));
    }
}
