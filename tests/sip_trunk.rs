//! Trunk and PBX integration against SIPp as the far side: hotline registers with a PBX's
//! registrar as an extension (digest auth, checked by SIPp's `verifyauth`), and a trunk that
//! is not on the allowlist must answer a digest challenge to place a call (right password: the
//! call is answered; wrong password: 403).

mod common;

use std::time::{Duration, Instant};

use common::sip::{Serve, free_sip_port, sipp, sipp_errors};

const SCENARIO: &str = "tests/scenarios-voice/01-status-by-caller-id.yaml";

#[test]
fn registers_with_a_pbx_and_authenticates_a_trunk() {
    common::model("ggml-base.bin");
    let dir = tempfile::tempdir().unwrap();
    let scenarios = common::root().join("sip/scenarios");

    // The PBX's registrar, waiting for hotline.
    let registrar_port = free_sip_port().to_string();
    let registrar_dir = dir.path().to_path_buf();
    let registrar_xml = scenarios.join("registrar.xml");
    let port = registrar_port.clone();
    let registrar = std::thread::spawn(move || {
        sipp(
            &registrar_dir,
            &[
                "-sf",
                registrar_xml.to_str().unwrap(),
                "-i",
                "127.0.0.1",
                "-p",
                &port,
                "-m",
                "1",
            ],
            Duration::from_secs(90),
        )
    });
    std::thread::sleep(Duration::from_millis(500));

    let serve = Serve::start_with(
        &common::root().join(SCENARIO),
        &[],
        &format!(
            "[sip]\n\
             allow = [\"10.9.0.0/16\"]\n\
             accounts = [{{ user = \"trunk\", password = \"trunk-secret-1\" }}]\n\
             [sip.register]\n\
             registrar = \"sip:127.0.0.1:{registrar_port}\"\n\
             user = \"2001\"\n\
             password = \"ext-2001-pw\"\n\
             expires_s = 60\n"
        ),
    );
    let out = registrar.join().unwrap();
    assert!(
        out.status.success(),
        "the registrar did not see a valid registration:\n{}\n{}\nserver:\n{}",
        String::from_utf8_lossy(&out.stdout),
        sipp_errors(dir.path()),
        serve.log()
    );
    let started = Instant::now();
    while !serve.log().contains("registered with sip:127.0.0.1") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A trunk on loopback (not on the allowlist) answers the challenge.
    let call = |password: &str| {
        sipp(
            dir.path(),
            &[
                "-sf",
                scenarios.join("auth_caller.xml").to_str().unwrap(),
                "-i",
                "127.0.0.1",
                "-mi",
                "127.0.0.1",
                "-p",
                &free_sip_port().to_string(),
                "-au",
                "trunk",
                "-ap",
                password,
                "-m",
                "1",
                &serve.sip.to_string(),
            ],
            Duration::from_secs(60),
        )
    };
    let out = call("trunk-secret-1");
    assert!(
        out.status.success(),
        "the authenticated call failed:\n{}\n{}\nserver:\n{}",
        String::from_utf8_lossy(&out.stdout),
        sipp_errors(dir.path()),
        serve.log()
    );
    serve.wait_finished(1, Duration::from_secs(30));

    let out = call("not-the-password");
    assert!(!out.status.success(), "a wrong password placed a call");
    let log = serve.log();
    assert!(
        log.contains("refused a call") && log.contains("wrong password for \"trunk\""),
        "{log}"
    );
    assert_eq!(serve.finished_calls().len(), 1, "{log}");
}
