//! Sessions under an ACL scope other than the global one: a listener's own ACL
//! (`per_listener_settings`) and none for a bridge, kept across reloads.

use super::tests::{link, login};
use super::*;

fn acl(text: &str) -> Arc<Acl> {
    Arc::new(Acl::parse(text).0)
}

fn readable(r: &mut Router, client: &str, topic: &str) -> bool {
    r.session_mut(client).unwrap().may_read(&TopicName::new(topic).unwrap())
}

#[test]
fn each_session_keeps_its_scope_s_acl_across_reloads() {
    let mut r = Router::new(Limits::NONE, None);
    let set = |global: &str, listener: &str| AclSet { global: Some(acl(global)), listeners: vec![Some(acl(listener))] };
    r.set_acl(set("topic read global/#\n", "topic read one/#\n"));
    r.connect(login("g", None, true, None), link(1));
    r.connect_scoped(login("l", None, true, None), link(2), AclScope::Listener(0));
    r.connect_scoped(login("b", None, true, None), link(3), AclScope::Trusted);
    let reads = |r: &mut Router, topic| ["g", "l", "b"].map(|c| readable(r, c, topic));
    assert_eq!(reads(&mut r, "global/x"), [true, false, true]);
    assert_eq!(reads(&mut r, "one/x"), [false, true, true]);
    r.set_acl(set("topic read global/#\n", "topic read two/#\n"));
    assert_eq!(reads(&mut r, "one/x"), [false, false, true], "the listener's new ACL");
    assert_eq!(reads(&mut r, "two/x"), [false, true, true]);
    // The same client id back on the global scope: the global ACL from now on.
    r.connect(login("l", None, true, None), link(4));
    r.set_acl(set("topic read global/#\n", "topic read two/#\n"));
    assert_eq!(reads(&mut r, "two/x"), [false, false, true]);
}
