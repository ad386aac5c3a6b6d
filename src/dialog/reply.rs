//! What the assistant says, as typed facts, and how each is said per language.
//!
//! Every fact in a reply comes from a tool result or from the caller's own words; the language
//! model only chooses which reply to give. Templates live here and nowhere else.

use crate::store::MONTH_NAMES as MONTHS;

use super::language::Language;

/// One line of an order as said to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemLine {
    pub qty: i64,
    pub name: String,
    /// `""` for a product without variants.
    pub variant: String,
}

/// A short summary of one of the caller's orders (to ask which one is meant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChoice {
    pub order_id: String,
    pub placed: String,
    pub first_item: String,
}

/// Everything the assistant can say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Greeting {
        first_name: Option<String>,
    },
    Help,
    Thanks,
    /// The answer to a bare yes right after a confirmed action.
    AnythingElse,
    Goodbye,
    OffTopic,
    NotUnderstood,
    AskOrderId,
    WhichOrder {
        orders: Vec<OrderChoice>,
    },
    WhichItem {
        order_id: String,
        items: Vec<ItemLine>,
    },
    AskAddress,
    AskScore,
    AskComplaint,
    NeedVerification {
        order_id: Option<String>,
    },
    AskVerificationDetail {
        order_id: String,
    },
    Verified {
        first_name: String,
    },
    VerificationFailed,
    NotYourOrder {
        order_id: String,
    },
    OrderStatus {
        order_id: String,
        placed: String,
        items: Vec<ItemLine>,
        total_cents: i64,
        status: String,
        delivered_on: Option<String>,
    },
    Tracking {
        carrier: String,
        tracking: String,
        status: String,
        eta: Option<String>,
        last_scan: Option<String>,
    },
    NotShipped {
        order_id: String,
    },
    ConfirmCancel {
        order_id: String,
        items: Vec<ItemLine>,
        total_cents: i64,
    },
    Cancelled {
        order_id: String,
        refund_cents: i64,
    },
    AlreadyCancelled {
        order_id: String,
    },
    TooLateToCancel {
        order_id: String,
        status: String,
    },
    ConfirmAddress {
        order_id: String,
        street: String,
        city: String,
        zip: String,
    },
    AddressChanged {
        order_id: String,
        street: String,
        city: String,
        zip: String,
    },
    TooLateForAddress {
        order_id: String,
    },
    ConfirmReturn {
        order_id: String,
        item: ItemLine,
        refund_cents: i64,
    },
    ReturnStarted {
        return_id: String,
        refund_cents: i64,
    },
    ReturnAlreadyOpen {
        order_id: String,
        item: String,
        return_id: String,
    },
    ReturnWindowClosed {
        order_id: String,
        closed_on: String,
    },
    NotDelivered {
        order_id: String,
    },
    NotOnOrder {
        order_id: String,
    },
    AlreadyExchanged {
        item: String,
    },
    RefundStatus {
        order_id: String,
        amount_cents: i64,
        state: String,
    },
    NoRefund {
        order_id: String,
    },
    ConfirmExchange {
        order_id: String,
        item: String,
        from: String,
        to: String,
    },
    ExchangeArranged {
        exchange_id: String,
        to: String,
    },
    ExchangeAlreadyOpen {
        exchange_id: String,
        to: String,
    },
    SameVariant {
        variant: String,
    },
    OutOfStock {
        variant: String,
        available: Vec<String>,
    },
    UnknownVariant {
        item: String,
        variants: Vec<String>,
    },
    ComplaintFiled {
        ticket: String,
    },
    Recommendations {
        products: Vec<(String, i64)>,
    },
    NothingToRecommend,
    NeedVerificationForRecommendations,
    Transferring,
    /// A hand-over when no person can take the call now: a colleague gets back to the caller.
    CallBack,
    SurveyRecorded {
        score: u8,
    },
    Declined,
    SystemDown,
    /// Asked for other customers' data or to drop the rules.
    OnlyYourOwn,
}

