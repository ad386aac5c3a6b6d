//! `hotline.toml`: one root [`Config`] made of per-part sections, every field defaulted.
//!
//! Precedence: built-in defaults < the TOML file < `HOTLINE_<SECTION>_<FIELD>` environment
//! variables (for example `HOTLINE_ASR_THREADS=4`, `HOTLINE_MODELS_DIR=/srv/models`).
//! [`Config::load`] reports every problem at once: unknown keys, bad values, missing files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything that can go wrong reading the configuration. `Invalid` lists every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config is not valid:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub models: ModelsConfig,
    pub asr: AsrConfig,
    pub tts: TtsConfig,
    pub llm: LlmConfig,
    pub store: StoreConfig,
    pub call: CallConfig,
    pub privacy: PrivacyConfig,
    pub sip: SipConfig,
    pub web: WebConfig,
    pub console: ConsoleConfig,
    pub log: LogConfig,
}

/// The supervisor console (`/console` on the web server; `src/console/`). Users are added with
/// `hotline user add`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Serve the console (and `/metrics`) at all.
    pub enabled: bool,
    /// How long a login lasts.
    pub login_lifetime_s: u64,
    /// Failed log-ins one client address may make per minute; beyond it 429.
    pub failed_logins_per_minute: usize,
    /// The login cookie's `Secure` flag: `auto` (set unless the console is reached on
    /// loopback, where browsers allow plain http), `always`, or `never`.
    pub secure_cookie: String,
    /// After the assistant hands a call over (and no `sip.agent_uri` takes it), how long the
    /// caller holds for someone in the console to pick it up before the assistant promises a
    /// call back (0: no holding; the hand-over is a call back at once).
    pub hold_for_person_s: u64,
    /// How far back the dashboard and `/metrics` look.
    pub kpi_window_hours: u64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            login_lifetime_s: 12 * 3600,
            failed_logins_per_minute: 10,
            secure_cookie: "auto".into(),
            hold_for_person_s: 120,
            kpi_window_hours: 24 * 7,
        }
    }
}

impl ConsoleConfig {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(60..=30 * 86_400).contains(&self.login_lifetime_s) {
            problems.push(format!(
                "console.login_lifetime_s must be between 60 and 2592000, not {}",
                self.login_lifetime_s
            ));
        }
        if !(1..=10_000).contains(&self.failed_logins_per_minute) {
            problems.push(format!(
                "console.failed_logins_per_minute must be between 1 and 10000, not {}",
                self.failed_logins_per_minute
            ));
        }
        if !["auto", "always", "never"].contains(&self.secure_cookie.as_str()) {
            problems.push(format!(
                "console.secure_cookie must be auto, always or never, not {:?}",
                self.secure_cookie
            ));
        }
        if self.hold_for_person_s > 3600 {
            problems.push(format!(
                "console.hold_for_person_s must be 3600 or less, not {}",
                self.hold_for_person_s
            ));
        }
        if !(1..=24 * 366).contains(&self.kpi_window_hours) {
            problems.push(format!(
                "console.kpi_window_hours must be between 1 and 8784, not {}",
                self.kpi_window_hours
            ));
        }
        problems
    }

    /// How long a handed-over caller holds for a person (None: no holding).
    pub fn hold_for_person(&self) -> Option<std::time::Duration> {
        (self.enabled && self.hold_for_person_s > 0)
            .then(|| std::time::Duration::from_secs(self.hold_for_person_s))
    }
}

