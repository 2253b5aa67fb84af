//! `mqtt-lab-broker [-c FILE] [-p PORT] [-v]`: the broker on the command line, like `mosquitto`.

use std::path::PathBuf;
use std::process::ExitCode;

use mqtt_lab_broker::Config;
use mqtt_lab_broker::config::ListenerConfig;
use tokio::net::TcpListener;

const USAGE: &str = "\
mqtt-lab-broker is an MQTT 3.1.1/3.1 broker that reads mosquitto.conf.

Usage: mqtt-lab-broker [-c config_file] [-p port] [-v]

 -c : read the config file at this path (mosquitto.conf syntax)
 -p : listen on this port (may be given up to 10 times)
 -v : verbose mode, log all types of messages
 -h : show this help";

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
        config.listeners.push(ListenerConfig { port, bind_address, max_connections: None });
    }
    if args.verbose {
        config.log.verbose();
    }
    Ok(config)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => drop(tokio::signal::ctrl_c().await),
        }
    }
    #[cfg(not(unix))]
    drop(tokio::signal::ctrl_c().await);
}

async fn start(config: Config) -> Result<(), String> {
    let mut listeners = Vec::new();
    for l in config.effective_listeners() {
        let addr = l.bind_addr();
        let listener = TcpListener::bind(&addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        listeners.push(listener);
    }
    if let Some(pid_file) = &config.pid_file {
        std::fs::write(pid_file, format!("{}\n", std::process::id()))
            .map_err(|e| format!("cannot write pid_file {}: {e}", pid_file.display()))?;
    }
    mqtt_lab_broker::serve(listeners, config, shutdown_signal()).await.map_err(|e| e.to_string())
}

fn main() -> ExitCode {
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
