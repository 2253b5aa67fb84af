//! The Packets tab's "Save for Wireshark (.pcapng)": the captured session of the connection on
//! view written as pcapng (see `crate::pcap`) into the reports folder, off the UI thread (the
//! broker's name may need a DNS lookup there). For TLS and TLS-PSK the notice says the file
//! shows the MQTT inside the encryption in clear, as the file's own comment does.

use super::{App, reports};
use crate::pcap::{Capture, Endpoints, host_port, write_file};
use crate::profile::TlsMode;

impl App {
    pub(super) fn save_pcapng(&mut self) {
        let s = self.sessions.shown();
        let packets: Vec<_> = s.model.packets.packets.iter().cloned().collect();
        let Some(c) = s.connection.as_ref().filter(|_| !packets.is_empty()) else {
            let why = "Nothing to save for Wireshark yet: connect, and the Packets tab fills.";
            let _ = self.notice_sender().send(reports::Notice::Failed(why.into()));
            return;
        };
        let (host, port) = host_port(&c.address).unwrap_or_else(|| ("127.0.0.1".into(), crate::pcap::MQTT_PORT));
        let secured = match c.profile.tls {
            TlsMode::None => None,
            TlsMode::Psk { .. } => Some("TLS-PSK".to_owned()),
            _ => Some("TLS".to_owned()),
        };
        let websocket = c.websocket;
        let name = reports::file_name(&chrono::Local::now(), &self.view_label(), "packets", "pcapng");
        self.save_file("Wireshark capture", self.reports_folder(), name, move |path| {
            let capture = Capture::new(Endpoints::look_up(&host, port), secured.clone(), websocket);
            let written = write_file(path, &capture, &packets)?;
            let mut detail = format!("{} MQTT packet(s) in {} frame(s)", written.packets, written.frames);
            if let Some(kind) = secured {
                detail = format!("{detail}; the MQTT inside {kind} is shown in clear");
            }
            Ok(detail)
        });
    }
}
