//! The planner: the language model choosing the assistant's next action for a caller's turn,
//! under a grammar that admits only the catalog's tools with arguments drawn from what the
//! conversation knows, or one of a fixed set of reply kinds.
//!
//! The model runs on its own thread ([`Planner::start`]); sessions send it [`PlanRequest`]s
//! through a bounded queue and await the [`Plan`]. One KV-cache sequence is kept: every prompt
//! starts with the same system prompt and examples, so their keys and values are computed once
//! per process and reused by every call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::catalog::{ToolSpec, action_schema_with_say, describe, shop_tools};
use super::language::Language;
use crate::cancel::CancelToken;
use crate::config::LlmConfig;
use crate::llm::chat_template::{ChatTemplate, Role};
use crate::llm::constrained::ConstraintFactory;
use crate::llm::{GenerateOptions, Generator, LlmError};
use crate::onnx_runtime::OrtRuntime;

/// Requests waiting for the model beyond this are refused (the caller hears "one moment" from
/// the session and is offered a person rather than waiting without bound).
pub const QUEUE_CAPACITY: usize = 32;

/// Tokens an action may take (the longest, an address change, needs about 60).
const MAX_ACTION_TOKENS: usize = 96;

/// Replies the model may choose without a tool. Their words are templates
/// (`dialog::reply`), never the model's.
pub const SAY_KINDS: [&str; 8] = [
    "help",
    "ask_order_id",
    "ask_address",
    "ask_complaint",
    "off_topic",
    "thanks",
    "goodbye",
    "not_understood",
];

/// A candidate that is no tool: the model may only choose a reply kind.
pub const SAY_ONLY: &str = "say";

/// What the conversation knows, which bounds the arguments the model may use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    /// Order numbers the caller said, and the verified caller's own orders.
    pub order_ids: Vec<String>,
    /// SKUs on those orders (verified callers only).
    pub skus: Vec<String>,
    /// Variants of the products on those orders.
    pub variants: Vec<String>,
    pub verified: bool,
    /// Tools the caller's words point at (`dialog::intent`); empty: any tool or reply.
    pub candidates: Vec<&'static str>,
}

/// One caller turn to act on.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// What the conversation knows, written out for the model (`Orders: ...`).
    pub context: String,
    pub caller_text: String,
    pub known: Known,
    /// The language of the prompt and examples.
    pub language: Language,
}