/// Browser calls: the web server of `hotline serve` (`src/web/`): the demo shop page, the
/// voice widget and WebRTC.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Serve the web channel at all.
    pub enabled: bool,
    /// Where HTTP listens. Browsers allow the microphone only on https:// pages or on
    /// localhost: put a TLS proxy in front for other hosts.
    pub listen: String,
    /// Local UDP addresses for WebRTC media (`0.0.0.0:0`: every interface, any port).
    pub ice_udp: Vec<String>,
    /// STUN/TURN servers for both peers (real deployments behind NAT).
    pub ice_servers: Vec<crate::web::webrtc_transport::IceServer>,
    /// Browser calls at once; beyond it an offer gets 503.
    pub max_calls: usize,
    /// Browser calls at once from one client address (an IPv6 /64); beyond it 429.
    pub calls_per_address: usize,
    /// Offers one client address may make per minute; beyond it 429.
    pub offers_per_minute: usize,
    /// Other sites whose pages may embed the widget and place calls, e.g.
    /// `https://shop.example.com` (`*`: any). hotline's own pages may when addressed by IP or
    /// `localhost`; served under a host name, list that origin too (DNS rebinding).
    pub allowed_origins: Vec<String>,
    /// The secret shop pages sign their logged-in shopper's token with (HMAC-SHA256, 16
    /// characters or more). None: every browser caller is anonymous.
    pub customer_token_secret: Option<String>,
    /// Where each browser call's stereo recording is written (none: not recorded).
    pub record_dir: Option<PathBuf>,
    /// Longest browser call (0: no limit).
    pub max_call_s: u64,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1:8080".into(),
            ice_udp: vec!["0.0.0.0:0".into()],
            ice_servers: Vec::new(),
            max_calls: 4,
            calls_per_address: 2,
            offers_per_minute: 10,
            allowed_origins: Vec::new(),
            customer_token_secret: None,
            record_dir: None,
            max_call_s: 1800,
        }
    }
}

impl WebConfig {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            problems.push(format!(
                "web.listen must be an address and port like 127.0.0.1:8080, not {:?}",
                self.listen
            ));
        }
        if self.ice_udp.is_empty() {
            problems.push("web.ice_udp needs at least one address, e.g. 0.0.0.0:0".into());
        }
        for addr in &self.ice_udp {
            if addr.parse::<std::net::SocketAddr>().is_err() {
                problems.push(format!(
                    "web.ice_udp: {addr:?} is not an address and port like 0.0.0.0:0"
                ));
            }
        }
        for server in &self.ice_servers {
            if server.urls.is_empty()
                || server.urls.iter().any(|u| {
                    !(u.starts_with("stun:") || u.starts_with("turn:") || u.starts_with("turns:"))
                })
            {
                problems.push(format!(
                    "web.ice_servers: {:?} must be stun:, turn: or turns: URLs",
                    server.urls
                ));
            }
        }
        if !(1..=1000).contains(&self.max_calls) {
            problems.push(format!(
                "web.max_calls must be between 1 and 1000, not {}",
                self.max_calls
            ));
        }
        if !(1..=1000).contains(&self.calls_per_address) {
            problems.push(format!(
                "web.calls_per_address must be between 1 and 1000, not {}",
                self.calls_per_address
            ));
        }
        if !(1..=10_000).contains(&self.offers_per_minute) {
            problems.push(format!(
                "web.offers_per_minute must be between 1 and 10000, not {}",
                self.offers_per_minute
            ));
        }
        for origin in &self.allowed_origins {
            if origin != "*" && !(origin.starts_with("https://") || origin.starts_with("http://")) {
                problems.push(format!(
                    "web.allowed_origins: {origin:?} must be like https://shop.example.com or *"
                ));
            }
        }
        if let Some(secret) = &self.customer_token_secret
            && secret.len() < crate::web::customer_token::MIN_SECRET_LEN
        {
            problems.push(format!(
                "web.customer_token_secret must be {} characters or more",
                crate::web::customer_token::MIN_SECRET_LEN
            ));
        }
        problems
    }
}

