//! One conversation with the assistant: the caller's turns in, replies out. The policy lives
//! here, in code, whatever the model proposes:
//!
//! - nothing about an order is said before the caller is verified (caller ID matching the
//!   customer's phone, or an order number with its ZIP code or e-mail), and a verified caller
//!   reaches only their own orders;
//! - arguments come from the caller's words: order numbers said or owned, the ZIP code,
//!   e-mail, address, variant and score as the caller said them;
//! - cancellations, returns, exchanges and address changes are read back and run only after
//!   an explicit yes in the next turn ([`Extractor::answer`]);
//! - asking for a person, two failed attempts at the same task, or a failing shop database
//!   hand the call to a person with a summary (`transfer_to_human`);
//! - every tool call that runs or is refused is written to the call's audit log.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::extract::{Answer, Courtesy, Extractor, one_edit_apart};
use super::language::Language;
use super::planner::{Known, PlanRequest, Planner, SAY_ONLY};
use super::reply::{ItemLine, OrderChoice, Reply};
use super::tools::said_in_mandarin;
use super::tools::{Access, Applied, Check, Ctx, Done, ToolCall, ToolError};
use crate::cancel::CancelToken;
use crate::store::redact::Redactor;
use crate::store::{
    Customer, OrderDetail, Outcome, Product, Store, Turn, date_of_day, day_of_date,
};

/// Longest caller turn taken (a longer one is cut: nothing a caller sends can grow memory or
/// prompts without bound).
pub const MAX_TURN_CHARS: usize = 600;

/// Failed attempts at the same task before the call goes to a person.
pub const MAX_FAILURES: u32 = 2;

/// Caller lines kept for summaries and for resolving which item is meant.
const KEPT_LINES: usize = 6;
/// Supervisor notes the model sees (the latest).
const KEPT_GUIDANCE: usize = 3;
/// A supervisor note's length in the model's context.
const MAX_GUIDANCE_CHARS: usize = 200;

/// Where the session's time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The real clock.
    System,
    /// A fixed day (days since 1970-01-01), for scenarios.
    Fixed(i64),
}

impl Clock {
    fn today(self) -> i64 {
        match self {
            Clock::System => day_of_date(&crate::store::now_utc()).unwrap_or(0),
            Clock::Fixed(day) => day,
        }
    }

    fn stamp(self) -> String {
        match self {
            Clock::System => crate::store::now_utc(),
            Clock::Fixed(day) => format!("{}T12:00:00Z", date_of_day(day)),
        }
    }
}

/// How a session starts.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub call_id: String,
    /// `sip`, `webrtc`, `mic` or `text`.
    pub channel: String,
    /// The number the phone network presents, E.164.
    pub caller_id: Option<String>,
    /// A customer the channel vouches for: a shop page's signed token of its logged-in
    /// shopper. Verified at once, like a trusted caller id.
    pub known_customer: Option<String>,
    /// A person can take the call now (the phone line has an agent to transfer to). Without
    /// one, a hand-over is a promise that a colleague gets back to the caller.
    pub live_transfer: bool,
    pub clock: Clock,
    pub language: Language,
    /// Narrow the model's choice with the phrase lexicon (`dialog::intent`).
    pub use_lexicon: bool,
    /// What is removed from stored text (card numbers and the like); `None` keeps it all.
    pub redact: Option<Arc<Redactor>>,
}

/// A tool call as it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRecord {
    pub name: String,
    pub args: Value,
    pub outcome: Outcome,
    pub detail: String,
}

/// What one caller turn produced.
#[derive(Debug, Clone, Default)]
pub struct TurnOutput {
    pub replies: Vec<String>,
    pub tools: Vec<ToolRecord>,
    /// The call is being handed to a person.
    pub transferred: bool,
    /// The conversation is over (transfer or goodbye).
    pub ended: bool,
    /// The model's time to its first token and its whole action, when it was asked.
    pub llm_first_token: Option<Duration>,
    pub llm_elapsed: Option<Duration>,
    /// When the model's first token came (earlier than the turn's end when the plan was
    /// made speculatively during the caller's pause).
    pub llm_first_token_at: Option<Instant>,
    /// The plan was made speculatively, before the turn ended.
    pub planned_early: bool,
    /// The caller's line in the call's stored turns (for the turn's latency figures).
    pub caller_turn: Option<i64>,
}

/// What the session waits for from the caller.
#[derive(Debug, Clone)]
enum Pending {
    /// An explicit yes or no to the read-back of this call.
    Confirm(ToolCall),
    /// Verification details; then this request is carried out.
    Verify(Option<ToolCall>),
    /// Which order this request is about.
    WhichOrder(ToolCall),
}

/// One conversation.
pub struct Session {
    store: Store,
    planner: Planner,
    extract: Arc<Extractor>,
    options: SessionOptions,
    language: Language,
    customer: Option<Customer>,
    /// The verified caller's orders.
    orders: Vec<OrderDetail>,
    /// The products on the verified caller's orders, by SKU.
    products: HashMap<String, Product>,
    /// Order numbers the caller said, in order.
    mentioned: Vec<String>,
    pending: Option<Pending>,
    /// The tool a question back to the caller was for ("which item?", "the new address?"):
    /// the answer is taken as that request unless it asks for something else.
    expecting: Option<&'static str>,
    /// Tools something was asked for already.
    asked: Vec<&'static str>,
    failures: HashMap<&'static str, u32>,
    lines: Vec<String>,
    /// Supervisor notes for the model (the latest `KEPT_GUIDANCE`).
    guidance: Vec<String>,
    next_turn: i64,
    /// The caller's last turn was the yes to a read-back: a bare yes now is its second half
    /// ("Yes. [pause] Please go ahead." split by the line), not a new request.
    answered_yes: bool,
    ended: bool,
    /// The database failed on this call: writes are not attempted again.
    store_down: bool,
}

