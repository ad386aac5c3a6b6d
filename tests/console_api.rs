//! The supervisor console's HTTP API on a real `hotline serve` (loopback, a real SQLite shop):
//! users made with `hotline user add` (and its refusals), log-in and its cookie, everything
//! refused without a login, with the wrong role, without the CSRF token or from another site,
//! failed log-ins limited per address, users managed by an admin, log-out, call history
//! search with details and recording playback, the KPIs and `/metrics`. The live call, listen-in
//! and take-over in a real browser are `tests/console_browser.rs`.

mod common;

use common::http::{Response, http};
use common::sip::Serve;
use hotline::store::{Outcome, Turn};

const SCENARIO: &str = "tests/scenarios-voice/01-status-by-caller-id.yaml";
const SUPERVISOR_PW: &str = "supervisor password";
const ADMIN_PW: &str = "the admin's password";

struct Login {
    cookie: String,
    csrf: String,
}

fn login(serve: &Serve, user: &str, password: &str) -> Response {
    let body = serde_json::json!({ "user": user, "password": password }).to_string();
    http(
        serve.web,
        "POST",
        "/console/login",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

fn logged_in(serve: &Serve, user: &str, password: &str) -> Login {
    let r = login(serve, user, password);
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = r.header("set-cookie").expect("a login cookie");
    let value = cookie.split(';').next().unwrap().to_string();
    Login {
        cookie: value,
        csrf: r.json()["csrf"].as_str().unwrap().to_string(),
    }
}

fn get(serve: &Serve, path: &str, login: Option<&Login>) -> Response {
    let cookie = login.map(|l| l.cookie.clone()).unwrap_or_default();
    http(serve.web, "GET", path, &[("Cookie", &cookie)], b"")
}

/// A request that changes something, with the login's cookie and CSRF token.
fn change(serve: &Serve, method: &str, path: &str, login: &Login, body: &str) -> Response {
    http(
        serve.web,
        method,
        path,
        &[
            ("Cookie", &login.cookie),
            ("X-CSRF-Token", &login.csrf),
            ("Origin", &format!("http://{}", serve.web)),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    )
}

#[test]
fn the_console_api_lets_in_only_who_it_should_and_serves_history_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    let record_dir = dir.path().join("recordings");
    std::fs::create_dir_all(&record_dir).unwrap();
    let serve = Serve::start(
        &common::root().join(SCENARIO),
        &[
            ("HOTLINE_CONSOLE_FAILED_LOGINS_PER_MINUTE", "6".to_string()),
            ("HOTLINE_WEB_RECORD_DIR", record_dir.display().to_string()),
        ],
    );

    // `hotline user add`: the password from standard input, the policy checked.
    for (name, role, password) in [
        ("supervisor", "supervisor", SUPERVISOR_PW),
        ("admin", "admin", ADMIN_PW),
    ] {
        let out = common::user_add(&serve.db_url, name, role, password);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for (name, role, password, why) in [
        ("supervisor", "supervisor", "another password", "exists"),
        ("short", "supervisor", "short", "at least 10"),
        (
            "owner",
            "owner",
            "a long enough password",
            "supervisor or admin",
        ),
        (
            "bad name",
            "supervisor",
            "a long enough password",
            "user name",
        ),
    ] {
        let out = common::user_add(&serve.db_url, name, role, password);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(why),
            "{name}: {stderr}"
        );
    }
    let stored = serve.with_store(async |s| s.console_user("supervisor").await.unwrap().unwrap());
    assert!(
        stored.password_hash.starts_with("$argon2id$")
            && !stored.password_hash.contains(SUPERVISOR_PW)
    );

    // Logged out: the app sends to the log-in page; every API route is 401.
    let r = get(&serve, "/console", None);
    assert_eq!(
        (r.status, r.header("location").as_deref()),
        (303, Some("/console/login"))
    );
    assert_eq!(get(&serve, "/console/login", None).status, 200);
    for path in [
        "/console/api/me",
        "/console/api/calls",
        "/console/api/live",
        "/console/api/calls/x/log",
        "/console/api/calls/x/audio",
        "/console/api/history",
        "/console/api/history/x",
        "/console/api/history/x/recording",
        "/console/api/kpis",
        "/console/api/users",
    ] {
        assert_eq!(get(&serve, path, None).status, 401, "{path}");
    }
    let forged = Login {
        cookie: format!("hotline_console={}", "ab".repeat(32)),
        csrf: "x".into(),
    };
    assert_eq!(get(&serve, "/console/api/me", Some(&forged)).status, 401);
    assert_eq!(
        change(
            &serve,
            "POST",
            "/console/api/calls/x/guide",
            &forged,
            r#"{"text":"hi"}"#
        )
        .status,
        401
    );

    // Log-in: wrong passwords and unknown users get the same answer; a bad body is 400; another
    // site's page is refused.
    let wrong = login(&serve, "supervisor", "not the password");
    let unknown = login(&serve, "nobody", "not the password");
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(
        http(serve.web, "POST", "/console/login", &[], b"user=x").status,
        400
    );
    let foreign = http(
        serve.web,
        "POST",
        "/console/login",
        &[("Origin", "http://evil.example")],
        br#"{"user":"supervisor","password":"supervisor password"}"#,
    );
    assert_eq!(foreign.status, 403);

    let sup = logged_in(&serve, "supervisor", SUPERVISOR_PW);
    let r = login(&serve, "supervisor", SUPERVISOR_PW);
    let cookie = r.header("set-cookie").unwrap();
    assert!(
        cookie.contains("httponly") && cookie.contains("samesite=strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("secure"),
        "plain http on loopback: no Secure flag ({cookie})"
    );
    // Reached by a name (through a TLS proxy), the cookie is Secure.
    let named = http(
        serve.web,
        "POST",
        "/console/login",
        &[
            ("Host", "console.shop.example"),
            ("Content-Type", "application/json"),
        ],
        br#"{"user":"supervisor","password":"supervisor password"}"#,
    );
    assert!(named.header("set-cookie").unwrap().contains("; secure"));
    let me = get(&serve, "/console/api/me", Some(&sup)).json();
    assert_eq!(
        (me["user"].as_str(), me["role"].as_str()),
        (Some("supervisor"), Some("supervisor"))
    );
    assert_eq!(get(&serve, "/console", Some(&sup)).status, 200);
    assert_eq!(
        get(&serve, "/console/api/calls", Some(&sup)).json(),
        serde_json::json!([])
    );

    // The wrong role: a supervisor cannot manage users.
    assert_eq!(get(&serve, "/console/api/users", Some(&sup)).status, 403);
    let add = r#"{"name":"carol","role":"supervisor","password":"carol's password"}"#;
    assert_eq!(
        change(&serve, "POST", "/console/api/users", &sup, add).status,
        403
    );

    // CSRF: a change without the token, with another login's token, or from another site's
    // page is refused; with all of them it reaches the call (none here).
    let no_token = http(
        serve.web,
        "POST",
        "/console/api/calls/x/guide",
        &[("Cookie", &sup.cookie)],
        br#"{"text":"hi"}"#,
    );
    assert_eq!(no_token.status, 403);
    let admin = logged_in(&serve, "admin", ADMIN_PW);
    let crossed = Login {
        cookie: sup.cookie.clone(),
        csrf: admin.csrf.clone(),
    };
    assert_eq!(
        change(
            &serve,
            "POST",
            "/console/api/calls/x/guide",
            &crossed,
            r#"{"text":"hi"}"#
        )
        .status,
        403
    );
    let from_elsewhere = http(
        serve.web,
        "POST",
        "/console/api/calls/x/guide",
        &[
            ("Cookie", &sup.cookie),
            ("X-CSRF-Token", &sup.csrf),
            ("Origin", "http://evil.example"),
        ],
        br#"{"text":"hi"}"#,
    );
    assert_eq!(from_elsewhere.status, 403);
    assert_eq!(
        change(
            &serve,
            "POST",
            "/console/api/calls/x/guide",
            &sup,
            r#"{"text":"hi"}"#
        )
        .status,
        404
    );
    assert_eq!(
        change(
            &serve,
            "POST",
            "/console/api/calls/x/guide",
            &sup,
            r#"{"text":""}"#
        )
        .status,
        400
    );
    assert_eq!(
        change(
            &serve,
            "POST",
            "/console/api/calls/x/guide",
            &sup,
            "not json"
        )
        .status,
        400
    );
    assert_eq!(
        change(&serve, "POST", "/console/api/calls/x/dance", &sup, "").status,
        404
    );
    // The listen-in socket needs the console's own page as its origin.
    let ws = http(
        serve.web,
        "GET",
        "/console/api/calls/x/audio",
        &[
            ("Cookie", &sup.cookie),
            ("Origin", "http://evil.example"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
        b"",
    );
    assert_eq!(ws.status, 403);

    // An admin manages users: the new one can log in; a removed one is logged out.
    assert_eq!(
        change(&serve, "POST", "/console/api/users", &admin, add).status,
        201
    );
    assert_eq!(
        change(&serve, "POST", "/console/api/users", &admin, add).status,
        409
    );
    let short = r#"{"name":"dave","role":"supervisor","password":"short"}"#;
    assert_eq!(
        change(&serve, "POST", "/console/api/users", &admin, short).status,
        400
    );
    let bad_role = r#"{"name":"dave","role":"owner","password":"long enough password"}"#;
    assert_eq!(
        change(&serve, "POST", "/console/api/users", &admin, bad_role).status,
        400
    );
    let users = get(&serve, "/console/api/users", Some(&admin)).json();
    assert_eq!(users.as_array().unwrap().len(), 3);
    assert!(
        !users.to_string().contains("argon2"),
        "no hashes leave the server"
    );
    let carol = logged_in(&serve, "carol", "carol's password");
    assert_eq!(
        change(&serve, "DELETE", "/console/api/users/carol", &admin, "").status,
        204
    );
    assert_eq!(get(&serve, "/console/api/me", Some(&carol)).status, 401);
    assert_eq!(
        change(&serve, "DELETE", "/console/api/users/admin", &admin, "").status,
        400
    );

    // History: calls found by phone, order and date, with their details and recording. One
    // call two days ago, one an hour ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let at = |ago: i64| hotline::store::timestamp(now - ago);
    let (t1, t2) = (at(2 * 86_400), at(3600));
    serve.with_store(async |s| {
        s.start_call("hist-1", &t1, "sip", Some("+15551230001"))
            .await
            .unwrap();
        s.record_audit(
            "hist-1",
            &t1,
            "get_order_status",
            &serde_json::json!({ "order_id": "100042" }),
            Outcome::Ok,
            "read",
        )
        .await
        .unwrap();
        for (idx, role, text, ms) in [
            (0, "assistant", "Hello Alice", None),
            (1, "caller", "where is order 100042", Some(900)),
            (2, "assistant", "It was delivered.", None),
        ] {
            s.record_turn(&Turn {
                call_id: "hist-1".into(),
                idx,
                role: role.into(),
                text: text.into(),
                asr_ms: ms.map(|m| m / 2),
                llm_first_ms: None,
                tts_first_ms: ms.map(|_| 200),
                end_to_end_ms: ms,
                answer_ms: ms.map(|m| m + 300),
            })
            .await
            .unwrap();
        }
        s.record_survey("hist-1", 5, &at(2 * 86_400 - 120))
            .await
            .unwrap();
        s.end_call("hist-1", &at(2 * 86_400 - 120), "resolved")
            .await
            .unwrap();
        s.start_call("hist-2", &t2, "webrtc", None).await.unwrap();
    });
    hotline::audio::wav::write(
        &record_dir.join("hist-1.wav"),
        &hotline::audio::Clip {
            samples: vec![0.1; 8000],
            sample_rate: 8000,
        },
    )
    .unwrap();
    let ids = |r: Response| -> Vec<String> {
        r.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(get(
            &serve,
            "/console/api/history?phone=1230001",
            Some(&sup)
        )),
        ["hist-1"]
    );
    assert_eq!(
        ids(get(&serve, "/console/api/history?order=100042", Some(&sup))),
        ["hist-1"]
    );
    let day = &t2[..10];
    assert_eq!(
        ids(get(
            &serve,
            &format!("/console/api/history?from={day}&to={day}"),
            Some(&sup)
        )),
        ["hist-2"]
    );
    assert_eq!(
        ids(get(&serve, "/console/api/history", Some(&sup))),
        ["hist-2", "hist-1"]
    );
    assert_eq!(
        get(&serve, "/console/api/history?from=yesterday", Some(&sup)).status,
        400
    );
    let detail = get(&serve, "/console/api/history/hist-1", Some(&sup)).json();
    assert_eq!(detail["turns"].as_array().unwrap().len(), 3);
    assert_eq!(detail["tools"][0]["tool"], "get_order_status");
    assert_eq!(
        (
            detail["recording"].as_bool(),
            detail["survey"]["score"].as_i64()
        ),
        (Some(true), Some(5))
    );
    let audio = get(&serve, "/console/api/history/hist-1/recording", Some(&sup));
    assert_eq!(
        (audio.status, audio.header("content-type").as_deref()),
        (200, Some("audio/wav"))
    );
    assert_eq!(
        get(&serve, "/console/api/history/hist-2/recording", Some(&sup)).status,
        404
    );
    assert_eq!(
        get(
            &serve,
            "/console/api/history/..%2Fhist-1/recording",
            Some(&sup)
        )
        .status,
        404
    );
    assert_eq!(
        get(&serve, "/console/api/history/nope", Some(&sup)).status,
        404
    );

    // The figures: the dashboard's JSON and Prometheus' text, over the last week.
    let k = get(&serve, "/console/api/kpis", Some(&sup)).json();
    assert_eq!(k["live_calls"], 0);
    let kpis = &k["kpis"];
    assert_eq!(
        (
            kpis["calls"].as_u64(),
            kpis["resolved"].as_u64(),
            kpis["in_progress"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{k}"
    );
    assert_eq!(
        (
            kpis["containment"].as_f64(),
            kpis["satisfaction"].as_f64(),
            kpis["average_handle_s"].as_f64()
        ),
        (Some(1.0), Some(5.0), Some(120.0)),
        "{k}"
    );
    let v2v = kpis["latency"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "voice_to_voice")
        .unwrap()
        .clone();
    assert_eq!(
        (v2v["p50_ms"].as_f64(), v2v["turns"].as_u64()),
        (Some(900.0), Some(1)),
        "{k}"
    );
    let metrics = http(serve.web, "GET", "/metrics", &[], b"");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .body
            .contains("# TYPE hotline_live_calls gauge\nhotline_live_calls 0\n"),
        "{}",
        metrics.body
    );
    assert!(
        metrics
            .body
            .contains("hotline_calls_ended{outcome=\"resolved\"} 1\n"),
        "{}",
        metrics.body
    );
    assert!(
        metrics
            .body
            .contains("hotline_latency_ms{stage=\"voice_to_voice\",quantile=\"0.5\"} 900\n")
    );

    // `hotline user passwd` (another process) ends the user's logins and keeps their role.
    let out = common::user_command(&serve.db_url, &["passwd", "admin"], "a new admin password");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(get(&serve, "/console/api/users", Some(&admin)).status, 401);
    let admin = logged_in(&serve, "admin", "a new admin password");
    assert_eq!(get(&serve, "/console/api/users", Some(&admin)).status, 200);
    let nobody = common::user_command(
        &serve.db_url,
        &["passwd", "nobody"],
        "a long enough password",
    );
    assert!(!nobody.status.success());

    // Log-out ends the login.
    assert_eq!(
        change(&serve, "POST", "/console/logout", &sup, "").status,
        204
    );
    assert_eq!(get(&serve, "/console/api/me", Some(&sup)).status, 401);

    // Failed log-ins are limited per address (6 a minute here; two failed above, so four more
    // are tried and the fifth is refused); then even the right password waits.
    let mut refused_at = None;
    for attempt in 1..=6 {
        if login(&serve, "supervisor", "guessing").status == 429 {
            refused_at = Some(attempt);
            break;
        }
    }
    assert_eq!(refused_at, Some(5));
    let limited = login(&serve, "supervisor", SUPERVISOR_PW);
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    assert!(!serve.log().contains("panicked"));
}