/// Phone calls: the SIP user agent and RTP media of `hotline serve` (`src/sip/`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SipConfig {
    /// Where SIP listens, on UDP and TCP.
    pub listen: String,
    /// The address put in Contact and SDP (default: the listen address, or this host's first
    /// address when listening on 0.0.0.0). Set it when a NAT sits between hotline and the PBX.
    pub public_address: Option<String>,
    /// Even RTP ports are drawn from this range (RTCP on the port above).
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// Calls at once; beyond it a new call gets 503 with Retry-After.
    pub max_calls: usize,
    pub retry_after_s: u32,
    /// Sources (IPs or CIDR ranges) trusted to place calls and to tell the caller id (a
    /// known customer's number then verifies the caller). Others must authenticate against
    /// `accounts`, or, with no accounts, are refused. Empty: anyone may call, and no caller
    /// id is believed. Default: this machine only.
    pub allow: Vec<String>,
    /// Accounts that may place calls with digest authentication (a trunk's or PBX's
    /// credentials). With none, calls need no password. With `allow` too, listed sources call
    /// without a password and the rest must authenticate.
    pub accounts: Vec<SipAccount>,
    /// The realm of the digest challenges.
    pub realm: String,
    /// Where each call's stereo recording is written (none: not recorded).
    pub record_dir: Option<PathBuf>,
    /// A call whose far end sends no RTP or RTCP for this long (and is not holding the call)
    /// is hung up: a phone that vanished without a BYE. 0: never.
    pub media_timeout_s: u64,
    /// Longest call; then hotline says nothing more and hangs up (0: no limit). Also ends
    /// calls held forever by a caller that vanished.
    pub max_call_s: u64,
    /// Numbers dialled (the Request-URI's user part, e.g. a shop's Mandarin line) whose callers
    /// are greeted in Mandarin; others are greeted in English. Either way the conversation
    /// follows the language the caller speaks (with `asr.language = "auto"`).
    pub mandarin_numbers: Vec<String>,
    /// Register with a PBX as an extension (calls then come through the PBX).
    pub register: Option<SipRegister>,
    /// Where `transfer_to_human` sends the caller (a blind transfer by REFER), e.g.
    /// `sip:support@pbx.example.com`. None: the assistant says a colleague will call back.
    pub agent_uri: Option<String>,
}

impl SipConfig {
    /// The greeting's language for a call to `dialled`.
    pub fn language_of_number(&self, dialled: Option<&str>) -> crate::dialog::language::Language {
        use crate::dialog::language::Language;
        match dialled {
            Some(number) if self.mandarin_numbers.iter().any(|n| n == number) => Language::Zh,
            _ => Language::En,
        }
    }
}

/// `[sip.register]`: the extension hotline registers as.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SipRegister {
    /// The registrar, e.g. `sip:pbx.example.com:5060`.
    pub registrar: String,
    /// The extension (the user part of the address of record).
    pub user: String,
    pub password: String,
    /// Digest user name when the PBX gives one apart from the extension.
    pub auth_user: Option<String>,
    /// Requested binding lifetime; hotline refreshes at 75% of what the registrar grants.
    #[serde(default = "default_register_expires")]
    pub expires_s: u32,
}

fn default_register_expires() -> u32 {
    300
}

/// A user name and password for digest authentication.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SipAccount {
    pub user: String,
    pub password: String,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:5060".into(),
            public_address: None,
            rtp_port_min: 20000,
            rtp_port_max: 20999,
            max_calls: 8,
            retry_after_s: 30,
            allow: vec!["127.0.0.0/8".into(), "::1".into()],
            accounts: Vec::new(),
            realm: "hotline".into(),
            record_dir: None,
            media_timeout_s: 60,
            max_call_s: 3600,
            mandarin_numbers: Vec::new(),
            agent_uri: None,
            register: None,
        }
    }
}

/// Turn-taking, barge-in and latency masking of voice calls (`src/call/`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CallConfig {
    /// Silence that ends the caller's turn.
    pub end_silence_ms: u64,
    /// The same while the assistant waits for digits or an ID (people pause between groups).
    pub digits_end_silence_ms: u64,
    /// The silence that ends the caller's answer to a yes-or-no question when its words,
    /// decoded during the pause, sound finished ("Yes, please go ahead."; not "yes, and"):
    /// `vad::finished_words`. Requests keep end_silence_ms: callers pause between their
    /// sentences. Equal to end_silence_ms: off. Needs speculation (speculate_after_ms > 0).
    pub finished_end_silence_ms: u64,
    /// Transcribe and plan speculatively after this much silence (0: off, and the model does
    /// not read the conversation ahead while the caller speaks either).
    pub speculate_after_ms: u64,
    /// Caller voice over the assistant's speech pauses it after this long.
    pub barge_in_pause_ms: u64,
    /// ... and stops it for good after this long (shorter: a cough or "uh-huh", it resumes).
    pub barge_in_confirm_ms: u64,
    /// A turn that will call a tool gets a stock filler ("One moment.") when its answer is not
    /// ready after this long; 0: as soon as the turn ends (the answer queues behind it).
    pub filler_after_ms: u64,
    /// Partial transcripts while the caller talks, this often (0: none). Each is a Whisper
    /// decode: on a small server they compete with the end of the turn for the CPU.
    pub partial_every_ms: u64,
    /// A pause this long after a DTMF key ends the entry (`#` ends it at once).
    pub dtmf_inter_digit_ms: u64,
    /// Longest stretch of a call recorded (stereo, caller left, assistant right; where it is
    /// written is the caller of `call::pipeline::start_call`'s choice).
    pub max_recording_s: u64,
}

