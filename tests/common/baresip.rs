//! baresip, the real softphone of the phone tests: a WAV file as its microphone, what it hears
//! recorded by its `sndfile` module, calling `hotline serve` on loopback.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A 16-bit mono WAV file.
pub fn write_wav(path: &Path, samples: &[f32], rate: u32) {
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

/// A baresip configuration in `dir`: `mic` as the microphone, recordings into `heard`, PCMU,
/// the caller `caller` (its caller ID).
pub fn config(dir: &Path, mic: &Path, heard: &Path, caller: &str) {
    let sip_port = super::sip::free_sip_port();
    let rtp_port = 26000 + (std::process::id() % 100) as u16 * 40;
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
        format!("<sip:{caller}@127.0.0.1>;regint=0;audio_codecs=PCMU\n"),
    )
    .unwrap();
}

/// Starts baresip with the configuration in `dir`, dialling `sip_uri`, hanging up after
/// `seconds`; its output goes to `dir/baresip.log`.
pub fn dial(dir: &Path, sip_uri: &str, seconds: u64) -> Child {
    let log = std::fs::File::create(dir.join("baresip.log")).unwrap();
    Command::new("baresip")
        .arg("-f")
        .arg(dir)
        .args(["-e", &format!("/dial {sip_uri}")])
        .args(["-t", &seconds.to_string()])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("baresip runs (Debian package baresip; make setup installs it)")
}

/// What baresip heard (its decoded-audio recording in `heard`).
pub fn heard(heard: &Path) -> Option<PathBuf> {
    std::fs::read_dir(heard)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
}

/// A softphone set up to call: its microphone file (synthesized speech and silences), its
/// configuration and the folder its recording goes to, in a temporary directory.
pub struct Softphone {
    pub dir: tempfile::TempDir,
    pub heard: PathBuf,
    /// How long the microphone file plays.
    pub seconds: u64,
}

impl Softphone {
    /// `mic` at `rate` is what the caller `caller` (their caller ID) says.
    pub fn new(mic: &[f32], rate: u32, caller: &str) -> Softphone {
        let dir = tempfile::tempdir().unwrap();
        let heard = dir.path().join("heard");
        std::fs::create_dir_all(&heard).unwrap();
        let mic_path = dir.path().join("mic.wav");
        write_wav(&mic_path, mic, rate);
        config(dir.path(), &mic_path, &heard, caller);
        Softphone {
            dir,
            heard,
            seconds: (mic.len() / rate as usize) as u64,
        }
    }

    /// Calls `hotline@sip`, hanging up `extra_s` after the microphone file has played.
    pub fn dial(&self, sip: std::net::SocketAddr, extra_s: u64) -> Child {
        dial(
            self.dir.path(),
            &format!("sip:hotline@{sip}"),
            self.seconds + extra_s,
        )
    }

    /// What it heard (once the call is over).
    pub fn recording(&self) -> Option<PathBuf> {
        heard(&self.heard)
    }

    /// baresip's own output.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("baresip.log")).unwrap_or_default()
    }
}

/// A microphone file's samples: `before_s` of silence, `text` spoken by the test caller's
/// voice (espeak-ng), `after_s` of silence.
pub fn says(before_s: f32, text: &str, after_s: f32, rate: u32) -> Vec<f32> {
    let silence = |s: f32| std::iter::repeat_n(0.0, (s * rate as f32) as usize);
    let mut mic: Vec<f32> = silence(before_s).collect();
    mic.extend(
        hotline::eval::voice::CallerVoice::default()
            .synthesize(text, rate)
            .expect("espeak-ng speaks"),
    );
    mic.extend(silence(after_s));
    mic
}