/// `$79.99`, or `79.99美元`.
fn money(cents: i64, lang: Language) -> String {
    let amount = format!("{}.{:02}", cents / 100, cents % 100);
    match lang {
        Language::En => format!("${amount}"),
        Language::Zh => format!("{amount}美元"),
    }
}

/// `2026-11-25` as `November 25` / `11月25日` (as stored when it is not a date).
fn date(iso: &str, lang: Language) -> String {
    let parts = (
        iso.get(5..7).and_then(|m| m.parse::<usize>().ok()),
        iso.get(8..10).and_then(|d| d.parse::<u32>().ok()),
    );
    match (parts, lang) {
        ((Some(m @ 1..=12), Some(d)), Language::En) => format!("{} {d}", MONTHS[m - 1]),
        ((Some(m @ 1..=12), Some(d)), Language::Zh) => format!("{m}月{d}日"),
        _ => iso.to_string(),
    }
}

fn items(lines: &[ItemLine], lang: Language) -> String {
    let one = |l: &ItemLine| match (lang, l.variant.is_empty()) {
        (Language::En, true) => format!("{} x {}", l.qty, l.name),
        (Language::En, false) => format!("{} x {} ({})", l.qty, l.name, l.variant),
        (Language::Zh, true) => format!("{}（{}件）", l.name, l.qty),
        (Language::Zh, false) => format!("{}（{}，{}件）", l.name, l.variant, l.qty),
    };
    let sep = match lang {
        Language::En => ", ",
        Language::Zh => "、",
    };
    lines.iter().map(one).collect::<Vec<_>>().join(sep)
}

