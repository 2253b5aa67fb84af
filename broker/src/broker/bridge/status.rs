//! What each bridge is doing, for the app's broker panel (through the `Inspector`) and for the
//! log: connected or not, to which address, and the last error.

use std::sync::Mutex;

/// One bridge's state as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BridgeInfo {
    /// The `connection` name.
    pub name: String,
    pub connected: bool,
    /// `host:port` of the remote broker in use, or last tried.
    pub remote: Option<String>,
    /// Why the last connection failed or ended, in words.
    pub last_error: Option<String>,
    /// Messages sent to the remote and received from it, over the broker's life.
    pub sent: u64,
    pub received: u64,
}

/// Every bridge's [`BridgeInfo`], in config order.
#[derive(Debug, Default)]
pub(crate) struct BridgeStates(Mutex<Vec<BridgeInfo>>);

impl BridgeStates {
    pub fn snapshot(&self) -> Vec<BridgeInfo> {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Changes the entry of bridge `name`, adding it if new.
    pub fn update(&self, name: &str, change: impl FnOnce(&mut BridgeInfo)) {
        let Ok(mut states) = self.0.lock() else { return };
        if let Some(s) = states.iter_mut().find(|s| s.name == name) {
            change(s);
        } else {
            let mut s = BridgeInfo { name: name.to_owned(), ..BridgeInfo::default() };
            change(&mut s);
            states.push(s);
        }
    }
}