impl Session {
    /// Starts a conversation: records the call, recognises the caller by caller ID, and
    /// returns the greeting (and the caller-ID check, when it recognised the caller).
    pub async fn start(
        store: Store,
        planner: Planner,
        extract: Arc<Extractor>,
        options: SessionOptions,
    ) -> (Session, TurnOutput) {
        let language = options.language;
        let mut session = Session {
            store,
            planner,
            extract,
            language,
            customer: None,
            orders: Vec::new(),
            products: HashMap::new(),
            mentioned: Vec::new(),
            pending: None,
            expecting: None,
            asked: Vec::new(),
            failures: HashMap::new(),
            lines: Vec::new(),
            guidance: Vec::new(),
            next_turn: 0,
            answered_yes: false,
            ended: false,
            store_down: false,
            options,
        };
        let stamp = session.options.clock.stamp();
        if let Err(e) = session
            .store
            .start_call(
                &session.options.call_id,
                &stamp,
                &session.options.channel,
                session.options.caller_id.as_deref(),
            )
            .await
        {
            tracing::warn!(call = %session.options.call_id, "cannot record the call: {e}");
            session.store_down = true;
        }
        let mut records = Vec::new();
        let known = match (&session.options.known_customer, session.store_down) {
            (Some(id), false) => match session.store.customer(id).await {
                Ok(found) => {
                    found.map(|c| (c, json!({ "customer_token": id }), "the shop's sign-in"))
                }
                Err(e) => {
                    tracing::warn!("cannot look up the signed-in customer: {e}");
                    None
                }
            },
            _ => None,
        };
        if let Some((customer, args, how)) = known {
            let record = ToolRecord {
                name: "verify_identity".into(),
                args,
                outcome: Outcome::Ok,
                detail: format!("verified as {} by {how}", customer.id),
            };
            session.audit(&record).await;
            records.push(record);
            if let Err(e) = session.become_verified(customer).await {
                tracing::warn!("cannot read the caller's orders: {e}");
            }
        } else if let Some(phone) = session.options.caller_id.clone()
            && !session.store_down
        {
            match session.store.customer_by_phone(&phone).await {
                Ok(Some(customer)) => {
                    let record = ToolRecord {
                        name: "verify_identity".into(),
                        args: json!({ "caller_id": phone }),
                        outcome: Outcome::Ok,
                        detail: format!("verified as {} by caller id", customer.id),
                    };
                    session.audit(&record).await;
                    records.push(record);
                    if let Err(e) = session.become_verified(customer).await {
                        tracing::warn!("cannot read the caller's orders: {e}");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("cannot look up the caller: {e}"),
            }
        }
        let greeting = Reply::Greeting {
            first_name: session.customer.as_ref().map(|c| c.name.clone()),
        }
        .render(language);
        session.record_turn("assistant", &greeting).await;
        let out = TurnOutput {
            replies: vec![greeting],
            tools: records,
            ..TurnOutput::default()
        };
        (session, out)
    }

    /// The call's id.
    pub fn call_id(&self) -> &str {
        &self.options.call_id
    }

    /// The verified caller, if any.
    pub fn customer(&self) -> Option<&Customer> {
        self.customer.as_ref()
    }

    /// The conversation is over.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The language replies are in now.
    pub fn language(&self) -> Language {
        self.language
    }

    /// Takes one caller turn and returns what the assistant says and does.
    pub async fn handle(&mut self, text: &str) -> TurnOutput {
        let mut out = TurnOutput::default();
        if self.ended {
            return out;
        }
        let text = clean_turn(text);
        let text = text.as_str();
        if let Some(lang) = Language::detect(text) {
            self.language = lang;
        }
        out.caller_turn = self.record_turn("caller", text).await;
        if self.lines.len() == KEPT_LINES {
            self.lines.remove(0);
        }
        let line = self.redacted(text);
        self.lines.push(line);
        let said = self.said_order_ids(text);
        for id in &said {
            if !self.mentioned.contains(id) {
                self.mentioned.push(id.clone());
            }
        }
        let after_yes = std::mem::take(&mut self.answered_yes);

        if text.is_empty() {
            self.say(&mut out, Reply::NotUnderstood);
        } else if self.extract.wants_human(text) {
            self.transfer(&mut out, "the caller asked for a person")
                .await;
        } else if !self.resume(&mut out, text, &said).await {
            let bare_yes_after_yes = after_yes
                && said.is_empty()
                && self.pending.is_none()
                && self.extract.courtesy(text) == Some(Courtesy::Assent);
            if bare_yes_after_yes {
                self.say(&mut out, Reply::AnythingElse);
            } else {
                self.plan_and_act(&mut out, text, &said).await;
            }
        }
        for reply in &out.replies {
            self.record_turn("assistant", reply).await;
        }
        self.ended |= out.ended;
        if out.ended && !self.store_down {
            let outcome = if out.transferred {
                "transferred"
            } else {
                "resolved"
            };
            let stamp = self.options.clock.stamp();
            if let Err(e) = self
                .store
                .end_call(&self.options.call_id, &stamp, outcome)
                .await
            {
                tracing::warn!("cannot record the end of the call: {e}");
            }
        }
        out
    }

    /// Carries on what the session was waiting for, if this turn answers it. Returns
    /// whether the turn was handled.
    async fn resume(&mut self, out: &mut TurnOutput, text: &str, said: &[String]) -> bool {
        match self.pending.take() {
            None => false,
            Some(Pending::Confirm(call)) => match self.confirmation(text, &call) {
                Some(Answer::Yes) => {
                    self.apply(out, call).await;
                    self.answered_yes = true;
                    true
                }
                Some(Answer::No) => {
                    self.record(out, &call, Outcome::Denied, "the caller said no")
                        .await;
                    self.say(out, Reply::Declined);
                    true
                }
                None => {
                    // Anything but an explicit answer is not a yes: nothing runs.
                    self.record(out, &call, Outcome::Denied, "not confirmed")
                        .await;
                    false
                }
            },
            Some(Pending::Verify(task)) => {
                let order_id = said
                    .first()
                    .cloned()
                    .or_else(|| task.as_ref().and_then(|t| t.order_id().map(str::to_string)))
                    .or_else(|| self.mentioned.last().cloned());
                let zip = self.extract.zip(text);
                let email = self.extract.email(text);
                match order_id {
                    Some(order_id) if zip.is_some() || email.is_some() => {
                        let call = ToolCall::VerifyIdentity {
                            order_id,
                            zip,
                            email,
                        };
                        self.verify(out, call, task).await;
                        true
                    }
                    Some(order_id) if !said.is_empty() => {
                        self.pending = Some(Pending::Verify(task));
                        self.say(out, Reply::AskVerificationDetail { order_id });
                        true
                    }
                    _ => {
                        self.pending = Some(Pending::Verify(task));
                        false
                    }
                }
            }
            Some(Pending::WhichOrder(mut call)) => match said.first() {
                Some(id) => {
                    call.set_order_id(id);
                    self.run(out, call).await;
                    true
                }
                None => false,
            },
        }
    }

    /// The caller's answer to the read-back of `call`: an explicit yes counts only when the
    /// turn asks nothing else ("Okay. For your survey, I'd say three" is not a yes).
    fn confirmation(&self, text: &str, call: &ToolCall) -> Option<Answer> {
        let answer = self.extract.answer(text)?;
        if answer == Answer::Yes {
            let other = self
                .extract
                .intents(text)
                .into_iter()
                .any(|tool| tool != call.name());
            if other || text.contains('?') || self.extract.wants_human(text) {
                return None;
            }
        }
        Some(answer)
    }

    /// Asks the model for the next action and carries it out.
    async fn plan_and_act(&mut self, out: &mut TurnOutput, text: &str, said: &[String]) {
        let expecting = self.expecting.take();
        let request = match self.prepare(text, said, self.language, &self.mentioned, expecting) {
            Prepared::Say { reply, ends } => {
                out.ended |= ends;
                self.say(out, reply);
                return;
            }
            Prepared::Plan(request) => request,
        };
        let candidates = request.known.candidates.clone();
        let plan = match self.planner.plan(request).await {
            Ok(plan) => plan,
            Err(e) => {
                tracing::warn!(call = %self.options.call_id, "planner: {e}");
                self.fail(out, "understanding").await;
                return;
            }
        };
        out.llm_first_token = Some(plan.time_to_first_token);
        out.llm_elapsed = Some(plan.elapsed + plan.queued);
        out.llm_first_token_at = Some(plan.first_token_at);
        out.planned_early = plan.speculative;
        tracing::debug!(action = %plan.raw, "planned");
        if let Some(kind) = plan.action.get("say").and_then(Value::as_str) {
            if kind == "ask_order_id" {
                // Keep what was asked for: the order number that comes next is for it.
                self.expecting = candidates.first().copied().filter(|c| *c != SAY_ONLY);
            }
            self.say_kind(out, kind);
            return;
        }
        match ToolCall::from_json(&plan.action) {
            Ok(call) => {
                if let Some(call) = self.ground(out, call, text, said) {
                    self.run(out, call).await;
                }
            }
            Err(e) => {
                tracing::warn!("the model's action is invalid: {e}");
                self.fail(out, "understanding").await;
            }
        }
    }

    /// What a caller turn leads to before the model is asked: a reply code gives at once,
    /// or the request for the model. Reads the session only, so a speculative turn can ask it.
    fn prepare(
        &self,
        text: &str,
        said: &[String],
        language: Language,
        mentioned: &[String],
        expecting: Option<&'static str>,
    ) -> Prepared {
        let mut known = self.known_with(mentioned);
        if self.options.use_lexicon {
            known.candidates = self.extract.intents(text);
            if known.candidates.is_empty()
                && let Some(tool) = expecting
            {
                known.candidates = vec![tool];
            }
            if known.candidates.is_empty() {
                if self.extract.asks_for_others(text) {
                    return Prepared::Say {
                        reply: Reply::OnlyYourOwn,
                        ends: false,
                    };
                }
                // Nothing the lexicon knows: an order number alone means "check on it";
                // thanks and goodbyes are answered as such; otherwise the model chooses
                // between the replies that say what the assistant can do.
                if said.is_empty() {
                    match self.extract.courtesy(text) {
                        Some(Courtesy::Goodbye) => {
                            return Prepared::Say {
                                reply: Reply::Goodbye,
                                ends: true,
                            };
                        }
                        Some(Courtesy::Thanks) => {
                            return Prepared::Say {
                                reply: Reply::Thanks,
                                ends: false,
                            };
                        }
                        // (A bare yes right after a confirmed action is answered in `handle`.)
                        None | Some(Courtesy::Assent) => known.candidates = vec![SAY_ONLY],
                    }
                } else {
                    known.candidates = vec!["get_order_status"];
                }
            }
        }
        Prepared::Plan(PlanRequest {
            context: self.context_with(language, mentioned),
            caller_text: text.to_string(),
            known,
            language,
        })
    }

    /// The model request this caller text would make if the turn ended now, when it would
    /// make one: for planning during the caller's end-of-turn pause. Changes nothing.
    pub fn speculative_request(&self, text: &str) -> Option<PlanRequest> {
        if self.ended || self.pending.is_some() {
            return None;
        }
        let text = clean_turn(text);
        if text.is_empty() || self.extract.wants_human(&text) {
            return None;
        }
        let language = Language::detect(&text).unwrap_or(self.language);
        let said = self.said_order_ids(&text);
        let mut mentioned = self.mentioned.clone();
        for id in &said {
            if !mentioned.contains(id) {
                mentioned.push(id.clone());
            }
        }
        match self.prepare(&text, &said, language, &mentioned, self.expecting) {
            Prepared::Plan(request) => Some(request),
            Prepared::Say { .. } => None,
        }
    }

    /// The caller began to speak: the model reads the conversation so far while they talk
    /// (`Planner::read_ahead`), so that planning on their words computes only those. Changes
    /// nothing.
    pub fn read_ahead(&self) -> bool {
        if self.ended || self.pending.is_some() {
            return false;
        }
        self.planner.read_ahead(
            self.language,
            self.context_with(self.language, &self.mentioned),
        )
    }

    /// Plans the turn `text` on the model now, in the background; `handle` with the same
    /// text uses the result. Cancel with `cancel` when the caller goes on.
    pub fn speculate(&self, text: &str, cancel: &CancelToken) -> bool {
        match self.speculative_request(text) {
            Some(request) => self.planner.prefetch(request, cancel.clone()),
            None => false,
        }
    }

    /// The turn `text` will look something up or change something (worth a filler while
    /// the model and the database work).
    pub fn expects_tool(&self, text: &str) -> bool {
        if matches!(self.pending, Some(Pending::Confirm(_))) {
            return true;
        }
        self.speculative_request(text)
            .is_some_and(|r| r.known.candidates.iter().any(|c| *c != SAY_ONLY))
    }

    /// The last reply read an action back and waits for an explicit yes or no.
    pub fn expects_yes_no(&self) -> bool {
        matches!(self.pending, Some(Pending::Confirm(_)))
    }

    /// The caller did not hear the read-back (they went on talking before it began to play):
    /// nothing they say next can be the yes to it, so it is forgotten.
    pub fn forget_unheard_read_back(&mut self) {
        if matches!(self.pending, Some(Pending::Confirm(_))) {
            self.pending = None;
        }
    }

    /// The assistant just asked for an order number, a ZIP code or a choice by number: the
    /// caller may pause between digits.
    pub fn expects_digits(&self) -> bool {
        matches!(
            self.pending,
            Some(Pending::Verify(_)) | Some(Pending::WhichOrder(_))
        ) || self.expecting.is_some()
    }

    /// The order numbers in `text`. When it holds none, a number one digit off one of the
    /// verified caller's own orders (speech recognition dropped or doubled a digit) is taken
    /// as that order, if exactly one is that close: the reply names the order, and nobody
    /// else's orders are ever looked at.
    fn said_order_ids(&self, text: &str) -> Vec<String> {
        let said = self.extract.order_ids(text);
        if !said.is_empty() {
            return said;
        }
        let mut near = Vec::new();
        for heard in self.extract.near_order_ids(text) {
            let close: Vec<&str> = self
                .orders
                .iter()
                .map(|o| o.order.id.as_str())
                .filter(|id| one_edit_apart(id, &heard))
                .collect();
            if let [one] = close.as_slice()
                && !near.iter().any(|n: &String| n == one)
            {
                tracing::debug!(heard, order = one, "an order number one digit off");
                near.push(one.to_string());
            }
        }
        near
    }

    /// `text` as it may be stored (card numbers and the like removed, as configured).
    fn redacted(&self, text: &str) -> String {
        match &self.options.redact {
            Some(redactor) => redactor.redact(text).into_owned(),
            None => text.to_string(),
        }
    }

    fn say_kind(&mut self, out: &mut TurnOutput, kind: &str) {
        let reply = match kind {
            "ask_order_id" => match (&self.customer, self.orders.as_slice()) {
                (Some(_), [_, _, ..]) => Reply::WhichOrder {
                    orders: self.order_choices(),
                },
                _ => Reply::AskOrderId,
            },
            "ask_address" => Reply::AskAddress,
            "ask_complaint" => Reply::AskComplaint,
            "off_topic" => Reply::OffTopic,
            "thanks" => Reply::Thanks,
            "goodbye" => {
                out.ended = true;
                Reply::Goodbye
            }
            "not_understood" => Reply::NotUnderstood,
            _ => Reply::Help,
        };
        self.say(out, reply);
    }

    /// Replaces the model's arguments with what the caller actually said or owns. Returns
    /// `None` when the turn was answered instead (a question back to the caller).
    fn ground(
        &mut self,
        out: &mut TurnOutput,
        mut call: ToolCall,
        text: &str,
        said: &[String],
    ) -> Option<ToolCall> {
        // Order numbers: one said in this turn wins, then the last one said, then the
        // caller's only order; with several and none said, ask which.
        if let Some(id) = call.order_id().map(str::to_string) {
            let chosen = if let Some(first) = said.first() {
                if said.contains(&id) {
                    id
                } else {
                    first.clone()
                }
            } else if let Some(own) = self
                .mentioned
                .iter()
                .rev()
                .find(|m| self.orders.iter().any(|o| &o.order.id == *m))
            {
                // The last order of their own the caller named (a neighbour's order named
                // earlier does not capture "cancel my order").
                own.clone()
            } else if let Some(last) = self.mentioned.last() {
                last.clone()
            } else if self.orders.len() == 1 {
                self.orders[0].order.id.clone()
            } else if !self.orders.is_empty() && !matches!(call, ToolCall::FileComplaint { .. }) {
                self.pending = Some(Pending::WhichOrder(call));
                self.say(
                    out,
                    Reply::WhichOrder {
                        orders: self.order_choices(),
                    },
                );
                return None;
            } else {
                id
            };
            call.set_order_id(&chosen);
        }
        match &mut call {
            ToolCall::VerifyIdentity { zip, email, .. } => {
                *zip = self.extract.zip(text);
                *email = self.extract.email(text);
                if zip.is_none() && email.is_none() {
                    let order_id = call.order_id().unwrap_or_default().to_string();
                    self.pending = Some(Pending::Verify(None));
                    self.say(out, Reply::AskVerificationDetail { order_id });
                    return None;
                }
            }
            ToolCall::ChangeShippingAddress {
                street, city, zip, ..
            } => {
                let lower = text.to_lowercase();
                let street_ok = !street.trim().is_empty()
                    && lower.contains(&street.trim().to_lowercase())
                    && street.chars().any(|c| c.is_ascii_digit());
                let city_ok = lower.contains(&city.trim().to_lowercase());
                match self.extract.zip(text) {
                    Some(said_zip) if street_ok && city_ok => *zip = said_zip,
                    _ => {
                        self.ask_again(out, "change_shipping_address", Reply::AskAddress);
                        return None;
                    }
                }
            }
            ToolCall::RecordSurvey { score } => match self.extract.score(text) {
                Some(n) => *score = i64::from(n),
                None => {
                    self.ask_again(out, "record_survey", Reply::AskScore);
                    return None;
                }
            },
            ToolCall::FileComplaint { summary, .. } => *summary = self.caller_summary(300),
            ToolCall::TransferToHuman { summary } => *summary = self.caller_summary(300),
            ToolCall::StartReturn { reason, .. } => *reason = Some(self.caller_summary(200)),
            ToolCall::CancelOrder { reason, .. } => *reason = Some(self.caller_summary(200)),
            _ => {}
        }
        Some(call)
    }

    /// Runs a grounded call through the policy: access, then the tool's own check, then the
    /// read-back or the effect.
    async fn run(&mut self, out: &mut TurnOutput, mut call: ToolCall) {
        if let ToolCall::VerifyIdentity { .. } = call {
            let resume = match self.pending.take() {
                Some(Pending::Verify(task)) => task,
                other => {
                    self.pending = other;
                    None
                }
            };
            self.verify(out, call, resume).await;
            return;
        }
        if let ToolCall::TransferToHuman { .. } = call {
            self.transfer(out, "the assistant handed over").await;
            return;
        }
        match call.access() {
            Access::Anyone => {}
            Access::Verified if self.customer.is_none() => {
                self.record(out, &call, Outcome::Denied, "identity not verified")
                    .await;
                self.say(out, Reply::NeedVerificationForRecommendations);
                return;
            }
            Access::Verified => {}
            Access::OwnOrder(order_id) => {
                if self.customer.is_none() {
                    // "Order 100042, ZIP 94107": the details came with the request.
                    let last = self.lines.last().cloned().unwrap_or_default();
                    let (zip, email) = (self.extract.zip(&last), self.extract.email(&last));
                    if zip.is_some() || email.is_some() {
                        let verify = ToolCall::VerifyIdentity {
                            order_id: order_id.clone(),
                            zip,
                            email,
                        };
                        Box::pin(self.verify(out, verify, Some(call))).await;
                        return;
                    }
                    self.record(out, &call, Outcome::Denied, "identity not verified")
                        .await;
                    self.pending = Some(Pending::Verify(Some(call)));
                    self.say(
                        out,
                        Reply::NeedVerification {
                            order_id: Some(order_id),
                        },
                    );
                    return;
                }
                if !self.orders.iter().any(|o| o.order.id == order_id) {
                    // Same answer whether the order exists or not.
                    self.record(out, &call, Outcome::Denied, "not the caller's order")
                        .await;
                    self.say(out, Reply::NotYourOrder { order_id });
                    return;
                }
                if !self.resolve_item(out, &mut call) {
                    return;
                }
            }
        }
        let now = self.options.clock.stamp();
        let result = call.check(&self.ctx(&now, true)).await;
        match result {
            Ok(Check::Ready(Done::Ran(reply))) => {
                self.record(out, &call, Outcome::Ok, "read").await;
                self.say(out, reply);
            }
            Ok(Check::Ready(Done::ToApply)) => self.apply(out, call).await,
            Ok(Check::Confirm(readback)) => {
                self.pending = Some(Pending::Confirm(call));
                self.say(out, readback);
            }
            Ok(Check::Refused { reply, detail }) => {
                self.record(out, &call, Outcome::Denied, &detail).await;
                self.say(out, reply);
                self.count_failure(out, call.name()).await;
            }
            Err(e) => self.tool_error(out, &call, e).await,
        }
    }

    /// Runs the effect of a call that passed its checks (and was confirmed where needed).
    async fn apply(&mut self, out: &mut TurnOutput, call: ToolCall) {
        let now = self.options.clock.stamp();
        let result = call.apply(&self.ctx(&now, true)).await;
        match result {
            Ok(applied) => {
                let failed = applied.outcome != Outcome::Ok;
                self.record(out, &call, applied.outcome, &applied.detail)
                    .await;
                self.say(out, applied.reply);
                if applied.transfer {
                    out.transferred = true;
                    out.ended = true;
                    self.ended = true;
                }
                if failed {
                    self.count_failure(out, call.name()).await;
                } else if call.needs_confirmation() || matches!(call, ToolCall::CancelOrder { .. })
                {
                    // The order changed: read it again.
                    if let Err(e) = self.refresh_orders().await {
                        tracing::warn!("cannot re-read the caller's orders: {e}");
                    }
                }
            }
            Err(e) => self.tool_error(out, &call, e).await,
        }
    }

    /// `verify_identity`, then the request that waited for it.
    async fn verify(&mut self, out: &mut TurnOutput, call: ToolCall, resume: Option<ToolCall>) {
        let now = self.options.clock.stamp();
        let result = call.apply(&self.ctx(&now, false)).await;
        let applied: Applied = match result {
            Ok(applied) => applied,
            Err(e) => return self.tool_error(out, &call, e).await,
        };
        self.record(out, &call, applied.outcome, &applied.detail)
            .await;
        match applied.verified {
            Some(customer) => {
                self.say(out, applied.reply);
                if let Err(e) = self.become_verified(customer).await {
                    return self.tool_error(out, &call, ToolError::Store(e)).await;
                }
                if let Some(task) = resume {
                    Box::pin(self.run(out, task)).await;
                }
            }
            None => {
                self.say(out, applied.reply);
                self.pending = Some(Pending::Verify(resume));
                self.count_failure(out, "verify_identity").await;
            }
        }
    }

    /// For returns and exchanges: the item meant, from the model's SKU if it is on the order,
    /// the order's only item, or the product named in the caller's words; else asks.
    fn resolve_item(&mut self, out: &mut TurnOutput, call: &mut ToolCall) -> bool {
        let (order_id, sku) = match &*call {
            ToolCall::StartReturn { order_id, sku, .. }
            | ToolCall::RequestExchange { order_id, sku, .. } => (order_id.clone(), sku.clone()),
            _ => return true,
        };
        let Some(order) = self.orders.iter().find(|o| o.order.id == order_id) else {
            return true;
        };
        let skus: Vec<&str> = order.items.iter().map(|i| i.sku.as_str()).collect();
        // Where each item is first named: in this turn, else in the turns before.
        let current = self
            .lines
            .last()
            .map(|l| l.to_lowercase())
            .unwrap_or_default();
        let earlier = self.lines.join(" ").to_lowercase();
        let position = |sku: &str, words: &str| -> Option<usize> {
            let by_sku = words.find(&sku.to_lowercase());
            let by_name = self.products.get(sku).and_then(|p| {
                p.name
                    .to_lowercase()
                    .split_whitespace()
                    .filter(|w| w.len() > 3)
                    .filter_map(|w| words.find(w.trim_end_matches('s')))
                    .min()
            });
            by_sku.into_iter().chain(by_name).min()
        };
        let mut named: Vec<(usize, &str)> = skus
            .iter()
            .filter_map(|s| position(s, &current).map(|p| (p, *s)))
            .collect();
        if named.is_empty() {
            named = skus
                .iter()
                .filter_map(|s| position(s, &earlier).map(|p| (p, *s)))
                .collect();
        }
        named.sort();
        // The item named first ("the charger..., I'm keeping the backpack").
        let pick = match (skus.as_slice(), named.first()) {
            ([only], _) => Some(*only),
            (_, Some((_, first))) => Some(*first),
            _ if skus.contains(&sku.as_str()) && skus.len() == 1 => Some(sku.as_str()),
            _ => None,
        }
        .map(str::to_string);
        match pick {
            Some(pick) => {
                // The variant wanted must be one the caller said; else the tool lists them.
                let named_in = |words: &str| {
                    self.products.get(&pick).and_then(|p| {
                        p.variant_list()
                            .into_iter()
                            .filter(|v| {
                                contains_word(words, &v.to_lowercase())
                                    || said_in_mandarin(words, v)
                            })
                            .find(|v| order.items.iter().all(|i| i.sku != pick || &i.variant != v))
                    })
                };
                let said = named_in(&current).or_else(|| named_in(&earlier));
                match call {
                    ToolCall::StartReturn { sku, .. } => *sku = pick,
                    ToolCall::RequestExchange { sku, variant, .. } => {
                        *sku = pick;
                        *variant = said.unwrap_or_else(|| NOT_SAID.to_string());
                    }
                    _ => {}
                }
                true
            }
            None => {
                let items = order
                    .items
                    .iter()
                    .map(|i| ItemLine {
                        qty: i.qty,
                        name: self
                            .products
                            .get(&i.sku)
                            .map_or_else(|| i.sku.clone(), |p| p.name.clone()),
                        variant: i.variant.clone(),
                    })
                    .collect();
                let tool = call.name();
                self.ask_again(out, tool, Reply::WhichItem { order_id, items });
                false
            }
        }
    }

    /// Asks the caller for what `tool` still needs; the answer is taken for it. Asking a
    /// second time for the same thing counts as a failed attempt (see `count_failure`).
    fn ask_again(&mut self, out: &mut TurnOutput, tool: &'static str, question: Reply) {
        let n = self.failures.entry(tool).or_default();
        if self.asked.contains(&tool) {
            *n += 1;
        }
        self.asked.push(tool);
        self.expecting = Some(tool);
        self.say(out, question);
    }

    async fn tool_error(&mut self, out: &mut TurnOutput, call: &ToolCall, e: ToolError) {
        tracing::warn!(call = %self.options.call_id, tool = call.name(), "{e}");
        self.record(out, call, Outcome::Error, &e.to_string()).await;
        if e.is_system() {
            // Don't keep writing to a failing database for the rest of the call.
            self.store_down = true;
            self.say(out, Reply::SystemDown);
            self.transfer(out, &format!("the shop system failed: {e}"))
                .await;
        } else {
            self.say(out, Reply::NotUnderstood);
            self.count_failure(out, call.name()).await;
        }
    }

    /// Counts a failed attempt at `task`; the second one hands the call to a person.
    async fn count_failure(&mut self, out: &mut TurnOutput, task: &'static str) {
        let n = self.failures.entry(task).or_default();
        *n += 1;
        if *n >= MAX_FAILURES {
            let why = format!("{MAX_FAILURES} failed attempts at {task}");
            self.transfer(out, &why).await;
        }
    }

    async fn fail(&mut self, out: &mut TurnOutput, task: &'static str) {
        self.say(out, Reply::NotUnderstood);
        self.count_failure(out, task).await;
    }

    /// Hands the call to a person with a summary: who is calling, what they said, why.
    async fn transfer(&mut self, out: &mut TurnOutput, why: &str) {
        if out.transferred {
            return;
        }
        self.pending = None;
        let who = match &self.customer {
            Some(c) => format!("{} ({}), verified", c.name, c.id),
            None => format!(
                "unverified caller {}",
                self.options
                    .caller_id
                    .as_deref()
                    .unwrap_or("without caller id")
            ),
        };
        let summary: String = format!(
            "{who}. Reason: {why}. Caller said: {}",
            self.caller_summary(400)
        )
        .chars()
        .take(600)
        .collect();
        let call = ToolCall::TransferToHuman { summary };
        if self.store_down {
            self.record(
                out,
                &call,
                Outcome::Error,
                "transfer without a ticket: database down",
            )
            .await;
            self.say(out, self.hand_over());
        } else {
            let now = self.options.clock.stamp();
            let result = call.apply(&self.ctx(&now, true)).await;
            match result {
                Ok(applied) => {
                    self.record(out, &call, applied.outcome, &applied.detail)
                        .await;
                    let reply = match applied.reply {
                        Reply::Transferring => self.hand_over(),
                        other => other,
                    };
                    self.say(out, reply);
                }
                Err(e) => {
                    // The person still takes the call; the summary goes with the transfer.
                    tracing::warn!("transfer ticket not written: {e}");
                    self.record(out, &call, Outcome::Error, &format!("no ticket: {e}"))
                        .await;
                    self.say(out, self.hand_over());
                }
            }
        }
        out.transferred = true;
        out.ended = true;
        self.ended = true;
    }

    /// A supervisor's note: the model sees the latest few in its context from the next turn.
    pub fn guide(&mut self, text: &str) {
        let text: String = text.chars().take(MAX_GUIDANCE_CHARS).collect();
        if self.guidance.len() == KEPT_GUIDANCE {
            self.guidance.remove(0);
        }
        self.guidance.push(text);
    }

    /// Words a supervisor had the assistant say: stored as the assistant's line.
    pub async fn said_for_supervisor(&mut self, text: &str) {
        self.record_turn("assistant", text).await;
    }

    /// The caller's words while a person had the call: stored and remembered, not answered.
    pub async fn heard(&mut self, text: &str) {
        let text = clean_turn(text);
        if text.is_empty() {
            return;
        }
        self.record_turn("caller", &text).await;
        if self.lines.len() == KEPT_LINES {
            self.lines.remove(0);
        }
        let line = self.redacted(&text);
        self.lines.push(line);
        for id in self.extract.order_ids(&text) {
            if !self.mentioned.contains(&id) {
                self.mentioned.push(id);
            }
        }
    }

    /// A person handed the call back: the conversation goes on (also after a hand-over,
    /// which had ended it for the assistant), with what was pending dropped.
    pub fn resume_after_person(&mut self) {
        self.ended = false;
        self.pending = None;
        self.expecting = None;
    }

    /// Nobody took the handed-over call: the caller is promised a call back; the call ends.
    pub async fn nobody_came(&mut self) -> TurnOutput {
        let mut out = TurnOutput::default();
        self.say(&mut out, Reply::CallBack);
        for reply in &out.replies {
            self.record_turn("assistant", reply).await;
        }
        self.ended = true;
        out.ended = true;
        out
    }

    /// What the caller is told when handed to a person.
    fn hand_over(&self) -> Reply {
        if self.options.live_transfer {
            Reply::Transferring
        } else {
            Reply::CallBack
        }
    }

    fn say(&self, out: &mut TurnOutput, reply: Reply) {
        out.replies.push(reply.render(self.language));
    }

    /// Notes a tool call in the turn's output and the audit log.
    async fn record(
        &mut self,
        out: &mut TurnOutput,
        call: &ToolCall,
        outcome: Outcome,
        detail: &str,
    ) {
        let record = ToolRecord {
            name: call.name().to_string(),
            args: call.args_json(),
            outcome,
            detail: detail.to_string(),
        };
        self.audit(&record).await;
        out.tools.push(record);
    }

    async fn audit(&mut self, record: &ToolRecord) {
        if self.store_down {
            return;
        }
        let stamp = self.options.clock.stamp();
        if let Err(e) = self
            .store
            .record_audit(
                &self.options.call_id,
                &stamp,
                &record.name,
                &record.args,
                record.outcome,
                &record.detail,
            )
            .await
        {
            tracing::warn!(call = %self.options.call_id, "audit not written: {e}");
        }
    }

    /// Stores a line of the conversation (redacted); returns its index when stored.
    async fn record_turn(&mut self, role: &str, text: &str) -> Option<i64> {
        if self.store_down {
            return None;
        }
        let turn = Turn {
            call_id: self.options.call_id.clone(),
            idx: self.next_turn,
            role: role.to_string(),
            text: self.redacted(text),
            asr_ms: None,
            llm_first_ms: None,
            tts_first_ms: None,
            end_to_end_ms: None,
            answer_ms: None,
        };
        self.next_turn += 1;
        match self.store.record_turn(&turn).await {
            Ok(()) => Some(turn.idx),
            Err(e) => {
                tracing::warn!(call = %self.options.call_id, "turn not written: {e}");
                None
            }
        }
    }

    async fn become_verified(
        &mut self,
        customer: Customer,
    ) -> Result<(), crate::store::StoreError> {
        if let Err(e) = self
            .store
            .identify_caller(&self.options.call_id, &customer.id)
            .await
        {
            tracing::warn!("cannot note the caller on the call: {e}");
        }
        self.customer = Some(customer);
        self.refresh_orders().await
    }

    async fn refresh_orders(&mut self) -> Result<(), crate::store::StoreError> {
        let Some(customer) = &self.customer else {
            return Ok(());
        };
        let mut orders = Vec::new();
        for order in self.store.orders_of_customer(&customer.id).await? {
            if let Some(detail) = self.store.order(&order.id).await? {
                for item in &detail.items {
                    if !self.products.contains_key(&item.sku)
                        && let Some(p) = self.store.product(&item.sku).await?
                    {
                        self.products.insert(p.sku.clone(), p);
                    }
                }
                orders.push(detail);
            }
        }
        self.orders = orders;
        Ok(())
    }

    /// What a tool sees; `as_caller`: with the verified caller (not while verifying).
    fn ctx<'a>(&'a self, now: &'a str, as_caller: bool) -> Ctx<'a> {
        Ctx {
            store: &self.store,
            call_id: &self.options.call_id,
            customer: self.customer.as_ref().filter(|_| as_caller),
            today: self.options.clock.today(),
            now,
        }
    }

    /// What the model is told about the conversation.
    fn context_with(&self, language: Language, mentioned: &[String]) -> String {
        let mut parts: Vec<String> = self
            .orders
            .iter()
            .map(|o| {
                let items: Vec<String> = o
                    .items
                    .iter()
                    .map(|i| {
                        let name = self.products.get(&i.sku).map_or("", |p| p.name.as_str());
                        format!("{} {name} {}", i.sku, i.variant).trim().to_string()
                    })
                    .collect();
                format!("{} ({}: {})", o.order.id, o.order.status, items.join(", "))
            })
            .collect();
        let zh = language == Language::Zh;
        for id in mentioned {
            if !self.orders.iter().any(|o| &o.order.id == id) {
                parts.push(if zh {
                    format!("{id}（来电者提到）")
                } else {
                    format!("{id} (mentioned)")
                });
            }
        }
        let orders = match (parts.is_empty(), zh) {
            (true, false) => "Orders: none known".to_string(),
            (false, false) => format!("Orders: {}", parts.join("; ")),
            (true, true) => "订单：无".to_string(),
            (false, true) => format!("订单：{}", parts.join("；")),
        };
        if self.guidance.is_empty() {
            return orders;
        }
        let label = if zh {
            "主管提示："
        } else {
            "Supervisor notes: "
        };
        format!("{orders}\n{label}{}", self.guidance.join(" / "))
    }

    fn known_with(&self, mentioned: &[String]) -> Known {
        let mut known = Known {
            verified: self.customer.is_some(),
            ..Known::default()
        };
        for id in mentioned
            .iter()
            .chain(self.orders.iter().map(|o| &o.order.id))
        {
            if !known.order_ids.contains(id) {
                known.order_ids.push(id.clone());
            }
        }
        for order in &self.orders {
            for item in &order.items {
                if !known.skus.contains(&item.sku) {
                    known.skus.push(item.sku.clone());
                }
                let variants = self.products.get(&item.sku).map(Product::variant_list);
                for v in variants.unwrap_or_default() {
                    if !known.variants.contains(&v) {
                        known.variants.push(v);
                    }
                }
            }
        }
        known
    }

    fn order_choices(&self) -> Vec<OrderChoice> {
        self.orders
            .iter()
            .map(|o| OrderChoice {
                order_id: o.order.id.clone(),
                placed: o.order.placed.clone(),
                first_item: o
                    .items
                    .first()
                    .and_then(|i| self.products.get(&i.sku).map(|p| p.name.clone()))
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// The caller's recent words, for summaries.
    fn caller_summary(&self, max: usize) -> String {
        let text = self.lines.join(" / ");
        let start = text.chars().count().saturating_sub(max);
        text.chars().skip(start).collect()
    }
}

/// What a turn leads to before the model is asked.
enum Prepared {
    Say { reply: Reply, ends: bool },
    Plan(PlanRequest),
}

/// A caller turn as the session reads it: no control characters, bounded, trimmed.
fn clean_turn(text: &str) -> String {
    let text: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TURN_CHARS)
        .collect();
    text.trim().to_string()
}

/// The variant of an exchange when the caller named none the product has.
const NOT_SAID: &str = "(not said)";

/// `word` occurs in `text` as a whole word.
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a working model (here: its thread is gone, as after a crash) the caller is not
    /// left hanging: a "sorry", then a person. The real model never emits an invalid action
    /// under its grammar, so a failing planner is the way to reach this path.
    #[test]
    fn a_failing_model_hands_the_caller_to_a_person() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let store = Store::open(&url).await.unwrap();
                let (mut s, _) = Session::start(
                    store.clone(),
                    Planner::stopped(),
                    Arc::new(Extractor::new()),
                    SessionOptions {
                        call_id: "c".into(),
                        channel: "text".into(),
                        caller_id: None,
                        known_customer: None,
                        live_transfer: true,
                        clock: Clock::Fixed(day_of_date("2026-11-28").unwrap()),
                        language: Language::En,
                        use_lexicon: true,
                        redact: None,
                    },
                )
                .await;
                let first = s.handle("Where is my parcel?").await;
                assert!(
                    first.replies[0].contains("didn't quite get that"),
                    "{first:?}"
                );
                assert!(!first.transferred);
                let second = s.handle("Hello? Where is my parcel?").await;
                assert!(second.transferred && s.ended(), "{second:?}");
                assert!(second.replies.join(" ").contains("colleague"));
                let tickets = store.tickets_of_call("c").await.unwrap();
                assert_eq!(tickets.len(), 1);
                assert!(
                    tickets[0]
                        .summary
                        .contains("failed attempts at understanding")
                );
            });
    }
}