impl Default for CallConfig {
    fn default() -> Self {
        Self {
            end_silence_ms: 700,
            digits_end_silence_ms: 1600,
            finished_end_silence_ms: 500,
            speculate_after_ms: 200,
            barge_in_pause_ms: 60,
            barge_in_confirm_ms: 600,
            filler_after_ms: 0,
            partial_every_ms: 0,
            dtmf_inter_digit_ms: 2500,
            max_recording_s: 3600,
        }
    }
}

/// What stored text may not hold.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Kinds removed from stored transcripts and summaries: `card`, `iban`, `ssn`.
    pub redact: Vec<String>,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            redact: vec!["card".into(), "iban".into(), "ssn".into()],
        }
    }
}

impl PrivacyConfig {
    /// The configured redactor (`None` when nothing is redacted). Unknown kinds were refused
    /// by validation and are skipped here.
    pub fn redactor(&self) -> Option<crate::store::redact::Redactor> {
        use crate::store::redact::{PiiKind, Redactor};
        let kinds: Vec<PiiKind> = self
            .redact
            .iter()
            .filter_map(|k| PiiKind::parse(k))
            .collect();
        (!kinds.is_empty()).then(|| Redactor::new(&kinds))
    }
}

/// The shop database.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://PATH?mode=rwc` (default, a file) or `postgres://USER@HOST:PORT/DB`.
    pub url: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://hotline.db?mode=rwc".into(),
        }
    }
}

/// Where the model artifacts live. File names are those in `models/models.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ModelsConfig {
    /// Folder holding the artifacts (links into the cache after `hotline models fetch`).
    pub dir: PathBuf,
    /// The model manifest.
    pub manifest: PathBuf,
    /// Download and conversion cache, shared between checkouts; keyed by sha256.
    pub cache_dir: PathBuf,
    /// The Python interpreter of the converters' virtual environment.
    pub python: PathBuf,
    /// The ONNX Runtime shared library (checked before the first ort call).
    pub onnxruntime: PathBuf,
    /// The folder that contains `espeak-ng-data` (Piper's phonemizer data).
    pub espeak_data: PathBuf,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        let cache_dir = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(|| PathBuf::from(".cache"))
            .join("hotline");
        Self {
            dir: PathBuf::from("models"),
            manifest: PathBuf::from("models/models.toml"),
            cache_dir,
            python: PathBuf::from(".venv/bin/python"),
            onnxruntime: PathBuf::from("models/libonnxruntime.so"),
            espeak_data: PathBuf::from("models"),
        }
    }
}

/// Which Whisper model a call uses.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum WhisperModel {
    /// Multilingual (hears Mandarin), weights in f16.
    #[serde(rename = "base")]
    Base,
    /// The same with its weight matrices in 8-bit blocks: half the size, decodes faster.
    #[serde(rename = "base-q8_0")]
    BaseQ8,
    /// English only, about twice as fast as base.
    #[serde(rename = "tiny.en")]
    TinyEn,
    #[serde(rename = "tiny.en-q8_0")]
    TinyEnQ8,
}

impl WhisperModel {
    /// The artifact file name in `models/`.
    pub fn file_name(self) -> &'static str {
        match self {
            WhisperModel::Base => "ggml-base.bin",
            WhisperModel::BaseQ8 => "ggml-base-q8_0.bin",
            WhisperModel::TinyEn => "ggml-tiny.en.bin",
            WhisperModel::TinyEnQ8 => "ggml-tiny.en-q8_0.bin",
        }
    }

    /// The name in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            WhisperModel::Base => "base",
            WhisperModel::BaseQ8 => "base-q8_0",
            WhisperModel::TinyEn => "tiny.en",
            WhisperModel::TinyEnQ8 => "tiny.en-q8_0",
        }
    }

    /// Hears English only (it has no language tokens).
    pub fn english_only(self) -> bool {
        matches!(self, WhisperModel::TinyEn | WhisperModel::TinyEnQ8)
    }

    pub const ALL: [WhisperModel; 4] = [
        WhisperModel::Base,
        WhisperModel::BaseQ8,
        WhisperModel::TinyEn,
        WhisperModel::TinyEnQ8,
    ];
}