fn list(words: &[String], lang: Language) -> String {
    match (lang, words) {
        (_, []) => String::new(),
        (_, [one]) => one.clone(),
        (Language::En, [init @ .., last]) => format!("{} and {last}", init.join(", ")),
        (Language::Zh, _) => words.join("、"),
    }
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

/// The caller-facing words of an order or parcel state.
fn order_state(status: &str, delivered_on: Option<&str>, lang: Language) -> String {
    match (lang, status) {
        (Language::En, "placed") => "It has not shipped yet.".into(),
        (Language::En, "shipped") => "It has shipped.".into(),
        (Language::En, "delivered") => match delivered_on {
            Some(d) => format!("It was delivered on {}.", date(d, lang)),
            None => "It was delivered.".into(),
        },
        (Language::En, "cancelled") => "It is cancelled.".into(),
        (Language::Zh, "placed") => "还没有发货。".into(),
        (Language::Zh, "shipped") => "已经发货。".into(),
        (Language::Zh, "delivered") => match delivered_on {
            Some(d) => format!("已于{}送达。", date(d, lang)),
            None => "已经送达。".into(),
        },
        (Language::Zh, "cancelled") => "已经取消。".into(),
        (_, other) => other.to_string(),
    }
}

fn parcel_state(status: &str, eta: Option<&str>, lang: Language) -> String {
    let eta = eta.map(|d| date(d, lang));
    match (lang, status, eta) {
        (Language::En, "label_created", Some(d)) => {
            format!("has its label created, not picked up yet; expected on {d}")
        }
        (Language::En, "label_created", None) => "has its label created, not picked up yet".into(),
        (Language::En, "in_transit", Some(d)) => format!("is in transit, expected on {d}"),
        (Language::En, "in_transit", None) => "is in transit".into(),
        (Language::En, "out_for_delivery", _) => "is out for delivery today".into(),
        (Language::En, "delivered", Some(d)) => format!("was delivered on {d}"),
        (Language::En, "delivered", None) => "was delivered".into(),
        (Language::En, "exception", _) => {
            "has a delivery problem, and the carrier is working on it".into()
        }
        (Language::Zh, "label_created", _) => "已生成运单，尚未揽收".into(),
        (Language::Zh, "in_transit", Some(d)) => format!("正在运输中，预计{d}送达"),
        (Language::Zh, "in_transit", None) => "正在运输中".into(),
        (Language::Zh, "out_for_delivery", _) => "今天正在派送".into(),
        (Language::Zh, "delivered", Some(d)) => format!("已于{d}送达"),
        (Language::Zh, "delivered", None) => "已经送达".into(),
        (Language::Zh, "exception", _) => "配送出现问题，承运商正在处理".into(),
        (_, other, _) => other.replace('_', " "),
    }
}

impl Reply {
    /// The reply in `lang`.
    pub fn render(&self, lang: Language) -> String {
        match lang {
            Language::En => self.english(),
            Language::Zh => self.chinese(),
        }
    }

    fn english(&self) -> String {
        let en = Language::En;
        match self {
            Reply::Greeting { first_name: Some(n) } => {
                format!("Hello {}, thanks for calling. How can I help?", first_name(n))
            }
            Reply::Greeting { first_name: None } => {
                "Hello, thanks for calling. How can I help?".into()
            }
            Reply::Help => "I can help with your orders: I can look up orders and parcels, and handle returns, refunds, exchanges, cancellations, address changes and complaints. What can I do for you?".into(),
            Reply::Thanks => "You're welcome. Is there anything else I can do for you?".into(),
            Reply::AnythingElse => "Is there anything else I can do for you?".into(),
            Reply::Goodbye => "Thank you for calling. Goodbye!".into(),
            Reply::OffTopic => "I can help with your orders, deliveries, returns, refunds, exchanges and complaints. What can I do for you?".into(),
            Reply::NotUnderstood => "Sorry, I didn't quite get that. Could you say it another way?".into(),
            Reply::AskOrderId => "Which order is it about? Please tell me the six-digit order number.".into(),
            Reply::WhichOrder { orders } => {
                let list: Vec<String> = orders
                    .iter()
                    .map(|o| format!("{} from {} ({})", o.order_id, date(&o.placed, en), o.first_item))
                    .collect();
                format!("Which order do you mean? I see {}.", self::list(&list, en))
            }
            Reply::WhichItem { order_id, items: lines } => format!(
                "Which item on order {order_id} do you mean: {}?",
                items(lines, en)
            ),
            Reply::AskAddress => "Please tell me the full new address: street, city and ZIP code.".into(),
            Reply::AskScore => "How would you rate this call from 1 to 5?".into(),
            Reply::AskComplaint => "I'm sorry to hear that. What went wrong?".into(),
            Reply::NeedVerification { order_id: Some(id) } => format!(
                "I can help with order {id}. To protect your account, please tell me the ZIP code or e-mail address on the order."
            ),
            Reply::NeedVerification { order_id: None } => "I can help with that. To protect your account, please tell me your order number and the ZIP code or e-mail address on it.".into(),
            Reply::AskVerificationDetail { order_id } => format!(
                "Thanks. To confirm it's you, please tell me the ZIP code or e-mail address on order {order_id}."
            ),
            Reply::Verified { first_name: n } => {
                format!("Thank you, {}, you're verified.", first_name(n))
            }
            Reply::VerificationFailed => "Sorry, those details don't match our records.".into(),
            Reply::NotYourOrder { order_id } => format!(
                "Order {order_id} isn't on your account, so I can't discuss it."
            ),
            Reply::OrderStatus {
                order_id,
                placed,
                items: lines,
                total_cents,
                status,
                delivered_on,
            } => format!(
                "Order {order_id}, placed {}: {}, {} in total. {}",
                date(placed, en),
                items(lines, en),
                money(*total_cents, en),
                order_state(status, delivered_on.as_deref(), en)
            ),
            Reply::Tracking {
                carrier,
                tracking,
                status,
                eta,
                last_scan,
            } => {
                let mut text = format!(
                    "Your {carrier} parcel {tracking} {}.",
                    parcel_state(status, eta.as_deref(), en)
                );
                if let Some(scan) = last_scan {
                    text.push_str(&format!(" Last scan: {scan}."));
                }
                text
            }
            Reply::NotShipped { order_id } => format!("Order {order_id} has not shipped yet."),
            Reply::ConfirmCancel {
                order_id,
                items: lines,
                total_cents,
            } => format!(
                "Order {order_id}: {}, {}. Shall I cancel it? Please say yes or no.",
                items(lines, en),
                money(*total_cents, en)
            ),
            Reply::Cancelled {
                order_id,
                refund_cents,
            } => format!(
                "Order {order_id} is cancelled. Your refund of {} will go back to your original payment method.",
                money(*refund_cents, en)
            ),
            Reply::AlreadyCancelled { order_id } => {
                format!("Order {order_id} is already cancelled.")
            }
            Reply::TooLateToCancel { order_id, status } if status == "delivered" => format!(
                "Order {order_id} has already been delivered, so it can't be cancelled, but you can return it."
            ),
            Reply::TooLateToCancel { order_id, .. } => format!(
                "Order {order_id} has already shipped, so it can't be cancelled. You can return it once it arrives."
            ),
            Reply::ConfirmAddress {
                order_id,
                street,
                city,
                zip,
            } => format!(
                "The new address for order {order_id} would be {street}, {city} {zip}. Is that right? Please say yes or no."
            ),
            Reply::AddressChanged {
                order_id,
                street,
                city,
                zip,
            } => format!("Done: order {order_id} will go to {street}, {city} {zip}."),
            Reply::TooLateForAddress { order_id } => format!(
                "Order {order_id} has already shipped, so its address can't be changed."
            ),
            Reply::ConfirmReturn {
                order_id,
                item,
                refund_cents,
            } => format!(
                "You'd like to return {} from order {order_id} for a refund of {}. Shall I start the return? Please say yes or no.",
                items(std::slice::from_ref(item), en),
                money(*refund_cents, en)
            ),
            Reply::ReturnStarted {
                return_id,
                refund_cents,
            } => format!(
                "I've started return {return_id}. A prepaid return label is on its way to your e-mail, and your refund of {} follows once we receive the item.",
                money(*refund_cents, en)
            ),
            Reply::ReturnAlreadyOpen {
                order_id,
                item,
                return_id,
            } => format!(
                "A return for the {item} on order {order_id} is already open ({return_id}), so nothing more is needed."
            ),
            Reply::ReturnWindowClosed {
                order_id,
                closed_on,
            } => format!(
                "The 30-day return window for order {order_id} closed on {}.",
                date(closed_on, en)
            ),
            Reply::NotDelivered { order_id } => format!(
                "Order {order_id} hasn't been delivered yet. Once it arrives you have 30 days to return or exchange it."
            ),
            Reply::NotOnOrder { order_id } => {
                format!("I can't find that item on order {order_id}.")
            }
            Reply::AlreadyExchanged { item } => format!(
                "The {item} has already been exchanged, so it can't be returned or exchanged again."
            ),
            Reply::RefundStatus {
                order_id,
                amount_cents,
                state,
            } => {
                let state = match state.as_str() {
                    "issued" => "was issued",
                    "failed" => "could not be paid out; a colleague will contact you",
                    _ => "is pending",
                };
                format!(
                    "Your refund of {} for order {order_id} {state}.",
                    money(*amount_cents, en)
                )
            }
            Reply::NoRefund { order_id } => format!("There is no refund on order {order_id}."),
            Reply::ConfirmExchange {
                order_id,
                item,
                from,
                to,
            } => format!(
                "Exchange the {item} on order {order_id} from {from} to {to}? Please say yes or no."
            ),
            Reply::ExchangeArranged { exchange_id, to } => format!(
                "Done: exchange {exchange_id} is arranged. We'll send the {to} one once the original is on its way back; the return label is in your e-mail."
            ),
            Reply::ExchangeAlreadyOpen { exchange_id, to } => format!(
                "Exchange {exchange_id} to {to} is already arranged, so nothing more is needed."
            ),
            Reply::SameVariant { variant } => {
                format!("That item is already {variant}. Which one would you like instead?")
            }
            Reply::OutOfStock { variant, available } if available.is_empty() => {
                format!("Sorry, {variant} is out of stock, and no other option is available right now.")
            }
            Reply::OutOfStock { variant, available } => format!(
                "Sorry, {variant} is out of stock. In stock now: {}.",
                list(available, en)
            ),
            Reply::UnknownVariant { item, variants } if variants.is_empty() => {
                format!("The {item} comes in just one version, so there is nothing to exchange it for.")
            }
            Reply::UnknownVariant { item, variants } => format!(
                "The {item} comes in {}. Which would you like?",
                list(variants, en)
            ),
            Reply::ComplaintFiled { ticket } => format!(
                "I've filed your complaint as ticket {ticket}. Our customer-care team will contact you within two business days."
            ),
            Reply::Recommendations { products } => {
                let names: Vec<String> = products
                    .iter()
                    .map(|(name, cents)| format!("the {name} ({})", money(*cents, en)))
                    .collect();
                format!("Based on your orders, you might like {}.", list(&names, en))
            }
            Reply::NothingToRecommend => "I don't have a good suggestion from your orders yet.".into(),
            Reply::NeedVerificationForRecommendations => "I can suggest products from your past orders once I know who you are: please tell me an order number and the ZIP code or e-mail on it.".into(),
            Reply::Transferring => "I'm connecting you with a colleague now. I've passed on a summary so you won't need to repeat yourself.".into(),
            Reply::CallBack => "A colleague will get back to you about this. I've passed on a summary so you won't need to repeat yourself.".into(),
            Reply::SurveyRecorded { score } => format!("Thank you for rating us {score} out of 5."),
            Reply::Declined => "All right, I haven't changed anything. Is there anything else?".into(),
            Reply::SystemDown => "Sorry, I can't reach our order system right now.".into(),
            Reply::OnlyYourOwn => "I can't share anything about other customers, and my rules stay as they are. I can help with your orders, deliveries, returns, refunds, exchanges and complaints.".into(),
        }
    }

    fn chinese(&self) -> String {
        let zh = Language::Zh;
        match self {
            Reply::Greeting { first_name: Some(n) } => format!("{n}您好，感谢来电。请问有什么可以帮您？"),
            Reply::Greeting { first_name: None } => "您好，感谢来电。请问有什么可以帮您？".into(),
            Reply::Help => "我可以帮您查询订单和包裹，办理退货、退款、换货、取消订单、修改地址和投诉。请问需要什么帮助？".into(),
            Reply::Thanks => "不客气。还有什么可以帮您的吗？".into(),
            Reply::AnythingElse => "还有什么可以帮您的吗？".into(),
            Reply::Goodbye => "感谢您的来电，再见！".into(),
            Reply::OffTopic => "我可以帮您处理订单、配送、退货、退款、换货和投诉方面的问题。请问需要什么帮助？".into(),
            Reply::NotUnderstood => "抱歉，我没有听明白，您能换个说法吗？".into(),
            Reply::AskOrderId => "请问是哪个订单？请告诉我六位数的订单号。".into(),
            Reply::WhichOrder { orders } => {
                let list: Vec<String> = orders
                    .iter()
                    .map(|o| format!("{}下单的{}（{}）", date(&o.placed, zh), o.order_id, o.first_item))
                    .collect();
                format!("请问是哪个订单？您有：{}。", list.join("、"))
            }
            Reply::WhichItem { order_id, items: lines } => {
                format!("订单{order_id}里的哪件商品：{}？", items(lines, zh))
            }
            Reply::AskAddress => "请告诉我完整的新地址：街道、城市和邮编。".into(),
            Reply::AskScore => "请您为本次通话打分，1到5分。".into(),
            Reply::AskComplaint => "很抱歉给您带来不便。请问出了什么问题？".into(),
            Reply::NeedVerification { order_id: Some(id) } => format!(
                "我可以帮您处理订单{id}。为了保护您的账户，请告诉我订单上的邮编或电子邮箱。"
            ),
            Reply::NeedVerification { order_id: None } => "可以。为了保护您的账户，请告诉我订单号以及订单上的邮编或电子邮箱。".into(),
            Reply::AskVerificationDetail { order_id } => {
                format!("谢谢。请告诉我订单{order_id}上的邮编或电子邮箱，以确认您的身份。")
            }
            Reply::Verified { first_name: n } => format!("谢谢{n}，身份已确认。"),
            Reply::VerificationFailed => "抱歉，这些信息与我们的记录不符。".into(),
            Reply::NotYourOrder { order_id } => {
                format!("订单{order_id}不在您的账户下，我无法提供相关信息。")
            }
            Reply::OrderStatus {
                order_id,
                placed,
                items: lines,
                total_cents,
                status,
                delivered_on,
            } => format!(
                "订单{order_id}于{}下单：{}，共{}。{}",
                date(placed, zh),
                items(lines, zh),
                money(*total_cents, zh),
                order_state(status, delivered_on.as_deref(), zh)
            ),
            Reply::Tracking {
                carrier,
                tracking,
                status,
                eta,
                last_scan,
            } => {
                let mut text = format!(
                    "您的{carrier}包裹{tracking}{}。",
                    parcel_state(status, eta.as_deref(), zh)
                );
                if let Some(scan) = last_scan {
                    text.push_str(&format!("最近一次扫描：{scan}。"));
                }
                text
            }
            Reply::NotShipped { order_id } => format!("订单{order_id}还没有发货。"),
            Reply::ConfirmCancel {
                order_id,
                items: lines,
                total_cents,
            } => format!(
                "订单{order_id}：{}，{}。确定要取消吗？请回答是或否。",
                items(lines, zh),
                money(*total_cents, zh)
            ),
            Reply::Cancelled {
                order_id,
                refund_cents,
            } => format!(
                "订单{order_id}已取消。{}的退款将退回您的原支付方式。",
                money(*refund_cents, zh)
            ),
            Reply::AlreadyCancelled { order_id } => format!("订单{order_id}已经取消了。"),
            Reply::TooLateToCancel { order_id, status } if status == "delivered" => {
                format!("订单{order_id}已经送达，无法取消，但您可以办理退货。")
            }
            Reply::TooLateToCancel { order_id, .. } => {
                format!("订单{order_id}已经发货，无法取消。收到后可以办理退货。")
            }
            Reply::ConfirmAddress {
                order_id,
                street,
                city,
                zip,
            } => format!(
                "订单{order_id}的新地址是{street}，{city}，邮编{zip}。对吗？请回答是或否。"
            ),
            Reply::AddressChanged {
                order_id,
                street,
                city,
                zip,
            } => format!("好了：订单{order_id}将寄往{street}，{city}，邮编{zip}。"),
            Reply::TooLateForAddress { order_id } => {
                format!("订单{order_id}已经发货，无法修改地址。")
            }
            Reply::ConfirmReturn {
                order_id,
                item,
                refund_cents,
            } => format!(
                "您要退回订单{order_id}中的{}，退款{}。确定办理退货吗？请回答是或否。",
                items(std::slice::from_ref(item), zh),
                money(*refund_cents, zh)
            ),
            Reply::ReturnStarted {
                return_id,
                refund_cents,
            } => format!(
                "已为您办理退货{return_id}。预付费退货标签已发送到您的邮箱，我们收到商品后将退款{}。",
                money(*refund_cents, zh)
            ),
            Reply::ReturnAlreadyOpen {
                order_id,
                item,
                return_id,
            } => format!("订单{order_id}的{item}已经在办理退货（{return_id}），无需重复申请。"),
            Reply::ReturnWindowClosed {
                order_id,
                closed_on,
            } => format!(
                "订单{order_id}的30天退货期已于{}结束。",
                date(closed_on, zh)
            ),
            Reply::NotDelivered { order_id } => {
                format!("订单{order_id}还没有送达。送达后30天内可以退换货。")
            }
            Reply::NotOnOrder { order_id } => format!("订单{order_id}里没有这件商品。"),
            Reply::AlreadyExchanged { item } => format!("{item}已经换过货，不能再退换。"),
            Reply::RefundStatus {
                order_id,
                amount_cents,
                state,
            } => {
                let state = match state.as_str() {
                    "issued" => "已经退还",
                    "failed" => "未能退还，同事会联系您",
                    _ => "正在处理中",
                };
                format!(
                    "订单{order_id}的退款{}{state}。",
                    money(*amount_cents, zh)
                )
            }
            Reply::NoRefund { order_id } => format!("订单{order_id}没有退款记录。"),
            Reply::ConfirmExchange {
                order_id,
                item,
                from,
                to,
            } => format!(
                "把订单{order_id}的{item}从{from}换成{to}，对吗？请回答是或否。"
            ),
            Reply::ExchangeArranged { exchange_id, to } => format!(
                "好了：换货{exchange_id}已安排。原商品寄回后，我们会寄出{to}款；退货标签已发送到您的邮箱。"
            ),
            Reply::ExchangeAlreadyOpen { exchange_id, to } => {
                format!("换成{to}的换货{exchange_id}已经安排好了，无需重复申请。")
            }
            Reply::SameVariant { variant } => format!("这件商品已经是{variant}了。您想换成哪一款？"),
            Reply::OutOfStock { variant, available } if available.is_empty() => {
                format!("抱歉，{variant}缺货，目前没有其他可选款式。")
            }
            Reply::OutOfStock { variant, available } => {
                format!("抱歉，{variant}缺货。现有：{}。", list(available, zh))
            }
            Reply::UnknownVariant { item, variants } if variants.is_empty() => {
                format!("{item}只有一种款式，无法换货。")
            }
            Reply::UnknownVariant { item, variants } => {
                format!("{item}有{}。您要哪一款？", list(variants, zh))
            }
            Reply::ComplaintFiled { ticket } => format!(
                "您的投诉已登记，工单号{ticket}。客服团队会在两个工作日内与您联系。"
            ),
            Reply::Recommendations { products } => {
                let names: Vec<String> = products
                    .iter()
                    .map(|(name, cents)| format!("{name}（{}）", money(*cents, zh)))
                    .collect();
                format!("根据您的订单，您可能会喜欢：{}。", list(&names, zh))
            }
            Reply::NothingToRecommend => "根据您的订单，暂时没有合适的推荐。".into(),
            Reply::NeedVerificationForRecommendations => "确认您的身份后，我可以根据您的订单推荐商品：请告诉我订单号以及订单上的邮编或电子邮箱。".into(),
            Reply::Transferring => "正在为您转接人工客服。我已把情况摘要转给同事，您无需重复说明。".into(),
            Reply::CallBack => "稍后会有人工客服与您联系。我已把情况摘要转给同事，您无需重复说明。".into(),
            Reply::SurveyRecorded { score } => format!("感谢您打出{score}分（满分5分）。"),
            Reply::Declined => "好的，我没有做任何更改。还有其他需要吗？".into(),
            Reply::SystemDown => "抱歉，订单系统暂时无法连接。".into(),
            Reply::OnlyYourOwn => "我不能提供其他客户的任何信息，也不会改变服务规则。我可以帮您处理订单、配送、退货、退款、换货和投诉方面的问题。".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_rendered_in_both_languages() {
        let status = Reply::OrderStatus {
            order_id: "100042".into(),
            placed: "2026-11-20".into(),
            items: vec![ItemLine {
                qty: 1,
                name: "Wireless Headphones".into(),
                variant: "black".into(),
            }],
            total_cents: 7999,
            status: "delivered".into(),
            delivered_on: Some("2026-11-25".into()),
        };
        assert_eq!(
            status.render(Language::En),
            "Order 100042, placed November 20: 1 x Wireless Headphones (black), $79.99 in total. It was delivered on November 25."
        );
        assert_eq!(
            status.render(Language::Zh),
            "订单100042于11月20日下单：Wireless Headphones（black，1件），共79.99美元。已于11月25日送达。"
        );
        assert_eq!(money(5, Language::En), "$0.05");
        assert_eq!(date("garbage", Language::En), "garbage");
    }
}
