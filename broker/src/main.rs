//! `mqtt-lab-broker [-c FILE] [-p PORT] [-v]`: the broker on the command line, like `mosquitto`;
//! `mqtt-lab-broker passwd ...`: password files, like `mosquitto_passwd`.

use std::path::PathBuf;
use std::process::ExitCode;

use mqtt_lab_broker::auth::{PASSWD_USAGE, PasswdArgs, run_passwd};
use mqtt_lab_broker::config::ListenerConfig;
use mqtt_lab_broker::{Broker, Config};

const USAGE: &str = "\
mqtt-lab-broker is an MQTT 3.1.1/3.1 broker that reads mosquitto.conf.

Usage: mqtt-lab-broker [-c config_file] [-p port] [-v]
       mqtt-lab-broker passwd [-c] [-b] [-D] passwordfile username [password]

 -c : read the config file at this path (mosquitto.conf syntax)
 -p : listen on this port (may be given up to 10 times)
 -v : verbose mode, log all types of messages
 -h : show this help

SIGINT and SIGTERM stop the broker; SIGHUP reloads the password, ACL and PSK files.";

/// jemalloc rather than the system allocator where it builds (not MSVC): a message is allocated
/// by the publisher's thread and freed by the subscriber's, and on two cores glibc's malloc
/// locked its arena for nearly every such free (half of the fan-in's futex calls).
/// Measured in docs/PERFORMANCE.md ("Every core: the sixth session"); the app uses it too.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

struct Args {
    config_file: Option<PathBuf>,
    ports: Vec<u16>,
    verbose: bool,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args { config_file: None, ports: Vec::new(), verbose: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-c" | "--config-file" => {
                args.config_file = Some(it.next().ok_or("-c needs a config file path")?.into());
            }
            "-p" | "--port" => {
                let value = it.next().ok_or("-p needs a port number")?;
                let port = value.parse().map_err(|_| format!("-p: {value:?} is not a port number (1-65535)"))?;
                if args.ports.len() == 10 {
                    return Err("-p may be given at most 10 times".into());
                }
                args.ports.push(port);
            }
            "-v" | "--verbose" => args.verbose = true,
            "-h" | "--help" => return Ok(None),
            "-d" | "--daemon" => {
                return Err("-d (daemon mode) is not supported; run the broker under a service manager instead".into());
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(Some(args))
}

fn config(args: &Args) -> Result<Config, String> {
    let mut config = match &args.config_file {
        Some(path) => Config::load(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    for &port in &args.ports {
        // With no config file the broker stays local only, as Mosquitto 2.0 does.
        let bind_address = args.config_file.is_none().then(|| "127.0.0.1".to_owned());
        if args.config_file.is_none() && config.allow_anonymous.is_none() {
            config.allow_anonymous = Some(true);
        }
        config.listeners.push(ListenerConfig { port, bind_address, ..ListenerConfig::default() });
    }
    if args.verbose {
        config.log.verbose();
    }
    Ok(config)
}

/// `user NAME`, as Mosquitto 2.0.11 applies it: when running as root, the process takes NAME's
/// groups, group and user id before it opens anything (so log files, the store and listener
/// ports must be open to NAME). `user root`, no `user` line, or not running as root: no change.
/// A NAME that does not exist stops startup with Mosquitto's words, except `mosquitto`, for
/// which Mosquitto falls back to `nobody`.
#[cfg(unix)]
fn drop_privileges(config: &Config) -> Result<(), String> {
    use nix::unistd::{User, geteuid, initgroups, setgid, setuid};
    let Some(name) = config.user.as_deref().filter(|n| *n != "root") else { return Ok(()) };
    if !geteuid().is_root() {
        return Ok(());
    }
    let lookup = |name: &str| User::from_name(name).map_err(|e| format!("cannot look up user '{name}': {e}"));
    let user = match lookup(name)? {
        Some(user) => user,
        None if name == "mosquitto" => {
            eprintln!(
                "Warning: Unable to drop privileges to 'mosquitto' because this user does not exist. Trying 'nobody' instead."
            );
            lookup("nobody")?.ok_or("Unable to drop privileges to 'nobody'.")?
        }
        None => return Err(format!("Unable to drop privileges to '{name}' because this user does not exist.")),
    };
    // Groups first: once the user id is not root's, the groups can no longer be changed.
    let c_name = std::ffi::CString::new(name).map_err(|_| format!("user '{name}' has a NUL byte in its name"))?;
    initgroups(&c_name, user.gid).map_err(|e| format!("setting groups whilst dropping privileges: {e}."))?;
    setgid(user.gid).map_err(|e| format!("setting gid whilst dropping privileges: {e}."))?;
    setuid(user.uid).map_err(|e| format!("setting uid whilst dropping privileges: {e}."))?;
    Ok(())
}

#[cfg(not(unix))]
fn drop_privileges(config: &Config) -> Result<(), String> {
    if config.user.is_some() {
        eprintln!("Warning: user has no effect on this system.");
    }
    Ok(())
}

/// What a signal asks of the broker.
enum Signal {
    Stop,
    Reload,
}

#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Result<Self, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind| signal(kind).map_err(|e| format!("cannot listen for signals: {e}"));
        Ok(Self { term: listen(SignalKind::terminate())?, hup: listen(SignalKind::hangup())? })
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => Signal::Stop,
            _ = self.term.recv() => Signal::Stop,
            _ = self.hup.recv() => Signal::Reload,
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Result<Self, String> {
        Ok(Self)
    }

    async fn next(&mut self) -> Signal {
        drop(tokio::signal::ctrl_c().await);
        Signal::Stop
    }
}

async fn start(config: Config) -> Result<(), String> {
    let mut signals = Signals::new()?;
    let mut listeners = Vec::new();
    for l in config.effective_listeners() {
        // As Mosquitto: both IP families for a listener without an address, `socket_domain`,
        // `bind_interface`.
        let listener = Broker::bind(&l).map_err(|e| format!("cannot listen on {}: {e}", l.bind_addr()))?;
        listeners.push((listener, l));
    }
    if let Some(pid_file) = &config.pid_file {
        std::fs::write(pid_file, format!("{}\n", std::process::id()))
            .map_err(|e| format!("cannot write pid_file {}: {e}", pid_file.display()))?;
    }
    let broker = Broker::start(config).map_err(|e| e.to_string())?;
    for (listener, settings) in listeners {
        broker.listen(listener, &settings).map_err(|e| e.to_string())?;
    }
    while let Signal::Reload = signals.next().await {
        broker.reload();
    }
    broker.shutdown().await;
    Ok(())
}

/// `passwd ...`: edits a password file and exits.
fn passwd(args: &[String]) -> ExitCode {
    let parsed = match PasswdArgs::parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("Error: {e}\n\n{PASSWD_USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let ask = || {
        let first = rpassword::prompt_password("Password: ").map_err(|e| format!("cannot read the password: {e}"))?;
        let again =
            rpassword::prompt_password("Reenter password: ").map_err(|e| format!("cannot read the password: {e}"))?;
        if first == again { Ok(first) } else { Err("the passwords do not match".into()) }
    };
    match run_passwd(&parsed, ask) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().is_some_and(|a| a == "passwd") {
        return passwd(&argv[1..]);
    }
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("Error: {e}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let config = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Before the runtime's threads exist, so every thread has the new ids.
    if let Err(e) = drop_privileges(&config) {
        eprintln!("Error: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("broker-worker").build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(start(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}