/// The model that decodes a call's English first (`[asr] english_first`), or none.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum EnglishFirst {
    #[serde(rename = "none")]
    Off,
    #[serde(untagged)]
    Model(WhisperModel),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AsrConfig {
    /// The model of every language (Mandarin included, with a multilingual model).
    pub model: WhisperModel,
    /// While a call is in English, this (English-only, faster) model decodes first; when it is
    /// unsure of what it heard, `model` checks the language, and Mandarin goes to `model`.
    /// With `language = "en"` it decodes every turn; with `"zh"` it is not used. `none`:
    /// `model` alone.
    pub english_first: EnglishFirst,
    /// `auto` (each utterance is decoded in the call's current language and switches to the
    /// other when Whisper clearly hears English or Mandarin instead), `en` or `zh` (fixed).
    pub language: String,
    pub threads: usize,
}

impl Default for AsrConfig {
    fn default() -> Self {
        Self {
            model: WhisperModel::BaseQ8,
            english_first: EnglishFirst::Model(WhisperModel::TinyEnQ8),
            language: "auto".into(),
            threads: 2,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TtsConfig {
    /// The English voice: any Piper voice (the `.onnx` file; its `.onnx.json` must sit beside
    /// it), or an American English Kokoro voice's style table (`models/kokoro-af_heart.bin`).
    pub voice: PathBuf,
    /// The Kokoro voice (a `.bin` style table) that speaks Mandarin.
    pub mandarin_voice: PathBuf,
    /// Kokoro's model and phoneme vocabulary (for every Kokoro voice).
    pub kokoro_model: PathBuf,
    pub kokoro_vocab: PathBuf,
    /// How much each rendering of a Piper voice varies, 0-1: 1 is the voice file's own
    /// randomness (natural), 0 says a sentence the same way every time (reproducible audio,
    /// which the test suite uses).
    pub variation: f32,
}

impl Default for TtsConfig {
    fn default() -> Self {
        Self {
            voice: PathBuf::from("models/en_US-joe-medium.onnx"),
            mandarin_voice: PathBuf::from("models/kokoro-zf_xiaobei.bin"),
            kokoro_model: PathBuf::from("models/kokoro-v1.0.int8.onnx"),
            kokoro_vocab: PathBuf::from("models/kokoro-v1.0.vocab.json"),
            variation: 1.0,
        }
    }
}

impl TtsConfig {
    /// The files of the Mandarin voice.
    pub fn kokoro_files(&self) -> crate::tts::KokoroFiles {
        crate::tts::KokoroFiles {
            model: self.kokoro_model.clone(),
            vocab: self.kokoro_vocab.clone(),
            voice: self.mandarin_voice.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// A decoder-only ONNX model in the Hugging Face KV-cache layout.
    pub model: PathBuf,
    pub tokenizer: PathBuf,
    /// The model description written by the converter (layers, heads, chat template).
    pub model_config: PathBuf,
    pub threads: usize,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            // Chosen by measurement (README, "Choosing the dialog model").
            model: PathBuf::from("models/qwen2.5-coder-0.5b-instruct.q8.onnx"),
            tokenizer: PathBuf::from("models/qwen2.5-coder-0.5b-instruct.tokenizer.json"),
            model_config: PathBuf::from("models/qwen2.5-coder-0.5b-instruct.hotline-llm.json"),
            threads: 2,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A `tracing` filter, e.g. `info` or `hotline=debug,ort=warn`. `RUST_LOG` wins if set.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            filter: "info,ort=warn,whisper_rs=warn,rsipstack=warn".into(),
        }
    }
}

impl SipConfig {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            problems.push(format!(
                "sip.listen must be an address and port like 0.0.0.0:5060, not {:?}",
                self.listen
            ));
        }
        if let Some(addr) = &self.public_address
            && addr.parse::<std::net::IpAddr>().is_err()
        {
            problems.push(format!(
                "sip.public_address must be an IP address, not {addr:?}"
            ));
        }
        if self.rtp_port_min < 1024 || self.rtp_port_max <= self.rtp_port_min {
            problems.push(format!(
                "sip.rtp_port_min..rtp_port_max must be a range above 1023, not {}..{}",
                self.rtp_port_min, self.rtp_port_max
            ));
        }
        if !(1..=1000).contains(&self.max_calls) {
            problems.push(format!(
                "sip.max_calls must be between 1 and 1000, not {}",
                self.max_calls
            ));
        }
        if let Some(uri) = &self.agent_uri
            && !(uri.starts_with("sip:") || uri.starts_with("sips:") || uri.starts_with("tel:"))
        {
            problems.push(format!(
                "sip.agent_uri must be a sip:, sips: or tel: URI, not {uri:?}"
            ));
        }
        if let Some(r) = &self.register {
            if !(r.registrar.starts_with("sip:") || r.registrar.starts_with("sips:")) {
                problems.push(format!(
                    "sip.register.registrar must be a sip: URI, not {:?}",
                    r.registrar
                ));
            }
            if !(30..=86_400).contains(&r.expires_s) {
                problems.push(format!(
                    "sip.register.expires_s must be between 30 and 86400, not {}",
                    r.expires_s
                ));
            }
        }
        for account in &self.accounts {
            if account.user.is_empty() || account.password.len() < 8 {
                problems.push(format!(
                    "sip.accounts: {:?} needs a user name and a password of 8 characters or more",
                    account.user
                ));
            }
        }
        for net in &self.allow {
            if crate::sip::access::IpNet::parse(net).is_none() {
                problems.push(format!("sip.allow: {net:?} is not an IP or CIDR range"));
            }
        }
        problems
    }
}

const ENV_PREFIX: &str = "HOTLINE_";

/// What `hotline config` prints in place of a secret.
const REDACTED: &str = "(set, not shown)";

impl Config {
    /// The configuration with its secrets (passwords, the token secret) replaced, for printing.
    pub fn redacted(&self) -> Config {
        let mut c = self.clone();
        for account in &mut c.sip.accounts {
            account.password = REDACTED.into();
        }
        if let Some(r) = &mut c.sip.register {
            r.password = REDACTED.into();
        }
        for server in &mut c.web.ice_servers {
            if !server.credential.is_empty() {
                server.credential = REDACTED.into();
            }
        }
        if c.web.customer_token_secret.is_some() {
            c.web.customer_token_secret = Some(REDACTED.into());
        }
        c
    }

