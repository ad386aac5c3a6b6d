//! A real softphone calls in: baresip (Debian package) with a WAV file as its microphone (a
//! customer asking where their order is, synthesized with espeak-ng) and its `sndfile` module
//! recording what it hears. The recording is transcribed with Whisper and must give the status
//! of the caller's order from the shop database; the latency at the RTP edge is read from the
//! turn the server stored.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::sip::{Serve, field};
use hotline::eval::voice::CallerVoice;

const SCENARIO: &str = "tests/scenarios-voice/01-status-by-caller-id.yaml";
const CALLER: &str = "+15551230001";
/// The caller waits this long for the greeting, asks, then listens until the file ends.
const GREETING_S: f32 = 6.0;
const LISTEN_S: f32 = 16.0;

fn write_wav(path: &Path, samples: &[f32], rate: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

fn baresip_config(dir: &Path, mic: &Path, heard: &Path, sip_port: u16, rtp_port: u16) {
    let modules = "/usr/lib/baresip/modules";
    std::fs::write(
        dir.join("config"),
        format!(
            "poll_method\tepoll\n\
             sip_listen\t127.0.0.1:{sip_port}\n\
             audio_path\t/usr/share/baresip\n\
             audio_player\taubridge,nowhere\n\
             audio_source\taufile,{mic}\n\
             audio_alert\taubridge,nowhere\n\
             ausrc_srate\t8000\n\
             auplay_srate\t8000\n\
             rtp_ports\t{rtp_port}-{}\n\
             module_path\t{modules}\n\
             module\tg711.so\n\
             module\taufile.so\n\
             module\taubridge.so\n\
             module\tsndfile.so\n\
             module\tmenu.so\n\
             module_app\taccount.so\n\
             snd_path\t{heard}\n",
            rtp_port + 20,
            mic = mic.display(),
            heard = heard.display(),
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("accounts"),
        format!("<sip:{CALLER}@127.0.0.1>;regint=0;audio_codecs=PCMU\n"),
    )
    .unwrap();
}

#[test]
fn baresip_asks_where_its_order_is_and_hears_the_answer() {
    common::model("ggml-base.bin");
    let serve = Serve::start(&common::root().join(SCENARIO), &[]);
    let dir = tempfile::tempdir().unwrap();
    let heard = dir.path().join("heard");
    std::fs::create_dir_all(&heard).unwrap();

    // The microphone: silence while the greeting plays, the question, silence to listen.
    let rate = 8000;
    let question = CallerVoice::default()
        .synthesize("Hi, where is my order?", rate)
        .expect("espeak-ng speaks");
    let mut mic = vec![0.0f32; (GREETING_S * rate as f32) as usize];
    mic.extend_from_slice(&question);
    mic.extend(std::iter::repeat_n(0.0, (LISTEN_S * rate as f32) as usize));
    let mic_path = dir.path().join("mic.wav");
    write_wav(&mic_path, &mic, rate);
    let call_s = mic.len() as f32 / rate as f32;

    let sip_port = common::sip::free_sip_port();
    let rtp_port = 26000 + (std::process::id() % 100) as u16 * 40;
    baresip_config(dir.path(), &mic_path, &heard, sip_port, rtp_port);
    let started = Instant::now();
    let out = Command::new("baresip")
        .arg("-f")
        .arg(dir.path())
        .args(["-e", &format!("/dial sip:hotline@{}", serve.sip)])
        .args(["-t", &format!("{}", call_s.ceil() as u64 + 2)])
        .stdin(Stdio::null())
        .output()
        .expect("baresip runs (Debian package baresip; make setup installs it)");
    let baresip_log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("baresip ran {:.1} s", started.elapsed().as_secs_f64());

    let calls = serve.wait_finished(1, Duration::from_secs(30));
    let call = &calls[0];
    eprintln!("call: {call:?}");
    assert!(field(call, "rtp_received") > 500, "{call:?}\n{baresip_log}");
    assert!(field(call, "speech_sent") > 100, "{call:?}");

    // What the softphone heard, transcribed.
    let recording = std::fs::read_dir(&heard)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .unwrap_or_else(|| {
            panic!(
                "baresip recorded nothing in {}:\n{baresip_log}",
                heard.display()
            )
        });
    let transcript = common::transcribe(&recording);
    eprintln!("baresip heard: {transcript}");
    // The status, given without asking for an order number or ZIP code: the caller id (from
    // this machine, a trusted source) verified the customer. Whisper hears the greeting's
    // name as "Alice" or "alas" through G.711, so the name itself is not checked.
    // The server's side of the conversation, to say what went wrong if anything did.
    let call_id = call["call"].clone();
    let turns = serve.with_store(async |store| store.turns_of_call(&call_id).await.unwrap());
    if !transcript.contains("delivered") {
        // The recording stays for a listen: what reached the softphone, or what Whisper missed.
        let kept = common::root().join("target/test-artifacts/sip_baresip-heard.wav");
        let _ = std::fs::create_dir_all(kept.parent().unwrap());
        let _ = std::fs::copy(&recording, &kept);
        panic!(
            "the answer did not give the order's status: {transcript}\n\
             the server's turns: {turns:?}\nthe recording: {}",
            kept.display()
        );
    }

    // The RTP-edge latency of the question, as stored with the turn.
    common::sip::question_latency(&turns, "RTP");
}