/// The model's action and what it took.
#[derive(Debug, Clone)]
pub struct Plan {
    pub action: Value,
    pub raw: String,
    pub prompt_tokens: usize,
    pub reused_tokens: usize,
    pub tokens: usize,
    pub time_to_first_token: Duration,
    pub elapsed: Duration,
    /// Time spent waiting in the queue before the model took the request.
    pub queued: Duration,
    /// When the first token came.
    pub first_token_at: Instant,
    /// Made speculatively (`prefetch`) before it was asked for.
    pub speculative: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PlannerError {
    #[error("the planner queue is full ({QUEUE_CAPACITY} waiting)")]
    Busy,
    #[error("the planner thread has stopped")]
    Stopped,
    #[error("the language model failed: {0}")]
    Llm(#[from] LlmError),
    #[error("the model's action is not valid JSON: {0}")]
    BadOutput(String),
}

struct Job {
    request: PlanRequest,
    sent: Instant,
    /// `None`: a speculative job, kept for the request that may follow.
    reply: Option<oneshot::Sender<Result<Plan, PlannerError>>>,
    cancel: CancelToken,
}

/// What the planner thread is asked to do.
enum Work {
    Plan(Job),
    /// A caller began to speak: compute the prompt up to their words.
    ReadAhead {
        language: Language,
        context: String,
    },
}

/// A handle on the planner thread; cheap to clone, one per session.
#[derive(Clone)]
pub struct Planner {
    jobs: mpsc::SyncSender<Work>,
    /// Speculative jobs waiting in the queue (they must not crowd out real turns).
    speculative: Arc<AtomicUsize>,
    /// Work of any kind waiting in the queue.
    waiting: Arc<AtomicUsize>,
}

/// At most this many speculative jobs wait at once, all calls together; more are refused.
pub const MAX_SPECULATIVE: usize = 4;
/// A speculative plan older than this is not used (the conversation has moved on).
const MEMO_TTL: Duration = Duration::from_secs(10);

impl Planner {
    /// Starts the planner thread with its model and grammar compiler, and returns once the
    /// thread has warmed up (so that no caller's first turn competes with the warm-up).
    pub fn start(generator: Generator, factory: ConstraintFactory) -> std::io::Result<Planner> {
        let (jobs, queue) = mpsc::sync_channel::<Work>(QUEUE_CAPACITY);
        let (ready_tx, ready) = mpsc::sync_channel::<()>(1);
        let speculative = Arc::new(AtomicUsize::new(0));
        let waiting = Arc::new(AtomicUsize::new(0));
        let counts = Counts {
            speculative: speculative.clone(),
            waiting: waiting.clone(),
        };
        thread::Builder::new()
            .name("llm-planner".into())
            .spawn(move || run(generator, factory, queue, ready_tx, counts))?;
        // A thread that failed early drops the sender: requests then fail with `Stopped`.
        let _ = ready.recv();
        Ok(Planner {
            jobs,
            speculative,
            waiting,
        })
    }

    /// Loads the configured model, tokenizer and grammar compiler and starts the thread.
    pub fn load(ort: &OrtRuntime, config: &LlmConfig) -> Result<Planner, PlannerError> {
        let generator = Generator::load(
            ort,
            &config.model,
            &config.tokenizer,
            &config.model_config,
            config.threads,
        )?;
        let factory = ConstraintFactory::new(
            &config.tokenizer,
            generator.vocab_size(),
            generator.stop_ids(),
        )?;
        Planner::start(generator, factory).map_err(|e| {
            PlannerError::Llm(LlmError::Inference(format!(
                "cannot start the planner thread: {e}"
            )))
        })
    }

    /// A planner whose thread has stopped: every request fails (for tests of that path).
    #[cfg(test)]
    pub(crate) fn stopped() -> Planner {
        let (jobs, queue) = mpsc::sync_channel(1);
        drop(queue);
        Planner {
            jobs,
            speculative: Arc::new(AtomicUsize::new(0)),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Queues `work`, counting it as waiting until the thread takes it.
    fn send(&self, work: Work) -> Result<(), PlannerError> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.jobs.try_send(work).map_err(|e| {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            match e {
                mpsc::TrySendError::Full(_) => PlannerError::Busy,
                mpsc::TrySendError::Disconnected(_) => PlannerError::Stopped,
            }
        })
    }

    /// The model's next action for `request`.
    pub async fn plan(&self, request: PlanRequest) -> Result<Plan, PlannerError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            request,
            sent: Instant::now(),
            reply: Some(reply),
            cancel: CancelToken::new(),
        };
        self.send(Work::Plan(job))?;
        answer.await.map_err(|_| PlannerError::Stopped)?
    }

    /// Plans `request` in the background (the caller has paused but the turn has not ended).
    /// A `plan` with the very same request then answers at once. Returns false when the
    /// queue is full (speculation is only ever an optimisation).
    pub fn prefetch(&self, request: PlanRequest, cancel: CancelToken) -> bool {
        if self.speculative.fetch_add(1, Ordering::SeqCst) >= MAX_SPECULATIVE {
            self.speculative.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        let job = Job {
            request,
            sent: Instant::now(),
            reply: None,
            cancel,
        };
        let queued = self.send(Work::Plan(job)).is_ok();
        if !queued {
            self.speculative.fetch_sub(1, Ordering::SeqCst);
        }
        queued
    }

    /// A caller began to speak: computes the prompt up to their words (the system prompt, the
    /// examples and `context`, what the conversation knows) while they talk, so that a plan
    /// on their words then computes only those. Skipped when the model has work waiting;
    /// returns whether it was queued.
    pub fn read_ahead(&self, language: Language, context: String) -> bool {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            return false;
        }
        self.send(Work::ReadAhead { language, context }).is_ok()
    }
}

/// The planner thread's share of the handles' counters.
struct Counts {
    speculative: Arc<AtomicUsize>,
    waiting: Arc<AtomicUsize>,
}

fn run(
    mut generator: Generator,
    factory: ConstraintFactory,
    queue: mpsc::Receiver<Work>,
    ready: mpsc::SyncSender<()>,
    counts: Counts,
) {
    let template = generator.config().chat_template;
    // One sequence per prompt language, so that each keeps its own prefix cached.
    let mut sequences = Vec::new();
    for _ in [Language::En, Language::Zh] {
        match generator.new_sequence() {
            Ok(seq) => sequences.push(seq),
            Err(e) => {
                drop(ready);
                for work in queue {
                    counts.waiting.fetch_sub(1, Ordering::SeqCst);
                    if let Work::Plan(job) = work {
                        match job.reply {
                            Some(reply) => {
                                let _ = reply.send(Err(PlannerError::Llm(LlmError::Inference(
                                    e.to_string(),
                                ))));
                            }
                            None => {
                                counts.speculative.fetch_sub(1, Ordering::SeqCst);
                            }
                        }
                    }
                }
                return;
            }
        }
    }
    let options = GenerateOptions {
        max_new_tokens: MAX_ACTION_TOKENS,
        ..GenerateOptions::default()
    };
    // Compute each language's system prompt and examples (keys and values) once, before the
    // first caller waits for them: every later prompt in that language reuses them.
    let warm_options = GenerateOptions {
        max_new_tokens: 1,
        ..GenerateOptions::default()
    };
    for (sequence, language) in sequences.iter_mut().zip([Language::En, Language::Zh]) {
        let hello = if language == Language::Zh {
            "您好"
        } else {
            "Hello"
        };
        let warm = prompt_for(
            template,
            language,
            &user_message(language, "Orders: none known", hello),
        );
        if let Err(e) =
            generator.generate(sequence, &warm, &warm_options, &CancelToken::new(), |_| {})
        {
            tracing::warn!("planner warm-up ({language:?}) failed: {e}");
        }
    }
    let _ = ready.send(());
    // The last speculative plan, keyed by its prompt and grammar: a real request that is
    // exactly the same (same conversation, same words) takes it instead of decoding again.
    let mut memo: Option<(String, Plan, Instant)> = None;
    for work in queue {
        counts.waiting.fetch_sub(1, Ordering::SeqCst);
        let job = match work {
            Work::Plan(job) => job,
            Work::ReadAhead { language, context } => {
                // Work that came in meanwhile stops the reading, before it starts or between
                // its steps: it would only wait behind it.
                let seq = &mut sequences[usize::from(language == Language::Zh)];
                let prefix = prompt_prefix(template, language, &context);
                let started = Instant::now();
                let go_on = || counts.waiting.load(Ordering::SeqCst) == 0;
                match generator.read_ahead(seq, &prefix, go_on) {
                    Ok(computed) => tracing::debug!(
                        computed,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "read ahead"
                    ),
                    Err(e) => tracing::debug!("reading ahead failed: {e}"),
                }
                continue;
            }
        };
        if job.reply.is_none() {
            counts.speculative.fetch_sub(1, Ordering::SeqCst);
        }
        let queued = job.sent.elapsed();
        let language = job.request.language;
        let user = user_message(language, &job.request.context, &job.request.caller_text);
        let prompt = prompt_for(template, language, &user);
        let schema = grammar(&job.request.known);
        let key = format!("{prompt}\u{0}{schema}");
        if job.reply.is_some()
            && memo
                .as_ref()
                .is_some_and(|(k, _, made)| *k == key && made.elapsed() < MEMO_TTL)
            && let Some((_, mut plan, _)) = memo.take()
            && let Some(reply) = job.reply
        {
            plan.queued = queued;
            let _ = reply.send(Ok(plan));
            continue;
        }
        if job.cancel.is_cancelled() {
            continue;
        }
        let seq = &mut sequences[usize::from(language == Language::Zh)];
        let started = Instant::now();
        let result = factory
            .json_schema(schema)
            .map_err(PlannerError::from)
            .and_then(|mut constraint| {
                generator
                    .generate_constrained(
                        seq,
                        &prompt,
                        &options,
                        Some(&mut constraint),
                        &job.cancel,
                        |_| {},
                    )
                    .map_err(PlannerError::from)
            })
            .and_then(|g| {
                let action = serde_json::from_str(&g.text)
                    .map_err(|e| PlannerError::BadOutput(format!("{e}: {:?}", g.text)))?;
                Ok(Plan {
                    action,
                    raw: g.text,
                    prompt_tokens: g.prompt_tokens,
                    reused_tokens: g.reused_tokens,
                    tokens: g.tokens,
                    time_to_first_token: g.time_to_first_token,
                    elapsed: g.elapsed,
                    queued,
                    first_token_at: started + g.time_to_first_token,
                    speculative: job.reply.is_none(),
                })
            });
        if let Ok(plan) = &result {
            tracing::debug!(
                prompt_tokens = plan.prompt_tokens,
                reused = plan.reused_tokens,
                tokens = plan.tokens,
                first_token_ms = plan.time_to_first_token.as_millis() as u64,
                elapsed_ms = plan.elapsed.as_millis() as u64,
                queued_ms = queued.as_millis() as u64,
                speculative = plan.speculative,
                "plan timing"
            );
        }
        match job.reply {
            // The session may have gone (the caller hung up): nothing to do then.
            Some(reply) => {
                let _ = reply.send(result);
            }
            None => {
                if let Ok(plan) = result
                    && !job.cancel.is_cancelled()
                {
                    memo = Some((key, plan, Instant::now()));
                }
            }
        }
    }
}

/// The caller's turn as the model sees it: what is known, then the words.
fn user_message(language: Language, context: &str, caller_text: &str) -> String {
    match language {
        Language::En => format!("{context}\nCaller: {caller_text}"),
        Language::Zh => format!("{context}\n来电者：{caller_text}"),
    }
}

/// The prompt up to the caller's words (its last token is the same in the whole prompt: the
/// words start a new one, `Caller:| I`).
fn prompt_prefix(template: ChatTemplate, language: Language, context: &str) -> String {
    const WORDS: &str = "\u{1}";
    let mut prompt = prompt_for(template, language, &user_message(language, context, WORDS));
    if let Some(at) = prompt.rfind(WORDS) {
        prompt.truncate(at);
    }
    prompt.truncate(prompt.trim_end_matches(' ').len());
    prompt
}

/// The whole prompt: the system prompt, the examples as earlier turns, then `user`.
fn prompt_for(template: ChatTemplate, language: Language, user: &str) -> String {
    let system = system_prompt(language);
    let examples: &[(&str, &str)] = match language {
        Language::En => &EXAMPLES,
        Language::Zh => &EXAMPLES_ZH,
    };
    let mut messages: Vec<(Role, &str)> = vec![(Role::System, &system)];
    for (example, action) in examples {
        messages.push((Role::User, example));
        messages.push((Role::Assistant, action));
    }
    messages.push((Role::User, user));
    template.render(&messages)
}

/// The grammar of the next action given what is known: tools about an order only when an
/// order is known, with `order_id`, `sku` and `variant` limited to the known ones.
pub fn grammar(known: &Known) -> Value {
    let enum_of = |values: &[String]| json!({"type": "string", "enum": values});
    let tools: Vec<ToolSpec> = shop_tools()
        .into_iter()
        .filter(|t| !(known.verified && t.name == "verify_identity"))
        .filter(|t| known.candidates.is_empty() || known.candidates.contains(&t.name))
        .filter_map(|mut t| {
            let required = t.args["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|k| k == "order_id"));
            let props = t.args["properties"].as_object_mut()?;
            if props.contains_key("order_id") {
                if known.order_ids.is_empty() {
                    if required {
                        return None;
                    }
                    props.remove("order_id");
                } else {
                    props.insert("order_id".into(), enum_of(&known.order_ids));
                }
            }
            if props.contains_key("sku") && !known.skus.is_empty() {
                props.insert("sku".into(), enum_of(&known.skus));
            }
            if props.contains_key("variant") && !known.variants.is_empty() {
                props.insert("variant".into(), enum_of(&known.variants));
            }
            // Summaries and reasons are taken from the caller's own words by the session;
            // keep the model's short.
            for key in ["summary", "reason", "topic"] {
                if props.contains_key(key) {
                    props.insert(
                        key.into(),
                        json!({"type": "string", "minLength": 1, "maxLength": 40}),
                    );
                }
            }
            Some(t)
        })
        .collect();
    // When the caller's words point at tools, the model chooses among them; if none of them
    // can run without an order number, it can only ask for one.
    let say: Vec<&str> = match (known.candidates.is_empty(), tools.is_empty()) {
        _ if known.candidates == [SAY_ONLY] => vec!["help", "off_topic"],
        (true, _) => SAY_KINDS.to_vec(),
        (false, true) => vec!["ask_order_id"],
        (false, false) => Vec::new(),
    };
    let mut schema = action_schema_with_say(&tools, json!({"type": "string", "enum": say}));
    if say.is_empty()
        && let Some(choices) = schema["anyOf"].as_array_mut()
    {
        choices.pop();
    }
    schema
}

/// Worked examples, given to the model as earlier turns of the conversation (a small model
/// follows examples in that form far better than in the system prompt: measured, README).
const EXAMPLES: [(&str, &str); 27] = [
    (
        "Orders: none known\nCaller: Hi there!",
        r#"{"say": "help"}"#,
    ),
    (
        "Orders: 100042 (delivered: HP-200 Wireless Headphones black)\nCaller: Where is my parcel?",
        r#"{"tool": "track_shipment", "args": {"order_id": "100042"}}"#,
    ),
    (
        "Orders: 204518 (mentioned)\nCaller: What's the status of order 204518?",
        r#"{"tool": "get_order_status", "args": {"order_id": "204518"}}"#,
    ),
    (
        "Orders: 100042 (mentioned)\nCaller: My ZIP code is 94107.",
        r#"{"tool": "verify_identity", "args": {"order_id": "100042", "zip": "94107"}}"#,
    ),
    (
        "Orders: 310077 (placed: TEE-01 Cotton T-Shirt M)\nCaller: Please cancel my order, I don't need it anymore.",
        r#"{"tool": "cancel_order", "args": {"order_id": "310077", "reason": "not needed"}}"#,
    ),
    (
        "Orders: 310077 (placed: TEE-01 Cotton T-Shirt M)\nCaller: Can you send it to 12 Oak Street, Springfield, 62704 instead?",
        r#"{"tool": "change_shipping_address", "args": {"order_id": "310077", "street": "12 Oak Street", "city": "Springfield", "zip": "62704"}}"#,
    ),
    (
        "Orders: 100042 (delivered: HP-200 Wireless Headphones black)\nCaller: I want to send the headphones back, they stopped charging.",
        r#"{"tool": "start_return", "args": {"order_id": "100042", "sku": "HP-200", "reason": "stopped charging"}}"#,
    ),
    (
        "Orders: 100042 (delivered: HP-200 Wireless Headphones black)\nCaller: Has my money come back yet?",
        r#"{"tool": "get_refund_status", "args": {"order_id": "100042"}}"#,
    ),
    (
        "Orders: 100042 (delivered: HP-200 Wireless Headphones black)\nCaller: Could I swap them for the white ones?",
        r#"{"tool": "request_exchange", "args": {"order_id": "100042", "sku": "HP-200", "variant": "white"}}"#,
    ),
    (
        "Orders: 100042 (delivered: HP-200 Wireless Headphones black)\nCaller: The driver was really rude and threw the box.",
        r#"{"tool": "file_complaint", "args": {"order_id": "100042", "summary": "rude driver"}}"#,
    ),
    (
        "Orders: 100042 (delivered: HP-200 Wireless Headphones black)\nCaller: Anything else you'd suggest for me?",
        r#"{"tool": "recommend_products", "args": {}}"#,
    ),
    (
        "Orders: none known\nCaller: I'd rate this call a four.",
        r#"{"tool": "record_survey", "args": {"score": 4}}"#,
    ),
    (
        "Orders: none known\nCaller: Where is my order?",
        r#"{"say": "ask_order_id"}"#,
    ),
    (
        "Orders: none known\nCaller: Who won the game last night?",
        r#"{"say": "off_topic"}"#,
    ),
    (
        "Orders: none known\nCaller: Thanks, that's all. Bye!",
        r#"{"say": "goodbye"}"#,
    ),
    (
        "Orders: 515151 (shipped: KB-7 Keyboard)\nCaller: When will it get here?",
        r#"{"tool": "track_shipment", "args": {"order_id": "515151"}}"#,
    ),
    (
        "Orders: 515151 (placed: KB-7 Keyboard)\nCaller: Has my order shipped yet?",
        r#"{"tool": "get_order_status", "args": {"order_id": "515151"}}"#,
    ),
    (
        "Orders: 515151 (placed: KB-7 Keyboard)\nCaller: I changed my mind, cancel it please.",
        r#"{"tool": "cancel_order", "args": {"order_id": "515151", "reason": "changed mind"}}"#,
    ),
    (
        "Orders: 515151 (delivered: KB-7 Keyboard)\nCaller: This keyboard is faulty, I want to send it back.",
        r#"{"tool": "start_return", "args": {"order_id": "515151", "sku": "KB-7", "reason": "faulty"}}"#,
    ),
    (
        "Orders: 515151 (delivered: SH-1 Running Shoes 9)\nCaller: These are too small, can I get a size 10 instead?",
        r#"{"tool": "request_exchange", "args": {"order_id": "515151", "sku": "SH-1", "variant": "10"}}"#,
    ),
    (
        "Orders: 515151 (delivered: KB-7 Keyboard)\nCaller: When do I get my money back for the return?",
        r#"{"tool": "get_refund_status", "args": {"order_id": "515151"}}"#,
    ),
    (
        "Orders: 515151 (delivered: KB-7 Keyboard)\nCaller: I'm really unhappy, the box was crushed.",
        r#"{"tool": "file_complaint", "args": {"order_id": "515151", "summary": "box crushed"}}"#,
    ),
    (
        "Orders: none known\nCaller: The call was great, five out of five.",
        r#"{"tool": "record_survey", "args": {"score": 5}}"#,
    ),
    (
        "Orders: 515151 (delivered: KB-7 Keyboard)\nCaller: What would go well with my keyboard?",
        r#"{"tool": "recommend_products", "args": {"topic": "keyboard"}}"#,
    ),
    (
        "Orders: none known\nCaller: Great, thank you so much.",
        r#"{"say": "thanks"}"#,
    ),
    (
        "Orders: 777001 (mentioned)\nCaller: It's jane@example.com",
        r#"{"tool": "verify_identity", "args": {"order_id": "777001", "email": "jane@example.com"}}"#,
    ),
    (
        "Orders: none known\nCaller: Get me a human, now.",
        r#"{"tool": "transfer_to_human", "args": {"summary": "asked for a person"}}"#,
    ),
];

/// The tools described in Chinese, for the Chinese prompt.
const TOOLS_ZH: [(&str, &str); 12] = [
    (
        "verify_identity",
        "核实来电者身份：订单号加上订单上的邮编或电子邮箱。",
    ),
    ("get_order_status", "查询来电者某个订单的状态和商品。"),
    ("track_shipment", "查询订单包裹的物流位置和送达时间。"),
    ("cancel_order", "取消尚未发货的订单。"),
    ("change_shipping_address", "修改尚未发货订单的收货地址。"),
    ("start_return", "在退货期内为某件商品办理退货。"),
    ("get_refund_status", "查询订单的退款进度。"),
    ("request_exchange", "把商品换成有货的其他尺码或颜色。"),
    ("file_complaint", "为客服团队登记投诉。"),
    ("recommend_products", "根据来电者的购买记录推荐商品。"),
    ("transfer_to_human", "转接人工客服，并附上摘要。"),
    ("record_survey", "记录来电者1到5分的满意度评分。"),
];

/// Worked examples for the Chinese prompt.
const EXAMPLES_ZH: [(&str, &str); 12] = [
    ("订单：无\n来电者：你好！", r#"{"say": "help"}"#),
    (
        "订单：100042（delivered: HP-200 Wireless Headphones black）\n来电者：我的包裹到哪了？",
        r#"{"tool": "track_shipment", "args": {"order_id": "100042"}}"#,
    ),
    (
        "订单：204518（来电者提到）\n来电者：帮我查一下订单204518的状态。",
        r#"{"tool": "get_order_status", "args": {"order_id": "204518"}}"#,
    ),
    (
        "订单：100042（来电者提到）\n来电者：邮编是94107。",
        r#"{"tool": "verify_identity", "args": {"order_id": "100042", "zip": "94107"}}"#,
    ),
    (
        "订单：310077（placed: TEE-01 Cotton T-Shirt M）\n来电者：我不想要了，帮我取消订单。",
        r#"{"tool": "cancel_order", "args": {"order_id": "310077", "reason": "不需要了"}}"#,
    ),
    (
        "订单：100042（delivered: HP-200 Wireless Headphones black）\n来电者：耳机充不进电，我要退货。",
        r#"{"tool": "start_return", "args": {"order_id": "100042", "sku": "HP-200", "reason": "充不进电"}}"#,
    ),
    (
        "订单：100042（delivered: HP-200 Wireless Headphones black）\n来电者：我的退款到账了吗？",
        r#"{"tool": "get_refund_status", "args": {"order_id": "100042"}}"#,
    ),
    (
        "订单：100042（delivered: HP-200 Wireless Headphones black）\n来电者：能换成白色的吗？",
        r#"{"tool": "request_exchange", "args": {"order_id": "100042", "sku": "HP-200", "variant": "white"}}"#,
    ),
    (
        "订单：100042（delivered: HP-200 Wireless Headphones black）\n来电者：快递员态度太差了，我要投诉。",
        r#"{"tool": "file_complaint", "args": {"order_id": "100042", "summary": "快递员态度差"}}"#,
    ),
    (
        "订单：无\n来电者：我给五分。",
        r#"{"tool": "record_survey", "args": {"score": 5}}"#,
    ),
    (
        "订单：无\n来电者：我的订单在哪里？",
        r#"{"say": "ask_order_id"}"#,
    ),
    (
        "订单：无\n来电者：明天天气怎么样？",
        r#"{"say": "off_topic"}"#,
    ),
];

/// The fixed part of every prompt in `language`: the job, the tools and the reply kinds.
pub fn system_prompt(language: Language) -> String {
    if language == Language::Zh {
        let tools: Vec<String> = TOOLS_ZH
            .iter()
            .map(|(name, what)| format!("- {name}：{what}"))
            .collect();
        return format!(
            "你是一家网店的电话客服助手。对来电者的每句话，只回答一个JSON动作：\
             使用工具时为 {{\"tool\": 工具名, \"args\": {{...}}}}，不用工具时为 {{\"say\": 类型}}。\n\
             工具：\n{}\n\
             回复类型：help（问候或请求不清楚）、ask_order_id（提到订单但没有订单号）、ask_address（要改地址但没说新地址）、\
             ask_complaint（来电者不满但没说原因）、off_topic（与本店无关）、thanks、goodbye、not_understood。\n\
             只能使用“订单”中列出的订单号。不要编造任何事实。",
            tools.join("\n")
        );
    }
    format!(
        "You are the phone assistant of an online shop. For each caller message, answer with one JSON action: \
         {{\"tool\": NAME, \"args\": {{...}}}} to use a tool, or {{\"say\": KIND}} to reply without one.\n\
         Tools:\n{}\n\
         Reply kinds: help (greeting or unclear request), ask_order_id (an order is meant but no number is known), \
         ask_address (an address change without the new address), ask_complaint (the caller is unhappy but has not said why), \
         off_topic (not about the shop), thanks, goodbye, not_understood.\n\
         Use only order numbers listed under Orders. Never invent facts.",
        describe(&shop_tools())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_read_ahead_is_the_whole_prompt_up_to_the_words() {
        for (language, words, ends) in [
            (Language::En, "Where is it?", "\nCaller:"),
            (Language::Zh, "在哪里？", "\n来电者："),
        ] {
            let context = "Orders: 100042 (mentioned)";
            let prefix = prompt_prefix(ChatTemplate::Chatml, language, context);
            let whole = prompt_for(
                ChatTemplate::Chatml,
                language,
                &user_message(language, context, words),
            );
            assert!(prefix.ends_with(ends), "{prefix:?}");
            let rest = whole
                .strip_prefix(&prefix)
                .expect("the prefix of the prompt");
            assert!(rest.trim_start().starts_with(words), "{rest:?}");
            assert!(prefix.contains(context));
        }
    }

    #[test]
    fn the_grammar_follows_what_is_known() {
        let unknown = grammar(&Known::default());
        let names: Vec<String> = unknown["anyOf"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| {
                c["properties"]["tool"]["const"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        // Without a known order, no tool that needs one.
        assert!(!names.iter().any(|n| n == "get_order_status"));
        assert!(names.iter().any(|n| n == "transfer_to_human"));
        assert!(names.iter().any(|n| n == "file_complaint"));
        let known = grammar(&Known {
            order_ids: vec!["100042".into()],
            skus: vec!["HP-200".into()],
            variants: vec!["black".into(), "white".into()],
            verified: true,
            candidates: Vec::new(),
        });
        let text = known.to_string();
        assert!(text.contains(r#""enum":["100042"]"#), "{text}");
        assert!(text.contains(r#""enum":["HP-200"]"#), "{text}");
        assert!(!text.contains("verify_identity"));
        // The caller's words narrow the choice; with no tool possible, only a question back.
        let narrowed = grammar(&Known {
            candidates: vec!["track_shipment"],
            ..Known::default()
        });
        assert_eq!(narrowed["anyOf"].as_array().map(Vec::len), Some(1));
        assert!(narrowed.to_string().contains("ask_order_id"));
    }
}