    /// Reads `path` (a missing file at the default path means "all defaults"), applies the
    /// `HOTLINE_*` variables from `env`, and validates. Every problem is reported at once.
    pub fn load(
        path: &Path,
        must_exist: bool,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !must_exist => String::new(),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Self::from_toml_and_env(&text, env)
    }

    /// Parses TOML text, applies `HOTLINE_*` overrides and validates.
    pub fn from_toml_and_env(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let mut table: toml::Table = match text.parse() {
            Ok(table) => table,
            Err(err) => return Err(ConfigError::Invalid(vec![format!("hotline.toml: {err}")])),
        };
        apply_env(&mut table, env, &mut problems);
        let config = match toml::Value::Table(table).try_into::<Config>() {
            Ok(config) => config,
            Err(err) => {
                problems.push(err.message().to_string());
                return Err(ConfigError::Invalid(problems));
            }
        };
        problems.extend(config.problems());
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// Semantic checks that serde cannot express.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !["en", "zh", "auto"].contains(&self.asr.language.as_str()) {
            problems.push(format!(
                "asr.language must be en, zh or auto, not {:?}",
                self.asr.language
            ));
        }
        if let EnglishFirst::Model(model) = self.asr.english_first
            && !model.english_only()
        {
            // A multilingual model told to hear English translates Mandarin, and sure of
            // itself: the language check would never run.
            problems.push(format!(
                "asr.english_first must be an English-only model (tiny.en, tiny.en-q8_0) or \"none\", not {:?}",
                model.name()
            ));
        }
        for (name, threads) in [
            ("asr.threads", self.asr.threads),
            ("llm.threads", self.llm.threads),
        ] {
            if !(1..=64).contains(&threads) {
                problems.push(format!("{name} must be between 1 and 64, not {threads}"));
            }
        }
        if !matches!(
            self.tts.voice.extension().and_then(|e| e.to_str()),
            Some("onnx" | "bin")
        ) {
            problems.push(format!(
                "tts.voice must be a Piper .onnx file or an English Kokoro voice .bin, not {}",
                self.tts.voice.display()
            ));
        }
        if self.tts.mandarin_voice.extension().and_then(|e| e.to_str()) != Some("bin") {
            problems.push(format!(
                "tts.mandarin_voice must be a Kokoro voice .bin, not {}",
                self.tts.mandarin_voice.display()
            ));
        }
        if !(0.0..=1.0).contains(&self.tts.variation) {
            problems.push(format!(
                "tts.variation must be between 0 and 1, not {}",
                self.tts.variation
            ));
        }
        if self.tts.mandarin_voice.extension().and_then(|e| e.to_str()) != Some("bin") {
            problems.push(format!(
                "tts.mandarin_voice must be a Kokoro voice (.bin), not {}",
                self.tts.mandarin_voice.display()
            ));
        }
        if !(self.store.url.starts_with("sqlite://")
            || self.store.url.starts_with("postgres://")
            || self.store.url.starts_with("postgresql://"))
        {
            problems.push(format!(
                "store.url must start with sqlite:// or postgres://, not {:?}",
                self.store.url
            ));
        }
        for kind in &self.privacy.redact {
            if crate::store::redact::PiiKind::parse(kind).is_none() {
                problems.push(format!(
                    "privacy.redact: {kind:?} is not one of card, iban, ssn"
                ));
            }
        }
        let c = &self.call;
        if !(100..=5000).contains(&c.end_silence_ms) {
            problems.push(format!(
                "call.end_silence_ms must be between 100 and 5000, not {}",
                c.end_silence_ms
            ));
        }
        if c.digits_end_silence_ms < c.end_silence_ms || c.digits_end_silence_ms > 10_000 {
            problems.push(format!(
                "call.digits_end_silence_ms must be between end_silence_ms and 10000, not {}",
                c.digits_end_silence_ms
            ));
        }
        if c.finished_end_silence_ms < c.speculate_after_ms
            || c.finished_end_silence_ms > c.end_silence_ms
        {
            problems.push(format!(
                "call.finished_end_silence_ms must be between speculate_after_ms and end_silence_ms, not {}",
                c.finished_end_silence_ms
            ));
        }
        if c.speculate_after_ms >= c.end_silence_ms {
            problems.push(format!(
                "call.speculate_after_ms must be below end_silence_ms (or 0), not {}",
                c.speculate_after_ms
            ));
        }
        if c.barge_in_pause_ms == 0 || c.barge_in_confirm_ms < c.barge_in_pause_ms {
            problems.push(format!(
                "call.barge_in_pause_ms ({}) must be positive and at most barge_in_confirm_ms ({})",
                c.barge_in_pause_ms, c.barge_in_confirm_ms
            ));
        }
        problems.extend(self.sip.problems());
        problems.extend(self.web.problems());
        problems.extend(self.console.problems());
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&self.log.filter) {
            problems.push(format!("log.filter {:?}: {err}", self.log.filter));
        }
        problems
    }
}

/// Applies `HOTLINE_<SECTION>_<FIELD>=value` overrides. Section names hold no underscore, so
/// `HOTLINE_MODELS_CACHE_DIR` is `models.cache_dir`. A value is read as a TOML scalar or array
/// when it parses as one (`4`, `true`, `["10.0.0.0/8"]`), else as a string.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
    problems: &mut Vec<String>,
) {
    let overrides: BTreeMap<String, String> = env
        .into_iter()
        .filter(|(key, _)| key.starts_with(ENV_PREFIX))
        .collect();
    for (key, raw) in overrides {
        let rest = key[ENV_PREFIX.len()..].to_ascii_lowercase();
        let Some((section, field)) = rest.split_once('_') else {
            problems.push(format!(
                "{key}: expected HOTLINE_<SECTION>_<FIELD>, e.g. HOTLINE_ASR_THREADS"
            ));
            continue;
        };
        let value = format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .filter(|v| !v.is_table())
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        let entry = table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match entry.as_table_mut() {
            Some(section_table) => {
                section_table.insert(field.to_string(), value);
            }
            None => problems.push(format!("{key}: [{section}] is not a section")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_file_gives_defaults() {
        let config = Config::from_toml_and_env("", env(&[])).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn env_overrides_file() {
        let config = Config::from_toml_and_env(
            "[asr]\nthreads = 3\nmodel = \"tiny.en\"\n",
            env(&[
                ("HOTLINE_ASR_THREADS", "4"),
                ("HOTLINE_MODELS_CACHE_DIR", "/srv/cache"),
                ("HOTLINE_WEB_ICE_UDP", r#"["127.0.0.1:0"]"#),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(config.asr.threads, 4);
        assert_eq!(config.asr.model, WhisperModel::TinyEn);
        assert_eq!(config.models.cache_dir, PathBuf::from("/srv/cache"));
        assert_eq!(config.web.ice_udp, vec!["127.0.0.1:0".to_string()]);
    }

    #[test]
    fn the_english_first_model_is_named_or_none() {
        let default = Config::from_toml_and_env("", env(&[])).unwrap();
        assert_eq!(default.asr.model, WhisperModel::BaseQ8);
        assert_eq!(
            default.asr.english_first,
            EnglishFirst::Model(WhisperModel::TinyEnQ8)
        );
        let off = Config::from_toml_and_env(
            "[asr]\nmodel = \"base\"\n",
            env(&[("HOTLINE_ASR_ENGLISH_FIRST", "none")]),
        )
        .unwrap();
        assert_eq!(off.asr.english_first, EnglishFirst::Off);
        assert_eq!(off.asr.model, WhisperModel::Base);
        let tiny =
            Config::from_toml_and_env("[asr]\nenglish_first = \"tiny.en\"\n", env(&[])).unwrap();
        assert_eq!(
            tiny.asr.english_first,
            EnglishFirst::Model(WhisperModel::TinyEn)
        );
        // A misspelt model is an error, not silently off.
        assert!(Config::from_toml_and_env("[asr]\nenglish_first = \"tiny\"\n", env(&[])).is_err());
        for model in WhisperModel::ALL {
            assert!(model.file_name().contains(model.name()), "{model:?}");
        }
    }

    #[test]
    fn printed_configuration_hides_secrets() {
        let config = Config::from_toml_and_env(
            "[web]\ncustomer_token_secret = \"a secret of sixteen+\"\n\
             [sip]\naccounts = [{ user = \"trunk\", password = \"trunk-password\" }]\n",
            env(&[]),
        )
        .unwrap();
        let printed = toml::to_string_pretty(&config.redacted()).unwrap();
        assert!(!printed.contains("a secret of sixteen+") && !printed.contains("trunk-password"));
        assert!(printed.contains("user = \"trunk\""));
        assert_eq!(
            config.web.customer_token_secret.as_deref(),
            Some("a secret of sixteen+")
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = Config::from_toml_and_env(
            "[asr]\nlanguage = \"fr\"\nthreads = 0\n[tts]\nvoice = \"x.wav\"\n",
            env(&[]),
        )
        .unwrap_err();
        let ConfigError::Invalid(problems) = err else {
            panic!("expected Invalid, got {err}")
        };
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn the_english_voice_may_be_piper_or_kokoro() {
        for voice in ["models/en_US-joe-medium.onnx", "models/kokoro-af_heart.bin"] {
            let config =
                Config::from_toml_and_env(&format!("[tts]\nvoice = \"{voice}\"\n"), env(&[]))
                    .unwrap();
            assert_eq!(config.tts.voice, PathBuf::from(voice));
        }
        let err = Config::from_toml_and_env("[tts]\nmandarin_voice = \"x.onnx\"\n", env(&[]))
            .unwrap_err();
        assert!(err.to_string().contains("tts.mandarin_voice"), "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Config::from_toml_and_env("[asr]\nthreds = 2\n", env(&[])).unwrap_err();
        assert!(err.to_string().contains("threds"), "{err}");
        let err = Config::from_toml_and_env("", env(&[("HOTLINE_NOPE", "1")])).unwrap_err();
        assert!(err.to_string().contains("HOTLINE_NOPE"), "{err}");
    }

    #[test]
    fn broken_toml_is_a_clear_error() {
        let err = Config::from_toml_and_env("[asr\n", env(&[])).unwrap_err();
        assert!(err.to_string().contains("hotline.toml"), "{err}");
    }

    #[test]
    fn missing_default_file_is_fine_but_named_file_is_not() {
        let path = Path::new("/nonexistent/hotline.toml");
        assert!(Config::load(path, false, env(&[])).is_ok());
        assert!(matches!(
            Config::load(path, true, env(&[])),
            Err(ConfigError::Read { .. })
        ));
    }
}
